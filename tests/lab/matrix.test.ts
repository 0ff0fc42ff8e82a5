/**
 * The series matrix: enumeration (full and pairwise), sharding, the JSONL
 * (deterministic whatever the number of workers), merging shards (equal to the unsharded
 * run; missing and duplicate runs refused), the summary, and users' plugin files in workers.
 */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";
import { matrixPatches, MatrixPlan, parseShard, shardIndices } from "../../runtime/lab/matrix.ts";
import { formatJsonl, mergeJsonl, parseJsonl } from "../../runtime/lab/matrix-jsonl.ts";
import { runMatrix } from "../../runtime/lab/matrix-pool.ts";
import { checkConfig, type MatrixConfig, shortCause } from "../../runtime/lab/matrix-run.ts";
import { summarize } from "../../runtime/lab/matrix-summary.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { outcomeOf } from "../../runtime/lab/table.ts";

const SERIES = seriesIds();
const [CDT, COTT, DOIO] = ["copy-dev-tables", "copy-old-trans-table", "disable-only-if-off"];
/** Three patches toggled, their prerequisites always on: 8 runs, 6 of them run. */
const SMALL: MatrixConfig = {
  scenario: SCENARIOS.default,
  mode: "full",
  patches: [DOIO, CDT, COTT], // any order: the matrix uses series order
  with: ["detect-pre-enabled", "dte-bit-fields", "helper-functions"],
};

const RUNTIME = new URL("../../runtime/plugin/mod.ts", import.meta.url).href;

/** Runs a config in this thread (cached per config object). */
const cache = new Map<MatrixConfig, Promise<string>>();
function inline(config: MatrixConfig): Promise<string> {
  if (!cache.has(config)) {
    cache.set(
      config,
      runMatrix(config, { workers: 0 }).then((f) => formatJsonl(f.header, f.lines)),
    );
  }
  return cache.get(config)!;
}

Deno.test("full matrix: run i applies the patches whose bit is set, in series order", () => {
  const plan = new MatrixPlan("full");
  assert.equal(plan.size, 4096);
  assert.deepEqual(plan.at(0), { index: 0, mask: 0, ids: [] });
  assert.deepEqual(plan.at(5), {
    index: 5,
    mask: 5,
    ids: ["detect-pre-enabled", "revert-suppress-io-page-faults"],
  });
  assert.deepEqual(plan.at(4095), { index: 4095, mask: 4095, ids: SERIES });
  assert.throws(() => plan.at(4096), RangeError);
  for (let mask = 0; mask < 4096; mask++) {
    assert.deepEqual(plan.at(mask).ids, SERIES.filter((_, j) => (mask >> j) & 1));
    assert.equal(plan.at(mask).mask, mask);
  }

  const small = new MatrixPlan("full", [DOIO, CDT, COTT]);
  assert.deepEqual(small.patches, [CDT, COTT, DOIO]);
  assert.deepEqual(small.runs().map((r) => [r.index, r.mask, r.ids]), [
    [0, 0, []],
    [1, 16, [CDT]],
    [2, 32, [COTT]],
    [3, 48, [CDT, COTT]],
    [4, 2048, [DOIO]],
    [5, 2064, [CDT, DOIO]],
    [6, 2080, [COTT, DOIO]],
    [7, 2096, [CDT, COTT, DOIO]],
  ]);
});

