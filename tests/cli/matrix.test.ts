/**
 * `kdump-lab matrix` and `matrix merge` end to end on a small restricted matrix (three
 * patches, 8 runs): the JSON summary, the JSONL (the same with 1 or 2 workers), shards
 * merged back (byte for byte the unsharded JSONL), progress on stderr only, and bad input
 * (one line, exit 2). Spawns `deno run -A runtime/cli/main.ts` from the repository root.
 */
import assert from "node:assert/strict";
import { formatJsonl } from "../../runtime/lab/matrix-jsonl.ts";
import { runMatrix } from "../../runtime/lab/matrix-pool.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { lab, ok, usage } from "./lab-kit.ts";

const PATCHES = "copy-dev-tables,copy-old-trans-table,disable-only-if-off";
const SMALL = ["matrix", "--patches", PATCHES, "--with", "bnx2-no-kdump-wait"];

Deno.test("matrix --json: 8 runs of three patches, summarised", async () => {
  const out = ok(await lab([...SMALL, "--json"]), "--json");
  const j = JSON.parse(out.stdout);
  assert.equal(j.runs, 8);
  assert.deepEqual(j.matrix.patches, PATCHES.split(","));
  assert.deepEqual(j.matrix.with, ["bnx2-no-kdump-wait"]);
  assert.equal(j.matrix.runs, 8);
  assert.equal(j.summary.runs, 8);
  // Only "no patch" builds: each patch alone or together lacks detect-pre-enabled & co.
  assert.equal(j.summary.verdicts["dump-corrupt"], 1);
  assert.equal(j.summary.verdicts.skipped, 7);
  assert.equal(j.summary.smallestOk, null);
  assert.deepEqual(j.summary.patches[0], {
    id: "copy-dev-tables",
    okWith: 0,
    okWithout: 0,
    ranWith: 0,
    ranWithout: 1,
  });
  assert.equal(j.results, undefined, "results only with --results");
  // Progress went to stderr, as plain lines (not a terminal), ending at 8/8.
  assert.equal(out.stderr.trimEnd().split("\n").at(-1), "matrix: 8/8 runs");
});

Deno.test("matrix --jsonl: the same bytes with 1 and 2 workers, and as the library writes", async () => {
  const [one, two, quiet] = await Promise.all([
    lab([...SMALL, "--jsonl", "--workers", "1"]),
    lab([...SMALL, "--jsonl", "--workers", "2"]),
    lab([...SMALL, "--jsonl", "--quiet"]),
  ]);
  ok(one, "--workers 1");
  ok(two, "--workers 2");
  ok(quiet, "--quiet");
  assert.equal(two.stdout, one.stdout);
  assert.equal(quiet.stdout, one.stdout);
  assert.equal(quiet.stderr, "", "--quiet: no progress");
  const rows = one.stdout.trimEnd().split("\n");
  assert.equal(rows.length, 9);
  assert.deepEqual(rows.map((r) => Object.keys(JSON.parse(r))[0]), [
    "matrix",
    ...Array(8).fill("index"),
  ]);
  assert.equal(
    rows[1],
    '{"index":0,"mask":0,"ids":[],"verdict":"dump-corrupt","ioPageFaults":0,"faultsPrinted":0,' +
      '"faultsSuppressed":32,"strayWriteCount":18,"badPages":18,' +
      '"cause":"18 page(s) of the dump differ from memory at the panic"}',
  );
  assert.match(rows[8], /"index":7,"mask":2096,.*"verdict":"skipped"/);
  const f = await runMatrix({
    scenario: SCENARIOS.default,
    mode: "full",
    patches: PATCHES.split(","),
    with: ["bnx2-no-kdump-wait"],
  }, { workers: 0 });
  assert.equal(one.stdout, formatJsonl(f.header, f.lines));
});

