/**
 * Searches over seeds: bisect, minimize and ablate with --seeds run every step on each seed
 * (in workers) and judge it over all of them; the default judge is clean (dump-ok, no
 * IO_PAGE_FAULT logged, no stray DMA write), so the 4.13 baseline's stray writes make it bad
 * on every seed. Expected runs are checked against run() in this process.
 */
import assert from "node:assert/strict";
import { run } from "../../runtime/lab/run.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { lab, ok } from "./lab-kit.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

interface Step {
  prefix: number;
  id: string;
  verdict: string;
  judgement: string;
  detail: string;
}

Deno.test("bisect --seeds 20: each step judged over 20 seeds; the same answer with 1 and 2 workers; the log replays it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-seeds-" });
  try {
    const [one, two] = await Promise.all([
      lab(["bisect", "--seeds", "20", "--workers", "1", "--json", "--log", `${dir}/b.log`]),
      lab(["bisect", "--seeds", "1..20", "--workers", "2", "--json"]),
    ]);
    const a = JSON.parse(ok(one, "bisect --workers 1").stdout);
    const b = JSON.parse(ok(two, "bisect --workers 2").stdout);
    assert.deepEqual(a.steps, b.steps, "the workers do not change the steps");
    assert.equal(a.first, "disable-only-if-off");
    assert.deepEqual(a.seeds, "1..20");
    // The baseline: bad on every seed, and the mechanism is the stray writes of each run.
    const base = (a.steps as Step[]).find((s) => s.prefix === 0)!;
    assert.equal(base.judgement, "bad");
    assert.match(base.detail, /clean on 0\/20 seeds/);
    const counts = [...base.verdict.matchAll(/([a-z-]+):(\d+)\/20/g)];
    assert.equal(counts.reduce((n, m) => n + Number(m[2]), 0), 20, base.verdict);
    for (const seed of SEEDS) {
      const r = run(SCENARIOS.default, { series: seriesFromSpec("none"), seed });
      assert.ok(r.strayWriteCount > 0, `seed ${seed}: the baseline writes stray`);
    }
    // The whole series: clean on each of the 20 seeds.
    const whole = (a.steps as Step[]).find((s) => s.prefix === 12)!;
    assert.equal(whole.verdict, "dump-ok:20/20");
    assert.match(whole.detail, /clean on 20\/20 seeds/);
    // The log keeps the seeds; its replay runs nothing and answers the same.
    const text = await Deno.readTextFile(`${dir}/b.log`);
    assert.equal(JSON.parse(/^# options: (.*)$/m.exec(text)![1]).seeds, "1..20");
    const replay = JSON.parse(
      ok(await lab(["bisect", "replay", `${dir}/b.log`, "--json"]), "replay").stdout,
    );
    assert.equal(replay.first, a.first);
    assert.equal(replay.runs, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bisect --seed 2 with the older bnx2: the baseline's stray writes make it bad (they used to count as good)", async () => {
  const out = await lab(["bisect", "--seed", "2", "--with", "bnx2-no-kdump-wait", "--json"]);
  assert.equal(out.code, 2, out.stderr);
  const res = JSON.parse(out.stdout);
  const base = (res.steps as Step[]).find((s) => s.prefix === 0)!;
  const r = run(SCENARIOS.default, { series: seriesFromSpec("bnx2-no-kdump-wait"), seed: 2 });
  assert.equal(r.verdict, "dump-ok");
  assert.ok(r.strayWriteCount > 0);
  assert.equal(base.judgement, "bad");
  assert.match(base.detail, new RegExp(`^dump-ok, .*${r.strayWriteCount} stray writes`));
  // --judge dump-ok+no-fault is the old predicate: the baseline is good again.
  const old = JSON.parse(
    (await lab([
      "bisect",
      "--seed",
      "2",
      "--with",
      "bnx2-no-kdump-wait",
      "--judge",
      "dump-ok+no-fault",
      "--json",
    ])).stdout,
  );
  assert.equal((old.steps as Step[]).find((s) => s.prefix === 0)!.judgement, "good");
});

Deno.test("minimize --seeds and ablate --seeds: sets judged over the seeds; rows carry each verdict's count", async () => {
  const [m, a] = await Promise.all([
    lab(["minimize", "--seeds", "10", "--json", "--quiet"]),
    lab(["ablate", "--seeds", "10", "--json", "--quiet"]),
  ]);
  const min = JSON.parse(ok(m, "minimize --seeds").stdout);
  assert.equal(min.status, "minimized");
  // The minimal set is clean on every one of the 10 seeds (checked here, run by run).
  for (const seed of SEEDS.slice(0, 10)) {
    const r = run(SCENARIOS.default, { series: seriesFromSpec(min.set.join(",")), seed });
    assert.equal(r.verdict, "dump-ok", `seed ${seed}`);
    assert.equal(r.strayWriteCount + r.events.IO_PAGE_FAULT, 0, `seed ${seed}`);
  }
  const rows = JSON.parse(ok(a, "ablate --seeds").stdout) as {
    id: string;
    sweep?: { seeds: number[]; verdicts: Record<string, number>; clean: number };
    strayWriteCount: number;
    changes: string[];
  }[];
  const off = rows.find((r) => r.id === "disable-only-if-off")!;
  assert.deepEqual(off.sweep!.seeds, SEEDS.slice(0, 10));
  assert.deepEqual(off.sweep!.verdicts, { panic: 10 });
  assert.equal(off.sweep!.clean, 0);
  assert.ok(off.changes.some((c) => c.startsWith("verdicts dump-ok:10/10 → panic:10/10")));
  assert.equal(rows[0].sweep!.clean, 10, "the whole series is clean on every seed");
});
