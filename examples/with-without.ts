/**
 * Runs a scenario with the series and without one patch, and prints what changes.
 *
 *   deno run -A examples/with-without.ts [patch-id] [scenario]
 *   deno run -A examples/with-without.ts copy-old-trans-table default
 */
import { differences, outcomeOf, run, SCENARIOS, SERIES_IDS, seriesFromSpec } from "../mod.ts";

const [id = "amd-use-attach-deferred", scenario = "no-dma-api-driver"] = Deno.args;
if (!SERIES_IDS.includes(id) || !SCENARIOS[scenario]) {
  console.error(
    `usage: with-without.ts [${SERIES_IDS.join("|")}] [${Object.keys(SCENARIOS).join("|")}]`,
  );
  Deno.exit(2);
}
const full = seriesFromSpec("all");
const a = outcomeOf(run(SCENARIOS[scenario], { series: full }));
const b = outcomeOf(run(SCENARIOS[scenario], { series: full.clone().disable(id), force: true }));
console.log(`${scenario}, all:                    ${a.verdict}`);
console.log(`${scenario}, without ${id}: ${b.verdict}`);
for (const d of differences(a, b)) console.log(`  - ${d}`);
if (!differences(a, b).length) console.log("  (no observable difference)");
