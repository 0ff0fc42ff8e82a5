/**
 * runtime/lab/bisect.ts and bisect-log.ts with fake predicates over the prefixes: the first
 * flip is found from either direction, skips are stepped around (and give git's list when
 * only skipped prefixes are left), custom terms name the ends, a saved log replays without
 * running its steps, and the real glue skips a series with unmet dependencies unrun.
 */
import assert from "node:assert/strict";
import {
  bisect,
  type BisectOptions,
  checkTerms,
  prefixTester,
  type Revision,
  roughSteps,
  seriesRevisions,
} from "../../runtime/lab/bisect.ts";
import { formatBisectLog, knownFromLog, parseBisectLog } from "../../runtime/lab/bisect-log.ts";
import { InputError } from "../../runtime/lab/input.ts";
import { seriesIds } from "../../runtime/lab/plugins.ts";
import { type Judgement, type RunFn, setProber, type Tested } from "../../runtime/lab/probe.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { judgementOfExit, scriptJudge } from "../../runtime/lab/script-judge.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

/** Thirteen revisions p0 … p12 (prefix 0 the oldest). */
const REVS: Revision[] = Array.from({ length: 13 }, (_, i) => ({
  prefix: i,
  id: `p${i}`,
  title: `patch ${i}`,
}));

/** A fake tester from a judgement per prefix; records which prefixes it tested. */
function fake(judge: (prefix: number) => Judgement) {
  const tested: number[] = [];
  const test = (prefix: number): Tested => {
    tested.push(prefix);
    const judgement = judge(prefix);
    return { judgement, verdict: `v${prefix}`, detail: `prefix ${prefix}: ${judgement}` };
  };
  return { tested, test };
}

const flipAt = (f: number, before: Judgement, after: Judgement) => (p: number): Judgement =>
  p >= f ? after : before;

Deno.test("bisect: the ends first (newest, then oldest), then the first flip, for every flip", async () => {
  for (let f = 1; f <= 12; f++) {
    const t = fake(flipAt(f, "bad", "good"));
    const res = await bisect({ revisions: REVS, test: t.test });
    assert.equal(res.status, "found", `flip at ${f}`);
    assert.equal(res.first?.id, `p${f}`);
    assert.deepEqual(res.candidates.map((r) => r.prefix), [f]);
    assert.deepEqual(
      res.terms,
      { old: "broken", new: "fixed" },
      "a series that fixes something: git's terms of a fix, old = broken, new = fixed",
    );
    assert.deepEqual(t.tested.slice(0, 2), [12, 0]);
    assert.equal(new Set(t.tested).size, t.tested.length, "no prefix tested twice");
    assert.ok(res.runs <= 2 + Math.ceil(Math.log2(12)), `flip at ${f}: ${res.runs} runs`);
    assert.equal(res.runs, t.tested.length);
    for (const s of res.steps) {
      assert.equal(s.term, s.prefix >= f ? "fixed" : "broken");
      assert.equal(s.judgement, s.prefix >= f ? "good" : "bad");
      assert.equal(s.verdict, `v${s.prefix}`);
      assert.equal(s.replayed, false);
    }
  }
});

Deno.test("bisect: a series that breaks something finds the first bad commit", async () => {
  const t = fake(flipAt(5, "good", "bad"));
  const events: string[] = [];
  const res = await bisect({
    revisions: REVS,
    test: t.test,
    onEvent: (e) =>
      events.push(
        e.kind === "bisecting" ? `bisecting ${e.left}/${e.roughSteps}` : `step ${e.step.prefix}`,
      ),
  });
  assert.equal(res.status, "found");
  assert.equal(res.first?.prefix, 5);
  assert.deepEqual(res.terms, { old: "good", new: "bad" }, "git's own terms: old is good");
  for (const s of res.steps) assert.equal(s.term, s.judgement);
  // 12 and 0, then 6 (the middle of 1…11: 5 on each side), then 3, then 4 or 5.
  assert.deepEqual(events.slice(0, 4), ["step 12", "step 0", "bisecting 5/3", "step 6"]);
  assert.deepEqual(t.tested.slice(0, 3), [12, 0, 6]);
});

