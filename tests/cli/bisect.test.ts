/**
 * `bisect`, `minimize` and `ablate` end to end: spawns `deno run -A runtime/cli/main.ts` from
 * the repository root the way `deno task lab` does. Expected answers are computed in-process
 * with run() over the prefixes (never guessed); the spawns of one test run in parallel.
 */
import assert from "node:assert/strict";
import { builtinPlugins, seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { errorLine, lab, ok, type Output, spawnLab } from "./lab-kit.ts";

/** The JSON a command printed (exit 0 expected). */
function jsonOf<T>(out: Output, what: string): T {
  return JSON.parse(ok(out, what).stdout) as T;
}

/** Asserts exit 2 with one stderr line that matches `re`. */
function usageError(out: Output, re: RegExp, what: string): void {
  const line = errorLine(out, what);
  assert.match(line, /^kdump-lab: /);
  assert.match(line, re, what);
}

/** The reports of prefixes 0…12 of the series on the default scenario. */
function prefixReports(): Report[] {
  const ids = seriesIds();
  return ids.concat([""]).map((_, k) =>
    run(SCENARIOS.default, {
      series: seriesFromSpec(ids.slice(0, k).join(",") || "none"),
    })
  );
}

/** The default predicate, written out independently of the lab's. */
const good = (r: Report) => r.verdict === "dump-ok" && r.events.IO_PAGE_FAULT === 0;

interface BisectJson {
  status: string;
  first: string | null;
  firstPrefix: number | null;
  terms: { old: string; new: string } | null;
  candidates: string[];
  steps: {
    prefix: number;
    id: string;
    term: string;
    verdict: string;
    judgement: string;
    replayed: boolean;
  }[];
  runs: number;
  with: string[];
}

/** `s` as a literal in a regular expression. */
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Replays a bisect log with git itself, in a throw-away repository whose commits are tagged
 * with the revisions' ids (baseline, then the patches), and checks git names `firstId` as
 * the first commit with the new term. Skipped when git is not installed.
 */
async function gitReplays(text: string, firstId: string): Promise<void> {
  const repo = await Deno.makeTempDir({ prefix: "kdump-lab-git-" });
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args: ["-C", repo, ...args],
      env: {
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.invalid",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
  };
  try {
    if ((await git("init", "-q")).code !== 0) return; // no git here
    for (const id of ["baseline", ...seriesIds()]) {
      assert.equal((await git("commit", "-q", "--allow-empty", "-m", id)).code, 0);
      assert.equal((await git("tag", id)).code, 0);
    }
    await Deno.writeTextFile(`${repo}/.git/kdump.log`, text);
    const r = await git("bisect", "replay", ".git/kdump.log");
    assert.equal(r.code, 0, r.out);
    const sha = (await git("rev-parse", `${firstId}^{commit}`)).out.trim();
    assert.match(r.out, new RegExp(`^${sha} is the first fixed commit$`, "m"), r.out);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // no git here
    throw e;
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
}

/** A temporary predicate script; the caller removes it. */
async function script(body: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-pred-", suffix: ".ts" });
  await Deno.writeTextFile(
    path,
    `const r = JSON.parse(await new Response(Deno.stdin.readable).text());\n${body}\n`,
  );
  return path;
}

Deno.test("bisect: the patch where the model's predicate flips", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-bisect-" });
  const log = `${dir}/bisect.log`;
  try {
    const [json, human] = await Promise.all([
      lab(["bisect", "--json"]),
      lab(["bisect", "--log", log]),
    ]);
    const reports = prefixReports();
    const verdicts = reports.map(good);
    const flips = verdicts.flatMap((v, k) => k > 0 && v !== verdicts[k - 1] ? [k] : []);
    assert.equal(flips.length, 1, `one flip in ${verdicts}`);
    const k = flips[0];
    const firstId = seriesIds()[k - 1];
    // git's terms: old = the oldest end's, new = the newest end's; a fix is broken → fixed.
    const term = (g: boolean) => verdicts[12] ? (g ? "fixed" : "broken") : (g ? "good" : "bad");

    const b = jsonOf<BisectJson>(json, "bisect --json");
    assert.equal(b.status, "found");
    assert.equal(b.first, firstId);
    assert.equal(b.firstPrefix, k);
    assert.deepEqual(b.candidates, [firstId]);
    assert.deepEqual(b.terms, { old: term(verdicts[0]), new: term(verdicts[12]) });
    assert.deepEqual(b.with, []);
    assert.deepEqual(b.steps.slice(0, 2).map((s) => s.prefix), [12, 0], "the ends first");
    assert.equal(b.runs, b.steps.length);
    assert.ok(b.steps.length <= 6, `${b.steps.length} steps for 13 revisions`);
    for (const s of b.steps) {
      assert.equal(s.id, s.prefix === 0 ? "baseline" : seriesIds()[s.prefix - 1]);
      assert.equal(s.verdict, reports[s.prefix].verdict, `prefix ${s.prefix}`);
      assert.equal(s.term, term(verdicts[s.prefix]), `prefix ${s.prefix}`);
    }

    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trimEnd().split("\n");
    const newest = builtinPlugins().get(seriesIds()[11])!;
    assert.equal(lines[0], `[${newest.id}] ${newest.title}`, "git's [commit] subject");
    assert.match(
      human.stdout,
      /^Bisecting: \d+ revisions? left to test after this \(roughly \d+ steps?\)$/m,
    );
    assert.ok(lines.includes(`${firstId} is the first ${term(verdicts[12])} commit`), human.stdout);

    // The log, as git bisect log writes it: git's comment and command per step, the ids as
    // revisions; kdump-lab's comment says the run's verdict. A replay runs nothing.
    const text = await Deno.readTextFile(log);
    assert.match(text, /^git bisect start '--term-old=broken' '--term-new=fixed'$/m);
    const titles = builtinPlugins();
    for (const s of b.steps) {
      const title = s.prefix === 0 ? "the 4.13 baseline" : titles.get(s.id)!.title;
      const j = verdicts[s.prefix] ? "good" : "bad";
      assert.ok(
        text.includes(
          `# kdump-lab: prefix ${s.prefix} of 12, ${s.verdict} (${j})\n# ${s.term}: [${s.id}] ${title}`,
        ),
        `step ${s.prefix} in\n${text}`,
      );
      assert.match(text, new RegExp(`^git bisect ${s.term} ${s.id}$`, "m"));
    }
    const f = titles.get(firstId)!;
    assert.match(
      text,
      new RegExp(`^# first fixed commit: \\[${firstId}\\] ${escape(f.title)}$`, "m"),
    );
    await gitReplays(text, firstId);
    const replay = jsonOf<BisectJson>(await lab(["bisect", "replay", log, "--json"]), "replay");
    assert.equal(replay.first, firstId);
    assert.equal(replay.runs, 0);
    assert.deepEqual(replay.with, [], "the log's --with");
    assert.ok(replay.steps.every((s) => s.replayed));
    assert.deepEqual(
      replay.steps.map((s) => [s.prefix, s.term]),
      b.steps.map((s) => [s.prefix, s.term]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bisect --run script.ts: exit 0 good, 125 skip, 1 bad; 128+ aborts", async () => {
  const strict = await script(`Deno.exit(r.verdict === "dump-ok" ? 0 : 1);`);
  const skippy = await script(
    `console.log("seen", r.verdict);\nDeno.exit(r.verdict === "dump-ok" ? 0 : r.verdict === "panic" ? 125 : 1);`,
  );
  const abort = await script(`Deno.exit(129);`);
  try {
    const [s, k, a, custom] = await Promise.all([
      lab(["bisect", "--run", strict, "--json"]),
      lab(["bisect", "--run", skippy, "--json"]),
      lab(["bisect", "--run", abort]),
      lab([
        "bisect",
        "--term-old",
        "broken",
        "--term-new",
        "fixed",
        "--json",
      ]),
    ]);
    const reports = prefixReports();
    // The whole series dumps: the terms of a fix, broken (old) and fixed (new).
    const cls = (r: Report) => r.verdict === "dump-ok" ? "fixed" : "broken";
    const skipCls = (r: Report) =>
      r.verdict === "dump-ok" ? "fixed" : r.verdict === "panic" ? "skip" : "broken";

    // exit 0 / 1: the flip of "verdict is dump-ok".
    const sj = jsonOf<BisectJson>(s, "--run strict");
    const first = sj.firstPrefix!;
    assert.equal(sj.status, "found");
    assert.equal(cls(reports[first]), cls(reports[12]));
    assert.notEqual(cls(reports[first - 1]), cls(reports[12]));
    for (const st of sj.steps) assert.equal(st.term, cls(reports[st.prefix]));

    // exit 125 on "panic": those prefixes are skipped; the answer is git's.
    const kj = jsonOf<BisectJson>(k, "--run skippy");
    assert.match(k.stderr, /^seen dump-ok$/m, "the script's stdout goes to stderr");
    for (const st of kj.steps) {
      assert.equal(st.term, skipCls(reports[st.prefix]), `prefix ${st.prefix}`);
      assert.equal(st.verdict, reports[st.prefix].verdict);
    }
    const prefixOf = (id: string) => id === "baseline" ? 0 : seriesIds().indexOf(id) + 1;
    const cand = kj.candidates.map(prefixOf);
    const last = cand.at(-1)!;
    assert.equal(skipCls(reports[last]), "fixed", "the last candidate has the new term");
    assert.equal(
      skipCls(reports[cand[0] - 1]),
      "broken",
      "the one before the candidates has the old term",
    );
    for (const p of cand.slice(0, -1)) assert.equal(skipCls(reports[p]), "skip");
    assert.deepEqual(
      cand,
      Array.from({ length: cand.length }, (_, i) => cand[0] + i),
      "contiguous",
    );
    assert.equal(kj.status, cand.length > 1 ? "ambiguous" : "found");
    assert.ok(kj.steps.some((st) => st.term === "skip"), "this scenario has panics to skip");

    usageError(a, /exited with 129.*128 or more aborts/, "--run exit 129");

    const cj = jsonOf<BisectJson>(custom, "custom terms");
    assert.deepEqual(cj.terms, { old: "broken", new: "fixed" });
    assert.ok(
      cj.steps.every((st) =>
        st.term === (good(reports[st.prefix]) === good(reports[12]) ? "fixed" : "broken")
      ),
    );
    assert.equal(cj.first, seriesIds()[cj.firstPrefix! - 1]);
  } finally {
    for (const f of [strict, skippy, abort]) await Deno.remove(f);
  }
});

Deno.test("bisect: bad input and ends that agree exit 2 with one line", async () => {
  const [agree, unknown, oneTerm, noLog, action, logDir] = await Promise.all([
    lab(["bisect", "--with", "bnx2-no-kdump-wait"]), // the older bnx2 logs faults: both ends bad
    lab(["bisect", "--with", "nope"]),
    lab(["bisect", "--term-old", "broken"]),
    lab(["bisect", "replay", "/nonexistent/bisect.log"]),
    lab(["bisect", "frobnicate"]),
    lab(["bisect", "--log", "/nonexistent/dir/bisect.log"]),
  ]);
  const ends = [
    run(SCENARIOS.default, { series: seriesFromSpec("bnx2-no-kdump-wait") }),
    run(SCENARIOS.default, { series: seriesFromSpec("all,bnx2-no-kdump-wait") }),
  ];
  assert.equal(good(ends[0]), good(ends[1]), "the model: both ends agree with the older bnx2");
  usageError(agree, /nothing to bisect: both ends are bad/, "ends agree");
  usageError(unknown, /--with: unknown plugin "nope"/, "--with nope");
  usageError(oneTerm, /give both --term-old and --term-new/, "one term");
  usageError(
    noLog,
    /bisect log \/nonexistent\/bisect.log: cannot read it: no such file$/,
    "no log",
  );
  usageError(action, /frobnicate.*Allowed choices are replay/, "action");
  usageError(
    logDir,
    /: --log \/nonexistent\/dir\/bisect\.log: cannot write it: no such directory$/,
    "--log in a missing directory",
  );
});

Deno.test("minimize --json: a good set whose every one-smaller subset is not", async () => {
  const out = await lab(["minimize", "--json"]);
  const m = jsonOf<{
    status: string;
    set: string[];
    runs: number;
    cacheHits: number;
    unresolved: number;
    tests: { cached: boolean; outcome: string }[];
  }>(
    out,
    "minimize",
  );
  assert.equal(m.status, "minimized");
  assert.deepEqual(m.set, seriesIds().filter((id) => m.set.includes(id)), "series order");
  // ddmin over 12 patches on this scenario, as measured: 131 sets looked at.
  assert.deepEqual([m.runs, m.cacheHits, m.unresolved], [23, 55, 53]);
  assert.equal(m.tests.length, m.runs + m.cacheHits + m.unresolved, "every test counted once");
  assert.equal(m.tests.filter((t) => t.cached).length, m.cacheHits);
  assert.equal(m.tests.filter((t) => !t.cached && t.outcome === "unresolved").length, m.unresolved);
  const runSet = (ids: string[]) =>
    run(SCENARIOS.default, { series: seriesFromSpec(ids.join(",") || "none") });
  assert.ok(good(runSet(m.set)), `${m.set} is good`);
  for (const id of m.set) {
    const smaller = m.set.filter((x) => x !== id);
    const r = runSet(smaller);
    assert.ok(!good(r), `without ${id}: ${r.verdict} (skipped counts as not good)`);
  }
});

Deno.test("ablate --json: a list, the whole series first (id none), then each patch left out", async () => {
  const [json, table] = await Promise.all([
    lab(["ablate", "--json", "--verbose"]),
    lab(["ablate"]),
  ]);
  const rows = jsonOf<{ id: string; verdict: string; changes: string[] }[]>(json, "ablate --json");
  assert.ok(Array.isArray(rows));
  assert.equal(rows[0].id, "none");
  assert.deepEqual(rows.slice(1).map((r) => r.id), seriesIds());
  assert.equal(
    rows[0].verdict,
    run(SCENARIOS.default, { series: seriesFromSpec("all") }).verdict,
  );
  for (const r of rows.slice(1)) {
    const direct = run(SCENARIOS.default, {
      series: seriesFromSpec("all").disable(r.id),
    });
    assert.equal(r.verdict, direct.verdict, r.id);
  }
  // --verbose: a line per row on stderr; without it (stderr not a terminal) nothing.
  assert.deepEqual(
    json.stderr.trimEnd().split("\n"),
    rows.map((r, i) =>
      `ablate ${i + 1}/13: ${i ? `without ${r.id}` : "the whole series"}: ${r.verdict}`
    ),
  );
  assert.equal(table.code, 0, table.stderr);
  assert.equal(table.stderr, "");
  assert.match(table.stdout, /none \(whole series\)/);
  for (const id of ["copy-old-trans-table", "disable-only-if-off"]) {
    assert.match(table.stdout, new RegExp(id));
  }
  // The table's cells: verdict and counters of the run without the patch, as run() gives them.
  const cells = (label: string) =>
    table.stdout.split("\n").find((l) => l.startsWith(`│ ${label} `))?.split("│").slice(1, 6)
      .map((c) => c.trim());
  const counters = (r: Report) => [
    r.verdict,
    `${r.events.IO_PAGE_FAULT}/${r.faultsPrinted}/${r.faultsSuppressed}`,
    String(r.strayWriteCount),
    String(r.dump?.badPages ?? 0),
  ];
  const whole = run(SCENARIOS.default, { series: seriesFromSpec("all") });
  assert.deepEqual(cells("none (whole series)"), ["none (whole series)", ...counters(whole)]);
  const without = (id: string) =>
    run(SCENARIOS.default, { series: seriesFromSpec("all").disable(id) });
  const verdicts = { "copy-old-trans-table": "dump-corrupt", "disable-only-if-off": "panic" };
  for (const [id, verdict] of Object.entries(verdicts)) {
    const direct = counters(without(id));
    assert.equal(direct[0], verdict, `the model: without ${id}`);
    assert.deepEqual(cells(id), [id, ...direct]);
  }
  assert.deepEqual(cells("detect-pre-enabled"), ["detect-pre-enabled", "skipped", "-", "-", "-"]);
});

Deno.test("ablate (colours forced): boot-ok is styled as a success, not as a failure", async () => {
  const out = ok(
    await spawnLab(["ablate", "--scenario", "kexec-iommu-on"], { env: { FORCE_COLOR: "1" } }),
    "ablate --scenario kexec-iommu-on",
  );
  const whole = run(SCENARIOS["kexec-iommu-on"], { series: seriesFromSpec("all") });
  assert.equal(whole.verdict, "boot-ok", "the model: a plain kexec boots");
  const row = out.stdout.split("\n").find((l) => l.includes("none (whole series)"))!;
  assert.ok(row.includes("\x1b[32m"), `green: ${JSON.stringify(row)}`);
  assert.equal(row.includes("\x1b[31m"), false, `not red: ${JSON.stringify(row)}`);
});
