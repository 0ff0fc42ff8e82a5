/**
 * Writes the golden reports of one source tree: `run --json` of every built-in scenario ×
 * seeds × series, one file per case (see `cases.ts`), exactly the bytes `lab run --json`
 * prints. The tree is imported through its public API (`mod.ts`: `run`, `SCENARIOS`,
 * `seriesFromSpec`), so an older revision checked out elsewhere can be measured by the
 * newer script:
 *
 *   deno run -A --config ROOT/deno.json tools/golden/reports.ts ROOT OUT_DIR [SEEDS] [SERIES]
 *
 * SEEDS is a seed list as `lab matrix --seeds` takes it (`20` is seeds 1..20, `1..5,9`; default
 * `1..20`), SERIES a `:`-separated list of series specs (default `none:all`).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseSeeds } from "../../runtime/lab/seeds.ts";
import { caseKey, goldenCases } from "./cases.ts";

interface TreeApi {
  run(scenario: unknown, opts: { seed: number; series: unknown }): unknown;
  SCENARIOS: Record<string, unknown>;
  seriesFromSpec(spec: string): unknown;
}

if (import.meta.main) {
  const [root, out, seeds = "1..20", series = "none:all"] = Deno.args;
  if (!root || !out) {
    console.error("usage: reports.ts ROOT OUT_DIR [SEEDS] [SERIES]");
    Deno.exit(2);
  }
  const api = await import(pathToFileURL(join(resolve(root), "mod.ts")).href) as TreeApi;
  Deno.mkdirSync(out, { recursive: true });
  const cases = goldenCases(Object.keys(api.SCENARIOS), parseSeeds(seeds), series.split(":"));
  const built = new Map<string, unknown>();
  for (const c of cases) {
    let s = built.get(c.series);
    if (!s) built.set(c.series, s = api.seriesFromSpec(c.series));
    const report = api.run(api.SCENARIOS[c.scenario], { seed: c.seed, series: s });
    Deno.writeTextFileSync(join(out, `${caseKey(c)}.json`), JSON.stringify(report, null, 2) + "\n");
  }
  console.log(`${cases.length} reports in ${out}`);
}