Deno.test("bisect: ends that agree, and an end that is skipped, have no answer", async () => {
  const agree = await bisect({ revisions: REVS, test: fake(() => "bad").test });
  assert.equal(agree.status, "ends-agree");
  assert.equal(agree.first, undefined);
  assert.equal(agree.runs, 2);
  const skipped = await bisect({
    revisions: REVS,
    test: fake((p) => p === 12 ? "skip" : "bad").test,
  });
  assert.equal(skipped.status, "end-skipped");
  assert.equal(skipped.runs, 2);
});

Deno.test("bisect: skipped prefixes are stepped around, like git bisect skip", async () => {
  // A flip at 9; 6 is skipped (say its series would not build), so the search tests 5 or 7.
  const t = fake((p) => p === 6 ? "skip" : p >= 9 ? "good" : "bad");
  const res = await bisect({ revisions: REVS, test: t.test });
  assert.equal(res.status, "found");
  assert.equal(res.first?.prefix, 9);
  assert.equal(res.steps.find((s) => s.prefix === 6)?.term, "skip");
  assert.equal(t.tested[2], 6);
  assert.equal(t.tested[3], 5, "the untested prefix nearest the middle (ties: the older)");
});

Deno.test("bisect: only skipped prefixes left: the first could be any of them or the next", async () => {
  // A flip at 7, with 5 and 6 skipped (one would not build, one exits 125).
  const t = fake((p) => p === 5 || p === 6 ? "skip" : p >= 7 ? "good" : "bad");
  const res = await bisect({ revisions: REVS, test: t.test });
  assert.equal(res.status, "ambiguous");
  assert.equal(res.first, undefined);
  assert.deepEqual(res.candidates.map((r) => r.id), ["p5", "p6", "p7"]);
  assert.ok(t.tested.includes(4) && t.tested.includes(7), "the neighbours were tested");
});

Deno.test("bisect: custom terms name the oldest and the newest end", async () => {
  const t = fake(flipAt(3, "bad", "good"));
  const res = await bisect({
    revisions: REVS,
    test: t.test,
    terms: { old: "broken", new: "fixed" },
  });
  assert.equal(res.status, "found");
  assert.equal(res.first?.prefix, 3);
  assert.deepEqual(res.terms, { old: "broken", new: "fixed" });
  for (const s of res.steps) assert.equal(s.term, s.prefix >= 3 ? "fixed" : "broken");
  // Whatever the predicate says of them: the same terms when the series breaks something.
  const r2 = await bisect({
    revisions: REVS,
    test: fake(flipAt(3, "good", "bad")).test,
    terms: { old: "broken", new: "fixed" },
  });
  assert.equal(r2.steps.find((s) => s.prefix === 0)?.term, "broken");
  assert.equal(r2.steps.find((s) => s.prefix === 12)?.term, "fixed");
});

Deno.test("checkTerms: both or neither, different words, not skip", () => {
  assert.equal(checkTerms(), undefined);
  assert.deepEqual(checkTerms("broken", "fixed"), { old: "broken", new: "fixed" });
  for (const [a, b] of [["x", undefined], ["x", "x"], ["skip", "y"], ["a b", "c"]]) {
    assert.throws(() => checkTerms(a, b), InputError, `${a}/${b}`);
  }
});

Deno.test("roughSteps: tests needed to pick one of n + 1 answers", () => {
  assert.deepEqual([0, 1, 2, 3, 5, 7, 11].map(roughSteps), [0, 1, 2, 2, 3, 3, 4]);
});

/** A tester that fails the test if it is called for a prefix the log already has. */
function guarded(judge: (p: number) => Judgement, logged: Set<number>) {
  const t = fake(judge);
  return {
    tested: t.tested,
    test: (p: number) => {
      assert.ok(!logged.has(p), `prefix ${p} is in the log: it must not run again`);
      return t.test(p);
    },
  };
}

