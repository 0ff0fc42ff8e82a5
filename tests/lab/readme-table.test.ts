/** The README's patch table is what `table` measures now (it is generated, not typed). */
import assert from "node:assert/strict";
import {
  normalizeTable,
  TABLE_MARKERS,
  tableInReadme,
  withTable,
} from "../../runtime/lab/readme.ts";
import { patchSweepTable, renderTable } from "../../runtime/lab/table.ts";

/** The seeds the README's table is measured over (`table --seeds 100`). */
const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);

const { begin: B, end: E } = TABLE_MARKERS;

Deno.test("README.md carries the patch table measured over seeds 1-100, unchanged and as deno fmt lays it out", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const current = tableInReadme(readme);
  assert.ok(current !== undefined, "README.md has the patch-table markers");
  const rows = await patchSweepTable(SEEDS);
  assert.equal(rows.length, 12);
  assert.equal(
    current,
    renderTable(rows),
    "README.md is stale: run `deno task lab table --seeds 100 --update-readme README.md`",
  );
  assert.equal(withTable(readme, renderTable(rows)), readme, "an update changes nothing");
});

Deno.test("withTable replaces only what is between the marker lines, set off by blank lines", () => {
  const r = `a\n${B}\nold\n${E}\nb`;
  assert.equal(withTable(r, "new"), `a\n${B}\n\nnew\n\n${E}\nb`);
  assert.equal(tableInReadme(withTable(r, "new")), "new");
  assert.equal(withTable(withTable(r, "new"), "new"), withTable(r, "new"), "idempotent");
  assert.throws(() => withTable("no markers", "x"), /no patch-table markers/);
  assert.equal(normalizeTable("| a  | b |\n| -- | --- |\n| 1  | 2 |"), "|a|b|\n|-|-|\n|1|2|");
});

Deno.test("withTable: a marker mentioned in prose or inside a code block is not a marker", () => {
  const prose = `# t\n\nThe table sits between ${B} and ${E} lines.\n\n`;
  const fenced = "```md\n" + `${B}\nexample\n${E}\n` + "```\n\n~~~~\n" + `${B}\n` + "~~~~\n\n";
  const r = `${prose}${fenced}  ${B}  \nold\n${E}\ntail ${E}\n`;
  const out = withTable(r, "new");
  assert.equal(out, `${prose}${fenced}  ${B}  \n\nnew\n\n${E}\ntail ${E}\n`, "text kept");
  assert.equal(tableInReadme(r), "old");
  // Only prose mentions: no markers at all, nothing replaced.
  assert.throws(
    () => withTable(prose + "end\n", "x", "R.md"),
    /^InputError: R\.md: no patch-table/,
  );
  assert.equal(tableInReadme(prose), undefined);
});

Deno.test("withTable: two begin lines, or the end before the begin, are refused", () => {
  assert.throws(
    () => withTable(`${B}\n${B}\nx\n${E}\n`, "t", "R.md"),
    /R\.md: .*found 2 begin and 1 end lines/,
  );
  assert.throws(
    () => withTable(`${E}\nx\n${B}\n`, "t", "R.md"),
    /end marker \(line 1\) comes before/,
  );
  assert.equal(tableInReadme(`${E}\nx\n${B}\n`), undefined);
});
