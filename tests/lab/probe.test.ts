/**
 * setProber over seeds: a set runs on every seed and is judged over all of them — by the
 * criterion (clean by default: a stray write on one seed makes the set bad), or by a report
 * predicate whose answers combine (any bad → bad, all good → good, else skip).
 */
import assert from "node:assert/strict";
import type { Series } from "../../runtime/plugin/mod.ts";
import { parseJudge } from "../../runtime/lab/judge.ts";
import {
  combineJudgements,
  defaultJudge,
  type RunFn,
  setProber,
  verdictsWord,
} from "../../runtime/lab/probe.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const real = run(SCENARIOS.default, { series: undefined, seed: 1 });

/** A fake run: dump-ok, no fault; seed 3 has one stray write and seed 4 a corrupt dump. */
const fake: RunFn = (_sc, o) => {
  const seed = o.seed ?? 1;
  const seen = (o.series as Series).enabledIds();
  return {
    ...real,
    seed,
    series: seen,
    verdict: seed === 4 ? "dump-corrupt" : "dump-ok",
    events: { ...real.events, IO_PAGE_FAULT: 0 },
    strayWriteCount: seed === 3 ? 1 : 0,
  } as Report;
};

Deno.test("setProber --seeds: judged over every seed; the first seed that fails is named", async () => {
  const probe = setProber({ scenario: SCENARIOS.default, seeds: [1, 2, 3, 4, 5], run: fake });
  const t = await probe(["detect-pre-enabled"]);
  assert.equal(t.judgement, "bad");
  assert.equal(t.verdict, "dump-ok:4/5,dump-corrupt:1/5");
  assert.match(
    t.detail,
    /clean on 3\/5 seeds \(not on seed 3: dump-ok, 0 IO_PAGE_FAULT logged, 1 stray writes/,
  );
  const lenient = setProber({
    scenario: SCENARIOS.default,
    seeds: [1, 2, 3, 4, 5],
    run: fake,
    criterion: parseJudge("dump-ok>=80%"),
  });
  assert.equal((await lenient(["detect-pre-enabled"])).judgement, "good");
  const strict = setProber({
    scenario: SCENARIOS.default,
    seeds: [1, 2, 3, 4, 5],
    run: fake,
    criterion: parseJudge("dump-ok>=90%"),
  });
  assert.equal((await strict(["detect-pre-enabled"])).judgement, "bad");
  // Seeds 1 and 2 only: clean on both.
  const two = setProber({ scenario: SCENARIOS.default, seeds: [1, 2], run: fake });
  assert.equal((await two([])).judgement, "good");
});

Deno.test("setProber with a report predicate over seeds: any bad is bad, all good is good, else skip", async () => {
  const answers: Record<number, "good" | "bad" | "skip"> = { 1: "good", 2: "skip", 3: "good" };
  const probe = setProber({
    scenario: SCENARIOS.default,
    seeds: [1, 2, 3],
    run: fake,
    judge: (r) => answers[r.seed],
  });
  assert.equal((await probe([])).judgement, "skip");
  answers[2] = "good";
  assert.equal((await probe([])).judgement, "good");
  answers[3] = "bad";
  assert.equal((await probe([])).judgement, "bad");
  assert.equal(combineJudgements(["skip", "bad"]), "bad");
  assert.equal(combineJudgements([]), "good");
});

Deno.test("defaultJudge is clean: a dump-ok run with a stray write is bad", () => {
  assert.equal(
    defaultJudge({ ...real, verdict: "dump-ok", strayWriteCount: 0 }),
    real.events.IO_PAGE_FAULT ? "bad" : "good",
  );
  assert.equal(
    defaultJudge({
      ...real,
      verdict: "dump-ok",
      strayWriteCount: 2,
      events: { ...real.events, IO_PAGE_FAULT: 0 },
    }),
    "bad",
  );
  assert.equal(verdictsWord([real]), real.verdict);
});