/** Bisects, saves the log, and returns what a replay needs. */
async function logged(opts: Omit<BisectOptions, "revisions">) {
  const res = await bisect({ revisions: REVS, ...opts });
  const text = formatBisectLog(
    { scenario: "default", with: ["bnx2-no-kdump-wait"] },
    res.terms,
    res.steps,
    REVS,
    res,
  );
  return { res, text };
}

Deno.test("bisect log: written as git bisect log writes it, and replayed without running anything", async () => {
  for (const terms of [undefined, { old: "before", new: "after" }]) {
    const judge = (p: number): Judgement => p === 6 ? "skip" : p >= 9 ? "good" : "bad";
    const { res, text } = await logged({ test: fake(judge).test, terms });
    // Default terms of a fix are broken/fixed: old is the oldest end, as git means it.
    const [o, n] = terms ? [terms.old, terms.new] : ["broken", "fixed"];
    assert.match(text, new RegExp(`^git bisect start '--term-old=${o}' '--term-new=${n}'$`, "m"));
    assert.match(
      text,
      new RegExp(
        `^# kdump-lab: prefix 12 of 12, v12 \\(good\\)\n# ${n}: \\[p12\\] patch 12\ngit bisect ${n} p12$`,
        "m",
      ),
    );
    assert.match(text, new RegExp(`^# ${o}: \\[p0\\] patch 0\ngit bisect ${o} p0$`, "m"));
    assert.match(text, /^git bisect skip p6$/m);
    assert.match(text, new RegExp(`^# first ${n} commit: \\[p9\\] patch 9$`, "m"));
    // Every line is a git bisect command or a comment: git bisect replay reads it.
    for (const line of text.trimEnd().split("\n")) assert.match(line, /^(#|git bisect \w)/);
    // The ends come first, and no old-term commit is newer than a new-term one.
    const marks = [...text.matchAll(/^git bisect (\S+) p(\d+)$/gm)].map((m) => [m[1], +m[2]]);
    assert.deepEqual(marks.slice(0, 2), [[n, 12], [o, 0]]);
    const newest = Math.max(...marks.filter((m) => m[0] === o).map((m) => m[1] as number));
    const oldest = Math.min(...marks.filter((m) => m[0] === n).map((m) => m[1] as number));
    assert.ok(newest < oldest, `${o} commits all older than ${n} ones`);
    const log = parseBisectLog(text);
    assert.deepEqual(log.options, { scenario: "default", with: ["bnx2-no-kdump-wait"] });
    assert.deepEqual(log.terms, { old: o, new: n });
    const known = knownFromLog(log, REVS);
    const never = guarded(judge, new Set(known.keys()));
    const again = await bisect({ revisions: REVS, test: never.test, terms: log.terms, known });
    assert.equal(again.runs, 0);
    assert.deepEqual(never.tested, []);
    assert.equal(again.first?.prefix, 9);
    assert.deepEqual(again.terms, res.terms);
    assert.deepEqual(
      again.steps.map((s) => [s.prefix, s.term, s.verdict, s.replayed]),
      res.steps.map((s) => [s.prefix, s.term, s.verdict, true]),
    );
  }
});

Deno.test("bisect log: a series that breaks something uses git's good/bad, no terms on the start line", async () => {
  const { res, text } = await logged({ test: fake(flipAt(5, "good", "bad")).test });
  assert.match(text, /^git bisect start$/m);
  assert.match(text, /^# bad: \[p12\] patch 12\ngit bisect bad p12$/m);
  assert.match(text, /^# good: \[p0\] patch 0\ngit bisect good p0$/m);
  assert.match(text, /^# first bad commit: \[p5\] patch 5$/m);
  // Without its kdump-lab comments (as git would keep it), good and bad still say it all.
  const bare = text.split("\n").filter((l) => !l.startsWith("# kdump-lab")).join("\n");
  const known = knownFromLog(parseBisectLog(bare), REVS);
  const again = await bisect({ revisions: REVS, test: fake(() => "skip").test, known });
  assert.equal(again.first?.prefix, res.first?.prefix);
  assert.equal(again.runs, 0);
});

Deno.test("bisect log: the earlier format (prefix numbers, good newer than bad) still replays", async () => {
  const earlier = [
    "# kdump-lab bisect log (replay it with: kdump-lab bisect replay FILE)",
    '# options: {"scenario":"default","with":["bnx2-no-kdump-wait"]}',
    "git bisect start 12 0",
    "# good: [12] p12 (v12)",
    "git bisect good 12",
    "# bad: [0] p0 (v0)",
    "git bisect bad 0",
    "# bad: [6] p6 (v6)",
    "git bisect bad 6",
  ].join("\n");
  const known = knownFromLog(parseBisectLog(earlier), REVS);
  assert.deepEqual([...known].map(([p, t]) => [p, t.judgement, t.verdict]), [
    [12, "good", "v12"],
    [0, "bad", "v0"],
    [6, "bad", "v6"],
  ]);
  const custom = "git bisect start --term-old=broken --term-new=fixed 12 0\n" +
    "# fixed: [12] p12 (good: v12)\ngit bisect fixed 12\n# broken: [0] p0 (bad: v0)\n" +
    "git bisect broken 0\n";
  const k2 = knownFromLog(parseBisectLog(custom), REVS);
  assert.deepEqual([...k2].map(([p, t]) => [p, t.judgement]), [[12, "good"], [0, "bad"]]);
  const g = guarded(flipAt(10, "bad", "good"), new Set(known.keys()));
  const res = await bisect({ revisions: REVS, test: g.test, known });
  assert.equal(res.first?.prefix, 10);
  assert.ok(g.tested.every((p) => p > 6));
});

Deno.test("bisect log: a partial log continues where it stopped", async () => {
  const judge = flipAt(4, "bad", "good");
  const { res } = await logged({ test: fake(judge).test });
  const partial = formatBisectLog({}, res.terms, res.steps.slice(0, 3), REVS);
  const known = knownFromLog(parseBisectLog(partial), REVS);
  assert.equal(known.size, 3);
  const g = guarded(judge, new Set(known.keys()));
  const again = await bisect({ revisions: REVS, test: g.test, known });
  assert.equal(again.first?.prefix, 4);
  assert.equal(again.runs, res.runs - 3);
  assert.deepEqual(again.steps.map((s) => s.prefix), res.steps.map((s) => s.prefix));
});

Deno.test("bisect log: hand-written logs, and the mistakes a replay refuses", async () => {
  const hand = "git bisect good 12\ngit bisect bad 0\ngit bisect bad 8\n";
  const known = knownFromLog(parseBisectLog(hand), REVS);
  const g = guarded(flipAt(11, "bad", "good"), new Set(known.keys()));
  const res = await bisect({ revisions: REVS, test: g.test, known });
  assert.equal(res.first?.prefix, 11);
  assert.ok(g.tested.every((p) => p > 8), "the search starts from the logged range");

  const refused = (text: string, re: RegExp) =>
    assert.throws(
      () => knownFromLog(parseBisectLog(text, "x.log"), REVS),
      (e) => e instanceof InputError && re.test(e.message),
    );
  refused("git bisect good 13\n", /out of range/);
  refused("git bisect good nosuchpatch\n", /"nosuchpatch" is not a revision/);
  refused("git bisect frob 3\n", /needs a start line/);
  refused("git bisect start --term-old=a --term-new=b 12 0\ngit bisect a 3\n", /does not say/);
  refused("git bisect good 3\ngit bisect bad 3\n", /marked both/);
  refused("hello\n", /line 1: expected "git bisect/);
  const contradiction = knownFromLog(
    parseBisectLog("git bisect good 12\ngit bisect bad 0\ngit bisect good 3\ngit bisect bad 7\n"),
    REVS,
  );
  await assert.rejects(
    bisect({ revisions: REVS, test: fake(() => "bad").test, known: contradiction }),
    (e) => e instanceof InputError && /contradict/.test(e.message),
  );
});

Deno.test("the real prefixes: 0 is the baseline, k the first k patches; unmet dependencies skip unrun", async () => {
  const revs = seriesRevisions();
  assert.deepEqual(revs.map((r) => r.id), ["baseline", ...seriesIds()]);
  assert.equal(revs[12].title, "iommu/amd: Disable iommu only if amd_iommu=off is specified");
  const seen: string[][] = [];
  const reports: Report[] = [];
  const spy: RunFn = (sc, o) => {
    seen.push((o.series as { enabledIds(): string[] }).enabledIds());
    assert.equal(o.force, undefined, "never forced");
    reports.push(run(sc, o));
    return reports.at(-1)!;
  };
  const test = prefixTester({ scenario: SCENARIOS.default, with: [], run: spy });
  const t3 = await test(3);
  assert.deepEqual(seen, [seriesIds().slice(0, 3)]);
  // Prefix 3 ends at revert-suppress-io-page-faults: nothing copies the old tables yet, so the
  // NIC's in-flight DMA corrupts the dump (and its one fault is logged again).
  assert.deepEqual(t3, {
    judgement: "bad",
    verdict: "dump-corrupt",
    detail: "dump-corrupt, 1 IO_PAGE_FAULT logged, 18 stray writes, 18 bad dump pages",
  });
  // The default predicate wants no IO_PAGE_FAULT as well: with the older bnx2 (no kdump wait)
  // the whole series dumps correctly but the NIC's faults are logged, which is bad.
  const t12 = await prefixTester({ scenario: SCENARIOS.default, with: ["bnx2-no-kdump-wait"] })(
    12,
  );
  assert.deepEqual(t12, {
    judgement: "bad",
    verdict: "dump-ok",
    detail: "dump-ok, 43 IO_PAGE_FAULT logged, 0 stray writes",
  });
  // copy-dev-tables without what it requires would not build: a skip, and run() simulates
  // nothing (an unforced run of it is skipped).
  const probe = setProber({ scenario: SCENARIOS.default, run: spy });
  const t = await probe(["copy-dev-tables"]);
  assert.deepEqual(t, {
    judgement: "skip",
    verdict: "skipped",
    detail:
      "would not build: copy-dev-tables requires detect-pre-enabled; copy-dev-tables requires dte-bit-fields",
  });
  assert.equal(seen.length, 2);
  assert.equal(reports[1].verdict, "skipped");
  assert.deepEqual([reports[1].timeline, reports[1].dmesg, reports[1].stats], [[], [], {}]);
});

Deno.test("--run scripts: git bisect run's exit codes; 128 and up abort", async () => {
  assert.deepEqual(
    [0, 1, 124, 125, 126, 127, 128, 129, 255, -1].map(judgementOfExit),
    ["good", "bad", "bad", "skip", "bad", "bad", undefined, undefined, undefined, undefined],
  );
  const report = run(SCENARIOS.default, {});
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `const r = JSON.parse(await new Response(Deno.stdin.readable).text());
Deno.exit(r.verdict === "dump-corrupt" ? 125 : 0);`,
    );
    assert.equal(await (await scriptJudge(script))(report), "skip");
    await Deno.writeTextFile(script, "Deno.exit(130);");
    await assert.rejects(
      Promise.resolve((await scriptJudge(script))(report)),
      (e) =>
        e instanceof InputError && /exited with 130/.test(e.message) &&
        /128 or more aborts/.test(e.message),
    );
  } finally {
    await Deno.remove(script);
  }
  await assert.rejects(scriptJudge("/nonexistent/pred.ts"), InputError);
});
