/** The golden check's comparison and case naming (tools/golden). */
import assert from "node:assert/strict";
import { caseKey, goldenCases } from "../../tools/golden/cases.ts";
import { diffLines, diffReports, identical } from "../../tools/golden/diff.ts";

const report = (verdict: string, t = 100) =>
  JSON.stringify({ scenario: "default", verdict, timing: { panic: t } }, null, 2) + "\n";

Deno.test("golden: equal reports are identical, a changed byte is listed with its first differing line", () => {
  const before = new Map([["a", report("dump-ok")], ["b", report("hang")]]);
  assert.ok(identical(diffReports(before, new Map(before))));
  const after = new Map([["a", report("dump-ok")], ["b", report("dump-corrupt")]]);
  const d = diffReports(before, after);
  assert.equal(identical(d), false);
  assert.equal(d.same, 1);
  assert.deepEqual(d.changed, [{
    key: "b",
    line: 3,
    before: '  "verdict": "hang",',
    after: '  "verdict": "dump-corrupt",',
  }]);
  const lines = diffLines(d, "HEAD");
  assert.match(lines[0], /^changed {2}b /);
  assert.equal(lines.at(-1), "golden: 1 of 2 cases differ from HEAD");
});

Deno.test("golden: a case only one side has is a difference", () => {
  const before = new Map([["a", report("dump-ok")], ["gone", report("hang")]]);
  const after = new Map([["a", report("dump-ok")], ["new", report("hang")]]);
  const d = diffReports(before, after);
  assert.deepEqual([d.onlyBefore, d.onlyAfter, d.changed.length], [["gone"], ["new"], 0]);
  assert.equal(identical(d), false);
});

Deno.test("golden: whitespace counts (the check is byte for byte), ignored fields do not", () => {
  const a = report("dump-ok");
  assert.equal(identical(diffReports(new Map([["a", a]]), new Map([["a", a.trimEnd()]]))), false);
  const later = new Map([["a", report("dump-ok", 200)]]);
  assert.equal(identical(diffReports(new Map([["a", a]]), later)), false);
  assert.ok(identical(diffReports(new Map([["a", a]]), later, { ignore: ["timing"] })));
});

Deno.test("golden: cases are every scenario × seed × series, keyed for file names", () => {
  const cases = goldenCases(["default", "kexec"], [1, 2], ["none", "all,bnx2-no-kdump-wait"]);
  assert.equal(cases.length, 8);
  assert.deepEqual(cases.map(caseKey).slice(0, 4), [
    "default.seed-1.none",
    "default.seed-1.all+bnx2-no-kdump-wait",
    "default.seed-2.none",
    "default.seed-2.all+bnx2-no-kdump-wait",
  ]);
});

Deno.test("golden: --seeds is a lab seed list; a bad one exits 2 with one line, before any tree runs", async () => {
  const main = new URL("../../tools/golden/main.ts", import.meta.url).pathname;
  for (
    const [args, why] of [
      [["--seeds", "3..1"], /^golden: --seeds: "3\.\.1" runs backwards$/],
      [["--seeds", "1-20"], /^golden: --seeds: "1-20" is not N, A\.\.B or a seed/],
      [["--seeds"], /^golden: --seeds needs a value$/],
    ] as const
  ) {
    const r = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", main, ...args] })
      .output();
    assert.equal(r.code, 2, args.join(" "));
    assert.match(new TextDecoder().decode(r.stderr).trim(), why);
    assert.equal(new TextDecoder().decode(r.stdout), "", "no tree ran");
  }
});
