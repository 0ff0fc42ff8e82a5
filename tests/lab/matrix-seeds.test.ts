/**
 * A matrix over seeds (`matrix --seeds`): run i is set ⌊i / S⌋ on the (i mod S)-th seed; each
 * line is run()'s outcome for that set and seed; the JSONL does not depend on the workers and
 * shards merge back byte for byte; a set counts as dump-ok only when every seed is.
 */
import assert from "node:assert/strict";
import { MatrixPlan } from "../../runtime/lab/matrix.ts";
import { formatJsonl, mergeJsonl } from "../../runtime/lab/matrix-jsonl.ts";
import { runMatrix } from "../../runtime/lab/matrix-pool.ts";
import { perSet, summarize } from "../../runtime/lab/matrix-summary.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const PATCHES = ["copy-old-trans-table", "disable-only-if-off"];
const WITH = ["detect-pre-enabled", "helper-functions", "dte-bit-fields", "copy-dev-tables"];
const SEEDS = [1, 2, 3, 4, 5, 6];
const config = {
  scenario: SCENARIOS.default,
  seeds: SEEDS,
  mode: "full" as const,
  patches: PATCHES,
  with: WITH,
};

Deno.test("MatrixPlan over seeds: every set on each seed, in set order", () => {
  const plan = new MatrixPlan("full", PATCHES, [7, 9]);
  assert.equal(plan.sets, 4);
  assert.equal(plan.size, 8);
  assert.deepEqual(plan.runs().map((r) => [r.ids.length, r.seed]), [
    [0, 7],
    [0, 9],
    [1, 7],
    [1, 9],
    [1, 7],
    [1, 9],
    [2, 7],
    [2, 9],
  ]);
  assert.equal(new MatrixPlan("full", PATCHES).at(1).seed, undefined, "one seed: no seed field");
});

Deno.test("matrix over seeds 1-6: each line is run()'s outcome for its set and seed; workers and shards do not change the bytes", async () => {
  const whole = await runMatrix(config, { workers: 0 });
  assert.equal(whole.header.seeds, "1..6");
  assert.equal(whole.lines.length, 4 * SEEDS.length);
  for (const l of whole.lines) {
    const r = run(SCENARIOS.default, {
      series: seriesFromSpec([...WITH, ...l.ids].join(",")),
      seed: l.seed,
    });
    assert.equal(l.verdict, r.verdict, `#${l.index} seed ${l.seed}`);
    assert.equal(l.strayWriteCount, r.strayWriteCount, `#${l.index} seed ${l.seed}`);
  }
  const text = formatJsonl(whole.header, whole.lines);
  const two = await runMatrix(config, { workers: 2 });
  assert.equal(formatJsonl(two.header, two.lines), text);
  const shards = await Promise.all(
    [1, 2, 3].map((k) => runMatrix(config, { workers: 0, shard: { k, n: 3 } })),
  );
  const merged = mergeJsonl(shards.map((f, i) => ({
    name: `s${i}`,
    text: formatJsonl(f.header, f.lines),
  })));
  assert.equal(formatJsonl(merged.header, merged.lines), text);
  // Summary and the page's cells: a set is dump-ok only when every seed is.
  const s = summarize(whole.header, whole.lines);
  assert.deepEqual(s.smallestOk?.sets, [PATCHES]);
  const sets = perSet(whole.lines);
  assert.equal(sets.length, 4);
  const baseline = sets.find((c) => c.ids.length === 0)!;
  // Without the copy the NIC writes stray on every seed; the dump is corrupt on some (seed 1).
  assert.ok(
    whole.lines.filter((l) => l.mask === baseline.mask).every((l) => l.strayWriteCount > 0),
  );
  assert.equal(baseline.verdict, "mixed");
  assert.match(
    baseline.cause!,
    /dump-ok \d\/6, dump-corrupt \d\/6|dump-corrupt \d\/6, dump-ok \d\/6/,
  );
});
