/** The bench comparison (tools/bench-compare): reading figure lines, the side-by-side table, bad arguments. */
import assert from "node:assert/strict";
import { compareLines, parseFigures } from "../../tools/bench-compare/figures.ts";

/** What `deno bench` printed, colours and Deno's bench-name prefix included. */
const OUTPUT = [
  "\x1b[0m\x1b[38;5;245mcpu: AMD EPYC\x1b[0m",
  "figure: one default run, in process (median over seeds 1-20): 4.13 7.29 ms, series 8.79 ms",
  "\x1b[38;5;245mmatrix: 2^12 subsets, default:\x1b[0m figure: matrix: 4096 runs in 2.62 s",
  "matrix: 2^12 subsets, default: figure: matrix: 4096 runs in 2.83 s",
  "| run default (4.13 baseline) | 6.8 ms | 146.6 |",
  "",
].join("\n");

Deno.test("bench-compare: figure lines are found anywhere in a line, colours stripped, in order", () => {
  assert.deepEqual(parseFigures(OUTPUT), [
    {
      name: "one default run, in process (median over seeds 1-20)",
      text: "4.13 7.29 ms, series 8.79 ms",
    },
    { name: "matrix", text: "4096 runs in 2.62 s" },
    { name: "matrix", text: "4096 runs in 2.83 s" },
  ]);
  assert.deepEqual(parseFigures("| bench | 1 ms |\nno figures here\n"), []);
});

Deno.test("bench-compare: each figure, then each tree's rounds side by side; a figure one tree lacks says so", () => {
  const trees = ["HEAD (abc)", "this tree"];
  const lines = compareLines(trees, [
    { tree: "HEAD (abc)", round: 1, figures: [{ name: "copy", text: "8.5 ms" }] },
    {
      tree: "this tree",
      round: 1,
      figures: [{ name: "copy", text: "7.7 ms" }, { name: "sweep", text: "700 ms" }],
    },
    { tree: "HEAD (abc)", round: 2, figures: [{ name: "copy", text: "8.1 ms" }] },
    {
      tree: "this tree",
      round: 2,
      figures: [{ name: "copy", text: "7.9 ms" }, { name: "sweep", text: "790 ms" }],
    },
  ]);
  assert.deepEqual(lines, [
    "copy",
    "  HEAD (abc)  8.5 ms | 8.1 ms",
    "  this tree   7.7 ms | 7.9 ms",
    "sweep",
    "  HEAD (abc)  (not printed)",
    "  this tree   700 ms | 790 ms",
  ]);
});

/** Runs the tool; its exit code and stderr. */
async function tool(...args: string[]): Promise<{ code: number; stderr: string }> {
  const main = new URL("../../tools/bench-compare/main.ts", import.meta.url);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main.pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
}

Deno.test("bench-compare: bad arguments, an unknown bench or revision exit 2 with one line, before any bench runs", async () => {
  const cases: [string[], RegExp][] = [
    [["--rounds", "0"], /--rounds: "0" is not a whole number from 1 to 20/],
    [["--rounds"], /--rounds needs a value/],
    [["--frobnicate"], /unknown option --frobnicate/],
    [["HEAD", "extra"], /unexpected argument extra/],
    [["--bench", "nope"], /--bench: no bench nope in tests\/bench \(there are .*copy.*\)/],
    [["no-such-revision", "--bench", "copy"], /no-such-revision/],
  ];
  for (const [args, why] of cases) {
    const r = await tool(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    assert.doesNotMatch(r.stderr, /round \d/, "no bench ran");
  }
});

Deno.test("worktree: a revision's detached worktree exists while the function runs and is gone after, even when it throws", async () => {
  const { resolveCommit, withWorktree, git } = await import("../../tools/kit.ts");
  const { commit } = await resolveCommit("HEAD");
  assert.match(commit ?? "", /^[0-9a-f]{40}$/);
  let seen = "";
  await withWorktree(commit!, "kdump-lab-test-", async (tree) => {
    seen = tree;
    assert.ok(Deno.statSync(`${tree}/deno.json`).isFile);
    assert.equal(await git(["rev-parse", "HEAD"], tree), commit);
  });
  assert.throws(() => Deno.statSync(seen));
  await assert.rejects(
    withWorktree(commit!, "kdump-lab-test-", (tree) => {
      seen = tree;
      return Promise.reject(new Error("inside"));
    }),
    /inside/,
  );
  assert.throws(() => Deno.statSync(seen));
  assert.doesNotMatch(await git(["worktree", "list"]), /kdump-lab-test-/);
  assert.deepEqual(await resolveCommit("no-such-revision"), {
    why: "git rev-parse --verify no-such-revision^{commit}: fatal: Needed a single revision",
  });
});

Deno.test("parseRevArgs: one revision (default HEAD), options with values, one-line refusals", async () => {
  const { parseRevArgs } = await import("../../tools/kit.ts");
  const got: string[] = [];
  const opts = { "--seeds": (v: string) => void got.push(v) };
  assert.equal(parseRevArgs([], opts), "HEAD");
  assert.equal(parseRevArgs(["--seeds", "1-5", "v1.0"], opts), "v1.0");
  assert.deepEqual(got, ["1-5"]);
  assert.throws(() => parseRevArgs(["--seeds"], opts), /^Error: --seeds needs a value$/);
  assert.throws(
    () => parseRevArgs(["--toString", "x"], opts),
    /^Error: unknown option --toString$/,
  );
  assert.throws(() => parseRevArgs(["a", "b"], opts), /^Error: unexpected argument b$/);
});

Deno.test("parseToolArgs: options with values, flags without, the rest in order; one-line refusals", async () => {
  const { parseToolArgs } = await import("../../tools/kit.ts");
  const got: string[] = [];
  const opts = { "--seeds": (v: string) => void got.push(`seeds ${v}`) };
  const flags = { "--force": () => void got.push("force") };
  assert.deepEqual(parseToolArgs(["a", "--force", "--seeds", "1..3", "b"], opts, flags), [
    "a",
    "b",
  ]);
  assert.deepEqual(got, ["force", "seeds 1..3"]);
  assert.throws(() => parseToolArgs(["--force"], opts), /^Error: unknown option --force$/);
  assert.throws(() => parseToolArgs(["--seeds"], opts, flags), /^Error: --seeds needs a value$/);
});