Deno.test("pairwise: none, singles, pairs, all — every pair together, every on/off combination", () => {
  const plan = new MatrixPlan("pairwise");
  const runs = plan.runs();
  assert.equal(plan.size, 1 + 12 + 66 + 1);
  assert.deepEqual(runs[0].ids, []);
  assert.deepEqual(runs[1].ids, ["detect-pre-enabled"]);
  assert.deepEqual(runs[13].ids, ["detect-pre-enabled", "helper-functions"]);
  assert.deepEqual(runs[79].ids, SERIES);
  assert.equal(new Set(runs.map((r) => r.mask)).size, runs.length, "no set twice");
  runs.forEach((r, i) => assert.equal(r.index, i));
  for (const a of SERIES) {
    for (const b of SERIES) {
      if (a === b) continue;
      const has = (on: boolean, id: string, ids: string[]) => ids.includes(id) === on;
      for (const [x, y] of [[true, true], [true, false], [false, true], [false, false]]) {
        assert.ok(
          runs.some((r) => has(x, a, r.ids) && has(y, b, r.ids)),
          `${a}=${x} ${b}=${y} never occurs`,
        );
      }
    }
  }
  // Small sets do not repeat "all" (it is already a single or the pair).
  assert.deepEqual(new MatrixPlan("pairwise", [CDT]).runs().map((r) => r.ids), [[], [CDT]]);
  assert.deepEqual(new MatrixPlan("pairwise", [COTT, CDT]).runs().map((r) => r.ids), [
    [],
    [CDT],
    [COTT],
    [CDT, COTT],
  ]);
});

Deno.test("patch lists and shards: bad values are one-line input errors", () => {
  assert.deepEqual(matrixPatches(), SERIES);
  assert.throws(
    () => matrixPatches(["nope"]),
    /unknown patch "nope" \(patches: detect-pre-enabled/,
  );
  assert.throws(() => matrixPatches([CDT, CDT]), /patch "copy-dev-tables" named twice/);
  assert.throws(() => matrixPatches([]), /no patches to toggle/);
  assert.throws(() => checkConfig({ ...SMALL, with: [CDT] }), /"copy-dev-tables" is toggled/);
  assert.throws(() => checkConfig({ ...SMALL, with: ["a", "a"] }), /plugin "a" named twice/);

  assert.deepEqual(parseShard("2/3"), { k: 2, n: 3 });
  for (const bad of ["3/2", "0/2", "1/0", "a/b", "1", ""]) {
    assert.throws(() => parseShard(bad), InputError, bad);
  }
  assert.deepEqual(shardIndices(10, { k: 2, n: 3 }), [1, 4, 7]);
  assert.deepEqual(shardIndices(3), [0, 1, 2]);
  assert.deepEqual(shardIndices(2, { k: 3, n: 3 }), []);
  const all = [1, 2, 3, 4].flatMap((k) => shardIndices(4096, { k, n: 4 }));
  assert.deepEqual(all.sort((a, b) => a - b), shardIndices(4096));
});

Deno.test("the JSONL of a small matrix: header, one line per run, specific outcomes", async () => {
  const text = await inline(SMALL);
  const rows = text.split("\n");
  assert.equal(rows.length, 10, "header + 8 runs + the final newline");
  assert.equal(rows[9], "");
  assert.equal(
    rows[0],
    '{"matrix":{"format":1,"scenario":"default","seed":1,"mode":"full",' +
      '"patches":["copy-dev-tables","copy-old-trans-table","disable-only-if-off"],' +
      '"with":["detect-pre-enabled","dte-bit-fields","helper-functions"],' +
      '"plugins":[],"force":false,"runs":8}}',
  );
  assert.equal(
    rows[3],
    '{"index":2,"mask":32,"ids":["copy-old-trans-table"],"verdict":"skipped","ioPageFaults":0,' +
      '"faultsPrinted":0,"faultsSuppressed":0,"strayWriteCount":0,"badPages":0,' +
      '"cause":"would not build: copy-old-trans-table requires copy-dev-tables"}',
  );
  const { lines } = parseJsonl(text, "small");
  assert.deepEqual(lines.map((l) => l.verdict), [
    "dump-corrupt",
    "dump-corrupt",
    "skipped",
    "panic",
    "dump-corrupt",
    "dump-corrupt",
    "skipped",
    "dump-ok",
  ]);
  const all = lines[7];
  assert.deepEqual([all.ids, all.strayWriteCount, all.badPages, all.ioPageFaults], [
    [CDT, COTT, DOIO],
    0,
    0,
    0,
  ]);
  assert.match(all.cause, /^all \d+ dumped pages match memory at the panic/);
  // Without disable-only-if-off the crash kernel turns translation off: stray writes, then its
  // timer check panics (the I/O APIC's tick is not remapped).
  assert.equal(lines[3].strayWriteCount, 18);
  assert.match(lines[3].cause, /^the second kernel panicked: timer doesn't work/);
  assert.deepEqual([lines[0].strayWriteCount, lines[0].badPages], [18, 18]);
  assert.deepEqual([lines[4].strayWriteCount, lines[4].badPages], [12, 12]);
});

Deno.test("each line is what run() reports for that series, skipped runs included", async () => {
  const { lines } = parseJsonl(await inline(SMALL), "small");
  for (const l of lines) {
    const series = seriesFromSpec("all");
    const on = new Set([...l.ids, ...SMALL.with!]);
    for (const id of SERIES) if (!on.has(id)) series.disable(id);
    const report = run(SCENARIOS.default, { series });
    const o = outcomeOf(report);
    assert.deepEqual(
      [
        l.verdict,
        l.ioPageFaults,
        l.faultsPrinted,
        l.faultsSuppressed,
        l.strayWriteCount,
        l.badPages,
        l.cause,
      ],
      [
        o.verdict,
        o.ioPageFaults,
        o.faultsPrinted,
        o.faultsSuppressed,
        o.strayWriteCount,
        o.badPages,
        shortCause(report.cause),
      ],
      `run ${l.index}`,
    );
  }
});

Deno.test("the JSONL does not depend on the number of workers", async () => {
  const expected = await inline(SMALL);
  for (const workers of [1, 2, 3]) {
    const f = await runMatrix(SMALL, { workers });
    assert.equal(formatJsonl(f.header, f.lines), expected, `${workers} workers`);
  }
});

Deno.test("shards merged equal the unsharded run byte for byte", async () => {
  const whole = await inline(SMALL);
  const shards = [];
  for (const k of [1, 2, 3]) {
    const f = await runMatrix(SMALL, { workers: 0, shard: { k, n: 3 } });
    assert.equal(f.header.shard, `${k}/3`);
    assert.deepEqual(f.lines.map((l) => l.index), shardIndices(8, { k, n: 3 }));
    shards.push({ name: `shard${k}.jsonl`, text: formatJsonl(f.header, f.lines) });
  }
  assert.match(shards[0].text, /"runs":8,"shard":"1\/3"\}\}\n/);
  const merged = mergeJsonl([shards[2], shards[0], shards[1]]);
  assert.equal(formatJsonl(merged.header, merged.lines), whole);
  // A whole file merges to itself.
  const self = mergeJsonl([{ name: "whole", text: whole }]);
  assert.equal(formatJsonl(self.header, self.lines), whole);
});

