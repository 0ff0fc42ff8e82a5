/**
 * `kdump-lab table --update-readme FILE` end to end: the table is rewritten between the
 * markers; a file that cannot be read or has no markers is bad input (one line, exit 2).
 */
import assert from "node:assert/strict";
import { normalizeTable, TABLE_MARKERS, tableInReadme } from "../../runtime/lab/readme.ts";
import { errorLine, lab, ok, ROOT } from "./lab-kit.ts";

Deno.test("table --update-readme: rewrites the table between the markers; bad files exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-table-" });
  const good = `${dir}/good.md`, bare = `${dir}/bare.md`, missing = `${dir}/missing.md`;
  await Deno.writeTextFile(good, `# t\n\n${TABLE_MARKERS.begin}\nold\n${TABLE_MARKERS.end}\nend\n`);
  await Deno.writeTextFile(bare, "# no markers here\n");
  try {
    const [updated, noMarkers, noFile] = await Promise.all([
      lab(["table", "--update-readme", good]),
      lab(["table", "--update-readme", bare]),
      lab(["table", "--update-readme", missing]),
    ]);
    assert.equal(ok(updated, "good file").stdout, `updated the patch table in ${good}\n`);
    const text = await Deno.readTextFile(good);
    assert.ok(text.startsWith(`# t\n\n${TABLE_MARKERS.begin}\n|`), text);
    assert.ok(text.endsWith(`|\n${TABLE_MARKERS.end}\nend\n`), text);
    const readme = await Deno.readTextFile(`${ROOT}README.md`);
    assert.equal(normalizeTable(tableInReadme(text)!), normalizeTable(tableInReadme(readme)!));

    assert.equal(
      errorLine(noMarkers, "no markers"),
      `kdump-lab: table: --update-readme ${bare}: no patch-table markers ` +
        `(${TABLE_MARKERS.begin} … ${TABLE_MARKERS.end})`,
    );
    assert.equal(await Deno.readTextFile(bare), "# no markers here\n", "left as it was");
    assert.equal(
      errorLine(noFile, "missing file"),
      `kdump-lab: table: --update-readme ${missing}: cannot read it: no such file`,
    );
    for (const out of [noMarkers, noFile]) {
      assert.equal(out.stdout, "");
      assert.doesNotMatch(out.stderr, /internal error|\bat .*:\d+:\d+/, "no stack trace");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
