/**
 * The README's sentences that state outcomes of the default scenario state them as rates over
 * seeds 1-100; this test measures those sweeps and checks each number the sentences quote
 * (README whitespace collapsed, so line wrapping does not matter).
 */
import assert from "node:assert/strict";
import { BatchPool } from "../../runtime/lab/batch.ts";
import { DEFAULT_JUDGE, meets } from "../../runtime/lab/judge.ts";
import { seriesIds } from "../../runtime/lab/plugins.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { summarise, type SweepResult } from "../../runtime/lab/sweep.ts";

const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);
const readme = (await Deno.readTextFile(new URL("../../README.md", import.meta.url)))
  .replace(/\s+/g, " ");

/** The sweep of `spec` on default, with only the first `prefix` patches of the series. */
async function sweep(spec: string, prefix?: number): Promise<SweepResult> {
  const pool = new BatchPool({ scenario: SCENARIOS.default, recipe: { spec } });
  try {
    const only = prefix === undefined ? undefined : seriesIds().slice(0, prefix);
    const res = await pool.run(SEEDS.map((seed) => ({ seed, ...(only ? { only } : {}) })));
    return summarise("default", [], res.map((r) => r.row));
  } finally {
    pool.close();
  }
}

const clean = (s: SweepResult) => s.runs.filter((r) => meets(DEFAULT_JUDGE, r)).length;
const has = (phrase: string) => assert.ok(readme.includes(phrase), `README says: ${phrase}`);

Deno.test("README 'What the demo shows': 4.13 strays on every seed, corrupts on some; 4.14 clean on every seed", async () => {
  const [none, all, old] = await Promise.all([
    sweep("none"),
    sweep("all"),
    sweep("all,bnx2-no-kdump-wait"),
  ]);
  const st = none.counters.strayWriteCount;
  assert.ok(st.min > 0, "a stray write on every seed");
  has(
    `${st.min}–${st.max} frames (median ${st.median}) land in the crashed kernel's memory on every one of the 100 seeds`,
  );
  const c = none.rates["dump-corrupt"]!;
  assert.ok(none.seedsByVerdict["dump-corrupt"]!.includes(1));
  has(
    `on ${c.count} of 100 seeds (95 % interval ${Math.round(c.low * 100)}–${
      Math.round(c.high * 100)
    } %; seed 1 is one)`,
  );
  has(`on the other ${none.verdicts["dump-ok"]} they hit pages it leaves out`);
  assert.equal(clean(all), 100);
  has(`the dump is clean — no IO_PAGE_FAULT, no stray write — on ${clean(all)} of 100 seeds`);
  const f = old.counters.ioPageFaults;
  assert.ok(f.min > 0);
  has(`${f.min}–${f.max} IO_PAGE_FAULTs logged (median ${f.median}) on each of 100 seeds`);
});

Deno.test("README 'Bisecting the series': prefixes 0-5 stray on every seed, 6-11 panic on every seed, 12 clean", async () => {
  const [p0, p1, p2, p3, p4, p5, p6, p11, p12] = await Promise.all([
    sweep("all", 0),
    sweep("all", 1),
    sweep("all", 2),
    sweep("all", 3),
    sweep("all", 4),
    sweep("all", 5),
    sweep("all", 6),
    sweep("all", 11),
    sweep("all", 12),
  ]);
  // Prefixes 1-5 stray and dump as the baseline does, seed by seed (from prefix 3 they log
  // the faults SA hid).
  const writes = (s: SweepResult) => s.runs.map((r) => [r.verdict, r.strayWriteCount]);
  for (const [k, p] of [p1, p2, p3, p4, p5].entries()) {
    assert.deepEqual(writes(p), writes(p0), `prefix ${k + 1}`);
  }
  const st = p0.counters.strayWriteCount;
  assert.ok(st.min > 0);
  has(
    `prefixes 0–5 send ${st.min}–${st.max} DMA writes (median ${st.median}) into the crashed kernel's memory on every seed, which corrupts the dump on ${
      p0.verdicts["dump-corrupt"]
    } of 100`,
  );
  assert.deepEqual(p6.verdicts, { panic: 100 });
  assert.deepEqual(p11.verdicts, { panic: 100 });
  has("prefixes 6–11 panic in the kdump kernel's timer check on 100 of 100");
  assert.equal(clean(p12), 100);
  has(
    "only the whole series is clean — dump correct, no IO_PAGE_FAULT, no stray write — on 100 of 100",
  );
});
