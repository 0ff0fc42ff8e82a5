/** The README's patch table is what `table` measures now (it is generated, not typed). */
import assert from "node:assert/strict";
import { normalizeTable, tableInReadme, withTable } from "../../runtime/lab/readme.ts";
import { patchTable, renderTable } from "../../runtime/lab/table.ts";

Deno.test("README.md carries the measured patch table, unchanged", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const current = tableInReadme(readme);
  assert.ok(current !== undefined, "README.md has the patch-table markers");
  const rows = patchTable();
  assert.equal(rows.length, 12);
  assert.equal(
    normalizeTable(current!),
    normalizeTable(renderTable(rows)),
    "README.md is stale: run `deno task lab table --update-readme README.md`",
  );
});

Deno.test("withTable replaces only what is between the markers", () => {
  const r = "a\n<!-- patch-table:begin -->\nold\n<!-- patch-table:end -->\nb";
  assert.equal(
    withTable(r, "new"),
    "a\n<!-- patch-table:begin -->\nnew\n<!-- patch-table:end -->\nb",
  );
  assert.equal(tableInReadme(withTable(r, "new")), "new");
  assert.throws(() => withTable("no markers", "x"), /no patch-table markers/);
  assert.equal(normalizeTable("| a  | b |\n| -- | --- |\n| 1  | 2 |"), "|a|b|\n|-|-|\n|1|2|");
});
