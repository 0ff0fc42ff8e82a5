/**
 * The reuse check (tools/reuse-check): on a forced sub-matrix over seeds its two matrices agree
 * and some runs were reused; with a plugin file whose handler keeps a count of its own across
 * runs (what reuse assumes plugins do not do) it finds the lines that differ.
 */
import assert from "node:assert/strict";
import { checkLine, checkReuse } from "../../tools/reuse-check/check.ts";
import type { MatrixConfig } from "../../runtime/lab/matrix-run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const RUNTIME = new URL("../../runtime/plugin/mod.ts", import.meta.url).href;

const SMALL: MatrixConfig = {
  scenario: SCENARIOS.default,
  mode: "full",
  patches: ["detect-pre-enabled", "copy-old-trans-table", "sanity-check-old-dte"],
  with: ["helper-functions", "dte-bit-fields", "copy-dev-tables"],
  force: true,
  seeds: [1, 2, 3],
};

Deno.test("reuse-check: a forced 8-set matrix over seeds 1-3 is the same with and without reuse", async () => {
  const c = await checkReuse("default", SMALL, 0);
  assert.deepEqual(c.differ, []);
  assert.equal(c.runs, 24);
  // The check without the copy of the old table: never reached, so a reuse on each seed.
  assert.ok(c.reused >= 3, `reused ${c.reused}`);
  assert.match(checkLine(c), /^same {7}default: 24 runs, \d+ reused$/);
});

Deno.test("reuse-check: a plugin that counts runs of its own breaks reuse, and the check says where", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    path,
    `import { definePlugin } from "${RUNTIME}";
let calls = 0; // kept across runs: what a plugin must not rely on for reuse to hold
export default definePlugin({ id: "every-other-run", title: "fails every other run", hooks: {
  "kernel.machine_crash_shutdown": () => { if (++calls % 2 === 0) throw new Error("even run"); },
} });
`,
  );
  try {
    const c = await checkReuse("default", { ...SMALL, plugins: [{ file: path }] }, 1);
    assert.equal(c.runs, 24);
    assert.ok(c.reused > 0);
    assert.ok(c.differ.length > 0, "the reused lines are not what simulating gives");
    assert.ok(c.differ.every((i) => i >= 0), "the headers agree");
    assert.match(checkLine(c), /^DIFFERENT {2}default: \d+ of 24 lines differ \(first: run \d+\)$/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("reuse-check: bad arguments exit 2 with one line, before any matrix runs", async () => {
  const main = new URL("../../tools/reuse-check/main.ts", import.meta.url).pathname;
  for (
    const [args, why] of [
      [["--seeds", "3..1"], /^reuse-check: --seeds: "3\.\.1" runs backwards$/],
      [["--scenarios", "default,nope"], /^reuse-check: --scenarios: unknown nope$/],
      [["--workers", "x"], /^reuse-check: --workers: "x" is not a whole number$/],
      [["--frobnicate"], /^reuse-check: unknown option --frobnicate$/],
      [["default"], /^reuse-check: unexpected argument default$/],
    ] as const
  ) {
    const r = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", main, ...args] })
      .output();
    const err = new TextDecoder().decode(r.stderr).trim();
    assert.equal(r.code, 2, args.join(" "));
    assert.match(err, why);
    assert.equal(new TextDecoder().decode(r.stdout), "", "no matrix ran");
  }
});
