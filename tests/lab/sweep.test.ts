/**
 * Sweeps (runtime/lab/sweep.ts, sweep-run.ts, batch.ts): rates with Wilson intervals,
 * spreads, seeds by verdict; the same result whatever the number of workers; each row is what
 * run() reports for that seed.
 */
import assert from "node:assert/strict";
import { BatchPool } from "../../runtime/lab/batch.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { spread, summarise, sweepRun, wilson } from "../../runtime/lab/sweep.ts";
import { runSweep } from "../../runtime/lab/sweep-run.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";

Deno.test("wilson: the 95 % score interval, inside [0, 1] at the edges", () => {
  assert.deepEqual(wilson(0, 20), { count: 0, of: 20, rate: 0, low: 0, high: 0.1611 });
  assert.deepEqual(wilson(20, 20), { count: 20, of: 20, rate: 1, low: 0.8389, high: 1 });
  assert.deepEqual(wilson(97, 100), { count: 97, of: 100, rate: 0.97, low: 0.9155, high: 0.9897 });
  assert.deepEqual(spread([5, 1, 3, 2]), { min: 1, median: 2, max: 5 });
  assert.deepEqual(spread([]), { min: 0, median: 0, max: 0 });
});

Deno.test("summarise: counts, rates and seeds of each verdict, counters spread, runs in seed order", () => {
  const row = (seed: number, verdict: "dump-ok" | "hang", strays: number) => ({
    seed,
    verdict,
    ioPageFaults: 0,
    faultsSuppressed: 0,
    faultsPrinted: 0,
    strayWriteCount: strays,
    badPages: 0,
  });
  const r = summarise("x", ["a"], [row(3, "hang", 9), row(1, "dump-ok", 0), row(2, "dump-ok", 4)]);
  assert.deepEqual(r.seeds, [1, 2, 3]);
  assert.deepEqual(r.verdicts, { "dump-ok": 2, hang: 1 });
  assert.deepEqual(r.seedsByVerdict, { "dump-ok": [1, 2], hang: [3] });
  assert.equal(r.rates.hang!.rate, 0.3333);
  assert.deepEqual(r.counters.strayWriteCount, { min: 0, median: 4, max: 9 });
});

const CONFIG = { scenario: SCENARIOS.default, recipe: { spec: "none" } };
const SEEDS = [1, 2, 3, 4, 5, 6];

Deno.test("runSweep: the same bytes in this thread and in 2 or 3 workers; each row is run()'s report for its seed", async () => {
  const inline = JSON.stringify(await runSweep(CONFIG, SEEDS, { workers: 0 }));
  for (const workers of [2, 3]) {
    assert.equal(JSON.stringify(await runSweep(CONFIG, SEEDS, { workers })), inline, `${workers}`);
  }
  const r = JSON.parse(inline);
  assert.deepEqual(r.seeds, SEEDS);
  for (const row of r.runs) {
    assert.deepEqual(row, sweepRun(run(SCENARIOS.default, { seed: row.seed })));
  }
  // 4.13 leaves stray writes on every seed.
  assert.ok(r.counters.strayWriteCount.min > 0);
});

Deno.test("BatchPool: jobs that apply only some patches; kept workers run later batches; results in job order", async () => {
  const pool = new BatchPool({ scenario: SCENARIOS.default, recipe: { spec: "all" } }, {
    workers: 2,
  });
  try {
    const jobs = [
      { seed: 3, only: [] },
      { seed: 1, only: undefined },
      { seed: 2, only: ["detect-pre-enabled"] },
    ];
    const first = await pool.run(jobs);
    const second = await pool.run(jobs.slice().reverse());
    assert.deepEqual(second.map((r) => r.row.seed), [2, 1, 3]);
    assert.deepEqual(first.map((r) => r.row.seed), [3, 1, 2]);
    assert.deepEqual(first[0].series, []);
    assert.equal(first[1].series.length, 12);
    assert.deepEqual(first[2].series, ["detect-pre-enabled"]);
    const direct = run(SCENARIOS.default, {
      seed: 2,
      series: seriesFromSpec("detect-pre-enabled"),
    });
    assert.deepEqual(first[2].row, sweepRun(direct));
  } finally {
    pool.close();
  }
});
