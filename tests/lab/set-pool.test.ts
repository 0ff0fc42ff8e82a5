/**
 * setPool: the sets of a search whose base series names a users' plugin file run in a sandbox
 * host, and give the reports the same sets give in this process (stepSeries over the base
 * built here), on several seeds; the enabled ids are the base's.
 */
import assert from "node:assert/strict";
import { seriesFromRecipe, type SeriesRecipe } from "../../runtime/lab/batch.ts";
import { seriesIds } from "../../runtime/lab/plugins.ts";
import { stepSeries } from "../../runtime/lab/probe.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { setPool } from "../../runtime/lab/set-pool.ts";

const FILE = new URL("../../examples/old-domain-ids.ts", import.meta.url).pathname;

Deno.test("setPool: sandboxed sets give the reports this process gives, seeds 1-3", async () => {
  const recipe: SeriesRecipe = {
    spec: "all",
    plugins: [{ file: FILE }],
    disable: ["dte-bit-fields"],
  };
  const base = await seriesFromRecipe(recipe);
  const ids = seriesIds();
  const sets = [ids, ids.slice(0, 6), []];
  const pool = await setPool({ scenario: SCENARIOS.default, recipe, workers: 2 });
  try {
    const seeds = [1, 2, 3];
    assert.deepEqual([...pool.enabled].sort(), base.enabledIds().sort());
    assert.ok(!pool.enabled.includes("dte-bit-fields"));
    for (const set of sets) {
      const there = await pool.run(set, seeds);
      assert.equal(there.length, seeds.length);
      for (const [i, seed] of seeds.entries()) {
        const here = run(SCENARIOS.default, { series: stepSeries(base, set), seed });
        assert.deepEqual(there[i], here, `seed ${seed}, set of ${set.length}`);
        assert.ok(there[i].series.includes(base.enabledIds().at(-1)!), `${there[i].series}`);
      }
    }
  } finally {
    pool.close();
  }
});