Deno.test("matrix --shard 1/2 and 2/2, then merge: the unsharded JSONL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-matrix-" });
  try {
    const [whole, s1, s2] = await Promise.all([
      lab([...SMALL, "--jsonl"]),
      lab([...SMALL, "--shard", "1/2"]),
      lab([...SMALL, "--shard", "2/2", "--out", `${dir}/b.jsonl`]),
    ]);
    ok(whole, "whole");
    ok(s1, "shard 1/2");
    ok(s2, "shard 2/2");
    const indices = (text: string) =>
      text.trimEnd().split("\n").slice(1).map((r) => JSON.parse(r).index);
    assert.deepEqual(indices(s1.stdout), [0, 2, 4, 6]);
    assert.match(s1.stdout.split("\n")[0], /"runs":8,"shard":"1\/2"\}\}$/);
    assert.deepEqual(indices(await Deno.readTextFile(`${dir}/b.jsonl`)), [1, 3, 5, 7]);
    assert.match(s2.stdout, /shard 2\/2: 4 of 8 runs/, "with --out: the shard's table");
    await Deno.writeTextFile(`${dir}/a.jsonl`, s1.stdout);

    const [merged, toFile, json, missing, twice] = await Promise.all([
      lab(["matrix", "merge", `${dir}/b.jsonl`, `${dir}/a.jsonl`, "--jsonl"]),
      lab(["matrix", "merge", `${dir}/a.jsonl`, `${dir}/b.jsonl`, "--out", `${dir}/m.jsonl`]),
      lab(["matrix", "merge", `${dir}/a.jsonl`, `${dir}/b.jsonl`, "--json", "--results"]),
      lab(["matrix", "merge", `${dir}/a.jsonl`]),
      lab(["matrix", "merge", `${dir}/a.jsonl`, `${dir}/b.jsonl`, `${dir}/b.jsonl`]),
    ]);
    assert.equal(ok(merged, "merge --jsonl").stdout, whole.stdout);
    assert.equal(ok(toFile, "merge --out").stderr, `wrote ${dir}/m.jsonl\n`);
    assert.equal(await Deno.readTextFile(`${dir}/m.jsonl`), whole.stdout);
    assert.match(toFile.stdout, /^scenario default, seed 1: every subset of 3 patches \(8 runs\)/);
    assert.match(toFile.stdout, /\nverdicts {2}dump-corrupt 1, skipped 7\n/);
    const j = JSON.parse(ok(json, "merge --json").stdout);
    assert.equal(j.runs, 8);
    assert.equal(j.results.length, 8);
    assert.equal(j.matrix.shard, undefined);
    usage(missing, /^kdump-lab: matrix merge: cannot merge: missing run indices 1, 3, 5, 7$/);
    usage(twice, /^kdump-lab: matrix merge: cannot merge: duplicate run indices 1, 3, 5, 7$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("matrix: bad input is one line and exit 2", async () => {
  const outs = await Promise.all([
    lab([...SMALL, "--shard", "3/2"]),
    lab([...SMALL, "--shard", "x"]),
    lab(["matrix", "--patches", "copy-dev-tables,nope"]),
    lab(["matrix", "--with", "nope"]),
    lab([...SMALL, "--with", "copy-dev-tables"]),
    lab([...SMALL, "--workers", "0"]),
    lab([...SMALL, "--shard", "1/2", "--json"]),
    lab([...SMALL, "--jsonl", "--out", "x.jsonl"]),
    lab(["matrix", "merge", "/nonexistent/x.jsonl"]),
    lab([...SMALL, "--quiet", "--out", "/nonexistent/dir/m.jsonl"]),
  ]);
  const expected = [
    /^kdump-lab: matrix: option '--shard <k\/n>' argument '3\/2' is invalid\. .*k must be between 1 and n/,
    /^kdump-lab: matrix: .*shard "x" is not k\/n/,
    /^kdump-lab: matrix: unknown patch "nope" \(patches: detect-pre-enabled, /,
    /^kdump-lab: matrix: unknown plugin "nope" \(known: /,
    /^kdump-lab: matrix: --with: "copy-dev-tables" is toggled by the matrix/,
    /^kdump-lab: matrix: option '--workers <n>' argument '0' is invalid/,
    /^kdump-lab: matrix: --json needs --out FILE with --shard/,
    /^kdump-lab: matrix: option '--jsonl' cannot be used with option '--out <file>'/,
    /^kdump-lab: matrix merge: \/nonexistent\/x\.jsonl: cannot read it: no such file$/,
    /^kdump-lab: matrix: --out \/nonexistent\/dir\/m\.jsonl: cannot write it: no such directory$/,
  ];
  outs.forEach((out, i) => usage(out, expected[i]));
});

Deno.test("matrix reuse: stderr says how many runs got an earlier run's line; --no-reuse simulates each, same stdout", async () => {
  const args = [
    "matrix",
    "--patches",
    "detect-pre-enabled,sanity-check-old-dte",
    "--with",
    "helper-functions,dte-bit-fields",
    "--force",
    "--jsonl",
    "--workers",
    "1",
  ];
  const [reused, plain] = await Promise.all([lab(args), lab([...args, "--no-reuse"])]);
  ok(reused, "reuse");
  ok(plain, "--no-reuse");
  assert.equal(reused.stdout, plain.stdout);
  // The check alone never reaches its point (no copy): it is the first set's run again, and
  // detection with the check is detection's.
  assert.match(
    reused.stderr,
    /^matrix: 2 of 4 runs got the line of an earlier run whose plugins looked the same wherever it reached \(--no-reuse simulates each\)$/m,
  );
  assert.doesNotMatch(plain.stderr, /got the line of an earlier run/);
});
