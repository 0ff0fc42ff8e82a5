/**
 * Keeps the README's patch table in step with the measurement: the table lives between two
 * markers and is replaced by `renderTable(patchTable())`.
 *
 * @module
 */
import { InputError } from "./input.ts";

/** Marker lines around the generated table in README.md. */
export const TABLE_MARKERS = {
  begin: "<!-- patch-table:begin -->",
  end: "<!-- patch-table:end -->",
} as const;

/** The table currently between the markers of `readme` (or undefined without markers). */
export function tableInReadme(readme: string): string | undefined {
  const a = readme.indexOf(TABLE_MARKERS.begin), b = readme.indexOf(TABLE_MARKERS.end);
  if (a < 0 || b < a) return undefined;
  return readme.slice(a + TABLE_MARKERS.begin.length, b).trim();
}

/**
 * `readme` with `table` between the markers.
 *
 * @param name how the message names the file
 * @throws {InputError} when `readme` lacks the markers (one line)
 */
export function withTable(readme: string, table: string, name = "README.md"): string {
  const a = readme.indexOf(TABLE_MARKERS.begin), b = readme.indexOf(TABLE_MARKERS.end);
  if (a < 0 || b < a) {
    throw new InputError(
      `${name}: no patch-table markers (${TABLE_MARKERS.begin} … ${TABLE_MARKERS.end})`,
    );
  }
  return readme.slice(0, a + TABLE_MARKERS.begin.length) + "\n" + table + "\n" + readme.slice(b);
}

/**
 * A Markdown table with cell padding and separator widths normalised, so a table aligned by
 * `deno fmt` compares equal to the generator's output.
 */
export function normalizeTable(md: string): string {
  return md.trim().split("\n").map((line) =>
    line.split("|").map((c) => c.trim()).map((c) => (/^-+$/.test(c) ? "-" : c)).join("|")
  ).join("\n");
}