Deno.test("merge refuses missing and duplicate runs, other matrices and bad lines", async () => {
  const shard = async (k: number, config = SMALL) => {
    const f = await runMatrix(config, { workers: 0, shard: { k, n: 3 } });
    return { name: `s${k}`, text: formatJsonl(f.header, f.lines) };
  };
  const [s1, s2, s3] = [await shard(1), await shard(2), await shard(3)];
  assert.throws(
    () => mergeJsonl([s1, s2]),
    (e) => e instanceof InputError && e.message === "cannot merge: missing run indices 2, 5",
  );
  assert.throws(
    () => mergeJsonl([s1, s2, s3, s1]),
    (e) => e instanceof InputError && e.message === "cannot merge: duplicate run indices 0, 3, 6",
  );
  assert.throws(
    () => mergeJsonl([s1, s1]),
    /^InputError: cannot merge: missing run indices 1–2, 4–5, 7; duplicate run indices 0, 3, 6$/,
  );
  const other = await shard(2, { ...SMALL, seed: 7 });
  assert.throws(() => mergeJsonl([s1, other, s3]), /s2: not the same matrix as s1 \(seed differ/);
  assert.throws(() => mergeJsonl([{ name: "x", text: s1.text + "{oops\n" }]), /x line 5: not JSON/);
  assert.throws(() => mergeJsonl([{ name: "x", text: '{"index":0}\n' }]), /x line 1: not a matrix/);
  const wrongMask = s1.text.replace('"index":3,"mask":48', '"index":3,"mask":16');
  assert.throws(
    () => mergeJsonl([{ name: "x", text: wrongMask }, s2, s3]),
    /x: run 3 is not mask 48/,
  );
});

Deno.test("summary: verdict counts, each patch against dump-ok runs, smallest dump-ok sets", async () => {
  const f = parseJsonl(await inline(SMALL), "small");
  const s = summarize(f.header, f.lines);
  assert.equal(s.runs, 8);
  assert.deepEqual(s.verdicts, {
    "dump-ok": 1,
    "dump-corrupt": 4,
    "dump-failed": 0,
    hang: 0,
    panic: 1,
    "boot-ok": 0,
    "plugin-error": 0,
    "plugin-timeout": 0,
    "plugin-oom": 0,
    skipped: 2,
  });
  assert.deepEqual(s.patches, [
    { id: CDT, okWith: 1, okWithout: 0, ranWith: 4, ranWithout: 2 },
    { id: COTT, okWith: 1, okWithout: 0, ranWith: 2, ranWithout: 4 },
    { id: DOIO, okWith: 1, okWithout: 0, ranWith: 3, ranWithout: 3 },
  ]);
  assert.deepEqual(s.smallestOk, { size: 3, sets: [[CDT, COTT, DOIO]] });
  assert.equal(summarize(f.header, f.lines.slice(0, 7)).smallestOk, null);
});

Deno.test("users' plugin files reach every run, in workers too", async () => {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-matrix-plugin-", suffix: ".ts" });
  await Deno.writeTextFile(
    path,
    `import { definePlugin } from "${RUNTIME}";
export default definePlugin({ id: "needs-trans", title: "needs the trans table copy", requires: ["${COTT}"], hooks: {} });
`,
  );
  try {
    const config = { ...SMALL, plugins: [{ file: path }] };
    const f = await runMatrix(config, { workers: 2 });
    assert.deepEqual(f.header.plugins, [{ file: path }]);
    assert.deepEqual(f.lines.map((l) => l.verdict), [
      "skipped",
      "skipped",
      "skipped",
      "panic",
      "skipped",
      "skipped",
      "skipped",
      "dump-ok",
    ]);
    assert.equal(f.lines[1].cause, "would not build: needs-trans requires copy-old-trans-table");
    const inThread = await runMatrix(config, { workers: 0 });
    assert.equal(formatJsonl(f.header, f.lines), formatJsonl(inThread.header, inThread.lines));
    await assert.rejects(
      runMatrix({ ...SMALL, plugins: [{ file: path + ".missing" }] }, { workers: 2 }),
      /plugin file .*\.missing: not found/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("matrix reuse: a forced 32-set matrix over seeds 1-4 has the same bytes with and without it, in a thread or two workers; some runs are reused", async () => {
  const config: MatrixConfig = {
    scenario: SCENARIOS.default,
    mode: "full",
    // The copy and what taps it: sets without the copy never reach the check's or the GCR3
    // drop's point, so those differ from smaller sets only where no run looks.
    patches: ["detect-pre-enabled", CDT, COTT, "sanity-check-old-dte", "drop-gcr3-root"],
    with: ["helper-functions", "dte-bit-fields"],
    force: true,
    seeds: [1, 2, 3, 4],
  };
  const plain = await runMatrix({ ...config, reuse: false }, { workers: 0 });
  assert.equal(plain.reused, 0);
  assert.equal(plain.lines.length, 128);
  const bytes = formatJsonl(plain.header, plain.lines);
  const inThread = await runMatrix(config, { workers: 0 });
  assert.equal(formatJsonl(inThread.header, inThread.lines), bytes);
  // In one thread, in index order, each seed simulates 9 of its 32 sets: the others differ
  // from an earlier set only in plugins at points that set never reached (the check and the
  // GCR3 drop without the copy, the copy's pieces without detection).
  assert.equal(inThread.reused, 4 * 23);
  const workers = await runMatrix(config, { workers: 2 });
  assert.equal(formatJsonl(workers.header, workers.lines), bytes);
  assert.ok(workers.reused > 0 && workers.reused <= inThread.reused, `reused ${workers.reused}`);
});
