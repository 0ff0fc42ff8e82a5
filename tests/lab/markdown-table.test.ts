/**
 * runtime/lab/markdown-table.ts lays tables out as `deno fmt` does: checked against `deno fmt`
 * itself (run on stdin with this repository's configuration) on hand-picked tables and on 300
 * generated ones (fast-check, fixed seed, printed).
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { displayWidth, formatMarkdownTable } from "../../runtime/lab/markdown-table.ts";
import { patchTable, renderTable } from "../../runtime/lab/table.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** `deno fmt`'s Markdown output for `md` (this repository's configuration). */
async function denoFmt(md: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext", "md", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(md));
  await w.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** Tables separated by a paragraph each, so deno fmt formats them one by one. */
const doc = (tables: string[]) => tables.map((t, i) => `Table ${i}.\n\n${t}\n`).join("\n");

Deno.test("markdown-table: alignments, short rows, escaped pipes and wide characters as deno fmt lays them out", async () => {
  const tables = [
    "| a | b | c | d |\n|---|:--|:-:|--:|\n| 1 | 中文字 | é | a \\| b |\n| 12345 | 😀 | e\u0301 | x |",
    "| a |\n|---|\n| b |",
    "| a |\n|:-:|\n| b |",
    "| a |\n|--:|\n| b |",
    "| a |\n|:--|\n| b |",
    "| abcd |\n|:-:|\n| b |\n| bc |",
    "| a | bb | c |\n|---|:-:|---|\n| 1 | 2 |\n|  | \\* | &amp; |",
    "| — → … | Ａ | 한글 |\n|---|---|---|\n| `code  spaced` | x<br>y | **bold** |",
  ];
  const mine = tables.map(formatMarkdownTable);
  assert.equal(doc(mine), await denoFmt(doc(tables)), "the same bytes as deno fmt");
  assert.equal(mine[1], "| a |\n| - |\n| b |", "a one-wide column: one dash");
  assert.equal(mine[2], "|  a  |\n| :-: |\n|  b  |", "centred: at least three wide");
  assert.equal(displayWidth("中文字"), 6);
  assert.equal(displayWidth("e\u0301"), 1, "a combining mark takes no column");
  assert.equal(displayWidth("😀"), 2);
  assert.throws(() => formatMarkdownTable("| a |\n| b |"), /delimiter row/);
  assert.throws(() => formatMarkdownTable("| a |\n|---|\n| b | c |"), /row 1 has 2 cells/);
});

Deno.test("markdown-table: the README's patch table is what deno fmt writes", async () => {
  const table = renderTable(patchTable());
  assert.equal(doc([table]), await denoFmt(doc([table])));
});

Deno.test("markdown-table: 300 generated tables, byte for byte what deno fmt writes", async () => {
  const seed = 20240612;
  console.log(`fast-check seed ${seed}`);
  // Tokens deno fmt keeps as written (it rewrites `*em*`, collapses runs of spaces outside
  // code, and so on: the generator of a table writes none of those).
  const token = fc.constantFrom(
    "a",
    "Zed",
    "42",
    "x.y",
    "(1)",
    "a,b;",
    "`c d`",
    "`x  y`",
    "**b**",
    "\\|",
    "<br>",
    "IO_PAGE_FAULT",
    "—",
    "→",
    "…",
    "é",
    "e\u0301",
    "ü",
    "中文",
    "한글",
    "Ａ",
    "😀",
    "0x1f",
  );
  const cell = fc.array(token, { maxLength: 4 }).map((ts) => ts.join(" "));
  const table = fc.integer({ min: 1, max: 5 }).chain((cols) =>
    fc.tuple(
      fc.array(cell.filter((c) => c !== ""), { minLength: cols, maxLength: cols }),
      fc.array(fc.constantFrom("---", ":--", ":-:", "--:", "-"), {
        minLength: cols,
        maxLength: cols,
      }),
      fc.array(fc.array(cell, { minLength: 1, maxLength: cols }), { maxLength: 4 }),
    )
  ).map(([head, delim, rows]) =>
    [head, delim, ...rows].map((r) => `|${r.map((c) => ` ${c} `).join("|")}|`).join("\n")
  );
  const tables = fc.sample(table, { seed, numRuns: 300 });
  const expected = (await denoFmt(doc(tables))).split(/\n(?=Table \d+\.\n)/);
  const mine = doc(tables.map(formatMarkdownTable)).split(/\n(?=Table \d+\.\n)/);
  assert.equal(mine.length, 300);
  for (const [i, t] of tables.entries()) {
    assert.equal(mine[i], expected[i], `table ${i} (seed ${seed}):\n${t}`);
  }
});
