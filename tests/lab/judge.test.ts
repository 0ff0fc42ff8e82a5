/** Judges over sweeps (runtime/lab/judge.ts): criteria, rates, skips. */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";
import {
  DEFAULT_JUDGE,
  judgeRuns,
  judgeSpecText,
  judgeText,
  parseJudge,
} from "../../runtime/lab/judge.ts";
import type { SweepRun } from "../../runtime/lab/sweep.ts";

const run = (o: Partial<SweepRun> = {}): SweepRun => ({
  seed: 1,
  verdict: "dump-ok",
  ioPageFaults: 0,
  faultsSuppressed: 0,
  faultsPrinted: 0,
  strayWriteCount: 0,
  badPages: 0,
  ...o,
});

Deno.test("parseJudge: clean, parts joined with +, and a rate", () => {
  assert.deepEqual(parseJudge("clean"), DEFAULT_JUDGE);
  assert.deepEqual(parseJudge("dump-ok+no-fault"), { parts: ["dump-ok", "no-fault"], atLeast: 1 });
  assert.deepEqual(parseJudge(" dump-ok >= 99 % "), { parts: ["dump-ok"], atLeast: 0.99 });
  assert.deepEqual(parseJudge("clean>=95%").atLeast, 0.95);
  assert.equal(judgeText(DEFAULT_JUDGE), "clean (dump-ok, no-fault, no-stray) on every seed");
  assert.equal(judgeText(parseJudge("dump-ok>=99.5%")), "dump-ok on at least 99.5% of seeds");
  for (const bad of ["nice", "dump-ok>=0%", "dump-ok>=101%", "dump-ok>=", "clean+x"]) {
    assert.throws(() => parseJudge(bad), InputError, bad);
  }
});

Deno.test("judgeRuns: clean wants every run correct, without faults or strays; a rate lets some fail; not run is a skip", () => {
  const good = [1, 2, 3].map((seed) => run({ seed }));
  assert.equal(judgeRuns(DEFAULT_JUDGE, good), "good");
  assert.equal(judgeRuns(DEFAULT_JUDGE, [...good, run({ strayWriteCount: 1 })]), "bad");
  assert.equal(judgeRuns(DEFAULT_JUDGE, [...good, run({ ioPageFaults: 2 })]), "bad");
  assert.equal(judgeRuns(DEFAULT_JUDGE, [run({ verdict: "boot-ok" })]), "good", "a kexec reboot");
  // 99 of 100 dump-ok meets dump-ok>=99% (and not >=99.5%).
  const runs = Array.from(
    { length: 100 },
    (_, i) => run({ seed: i + 1, verdict: i === 0 ? "dump-corrupt" : "dump-ok" }),
  );
  assert.equal(judgeRuns(parseJudge("dump-ok>=99%"), runs), "good");
  assert.equal(judgeRuns(parseJudge("dump-ok>=99.5%"), runs), "bad");
  assert.equal(judgeRuns(DEFAULT_JUDGE, [run({ verdict: "skipped" })]), "skip");
  assert.equal(judgeRuns(parseJudge("no-stray"), [run({ verdict: "hang" })]), "good");
});

Deno.test("judgeSpecText: what parseJudge reads back to the same judge", () => {
  for (const spec of ["clean", "dump-ok", "no-fault+no-stray", "clean>=95%", "dump-ok>=99.5%"]) {
    const j = parseJudge(spec);
    assert.equal(judgeSpecText(j), spec);
    assert.deepEqual(parseJudge(judgeSpecText(j)), j);
  }
  assert.equal(judgeSpecText(parseJudge("no-stray+dump-ok+no-fault")), "clean");
});
