/**
 * `kdump-lab table --update-readme FILE` end to end (one seed, and the README's 100 seeds): the
 * table is rewritten between the marker
 * lines, as `deno fmt` lays it out (the updated file passes `deno fmt --check`), text around
 * them — a marker mentioned in prose included — is kept byte for byte, and the file is replaced
 * in one step (`wrote FILE` on stderr); a file that cannot be read or has no marker lines is bad
 * input (one line, exit 2) and is left as it was.
 */
import assert from "node:assert/strict";
import { TABLE_MARKERS, tableInReadme } from "../../runtime/lab/readme.ts";
import { patchTable, renderTable } from "../../runtime/lab/table.ts";
import { errorLine, exec, lab, ok, ROOT } from "./lab-kit.ts";

const { begin: B, end: E } = TABLE_MARKERS;

Deno.test("table --update-readme: rewrites the table between the marker lines, as deno fmt writes it; bad files exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-table-" });
  const good = `${dir}/good.md`, bare = `${dir}/bare.md`, missing = `${dir}/missing.md`;
  const copy = `${dir}/README.md`;
  const mention = `# t\n\nThe generated table sits after a ${B} line.\n\n`;
  await Deno.writeTextFile(good, `${mention}${B}\nold\n${E}\n\nend ${E} too.\n`);
  await Deno.writeTextFile(bare, "# no markers here\n");
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const [before, rest] = readme.split(`\n${B}\n`);
  await Deno.writeTextFile(copy, `${before}\n${B}\nx\n${E}\n${rest.split(`\n${E}\n`)[1]}`);
  try {
    const [updated, noMarkers, noFile, readmeCopy] = await Promise.all([
      lab(["table", "--update-readme", good, "--seed", "1"]),
      lab(["table", "--update-readme", bare]),
      lab(["table", "--update-readme", missing]),
      lab(["table", "--update-readme", copy]),
    ]);
    assert.equal(ok(updated, "good file").stdout, `updated the patch table in ${good}\n`);
    assert.equal(updated.stderr, `wrote ${good}\n`);
    const text = await Deno.readTextFile(good);
    // A marker quoted in prose is text: kept, and the table goes between the marker lines.
    assert.ok(text.startsWith(`${mention}${B}\n\n| #  |`), text);
    assert.ok(text.endsWith(`|\n\n${E}\n\nend ${E} too.\n`), text);
    assert.equal(tableInReadme(text), renderTable(patchTable(1)), "seed 1's table, byte for byte");

    // The README with its table gutted comes back as it is in the repository, fmt-clean.
    ok(readmeCopy, "README copy");
    assert.equal(await Deno.readTextFile(copy), readme, "the README restored byte for byte");
    const check = await exec(Deno.execPath(), [
      "fmt",
      "--check",
      `--config=${ROOT}deno.json`,
      good,
      copy,
    ]);
    assert.equal(check.code, 0, `deno fmt --check: ${check.stdout}${check.stderr}`);
    // Run again on a file it just updated: nothing to write (seed 1's table, which is quick to
    // measure; the README copy above already took the 100-seed table once).
    const again = ok(await lab(["table", "--update-readme", good, "--seed", "1"]), "current");
    assert.equal(again.stdout, `the patch table in ${good} is current\n`);
    assert.equal(again.stderr, "", "nothing written");
    assert.equal(await Deno.readTextFile(good), text, "left as it was");

    assert.equal(
      errorLine(noMarkers, "no markers"),
      `kdump-lab: table: --update-readme ${bare}: no patch-table markers ` +
        `(${B} … ${E}, each on a line of its own)`,
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
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["README.md", "bare.md", "good.md"], "no temporary file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
