/**
 * Keeps the README's patch table in step with the measurement: the table lives between two
 * marker lines and is replaced by `renderTable(patchTable())`.
 *
 * @module
 */
import { InputError } from "./input.ts";

/** Marker lines around the generated table in README.md. */
export const TABLE_MARKERS = {
  begin: "<!-- patch-table:begin -->",
  end: "<!-- patch-table:end -->",
} as const;

/** Where the markers are: the indexes of their lines. */
interface MarkerLines {
  begin: number;
  end: number;
}

/** An opening code fence (``` or ~~~), its character and length. */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The lines that hold the markers, each alone on its line (spaces around it allowed) and
 * outside fenced code blocks: a marker quoted in prose or in an example is not one. Returns
 * the problem, in words, when there is not exactly one begin line followed by one end line.
 */
function findMarkers(lines: readonly string[]): MarkerLines | string {
  const begins: number[] = [], ends: number[] = [];
  let fence: string | undefined;
  for (const [i, line] of lines.entries()) {
    const f = FENCE.exec(line)?.[1];
    if (fence !== undefined) {
      if (f && f[0] === fence[0] && f.length >= fence.length && line.trim() === f) {
        fence = undefined;
      }
      continue;
    }
    if (f) fence = f;
    else if (line.trim() === TABLE_MARKERS.begin) begins.push(i);
    else if (line.trim() === TABLE_MARKERS.end) ends.push(i);
  }
  const both = `${TABLE_MARKERS.begin} … ${TABLE_MARKERS.end}`;
  if (!begins.length && !ends.length) {
    return `no patch-table markers (${both}, each on a line of its own)`;
  }
  if (begins.length !== 1 || ends.length !== 1) {
    return `the patch-table markers must stand on one line each, once: found ` +
      `${begins.length} begin and ${ends.length} end lines (${both})`;
  }
  if (ends[0] < begins[0]) {
    return `the patch-table end marker (line ${ends[0] + 1}) comes before the begin marker ` +
      `(line ${begins[0] + 1})`;
  }
  return { begin: begins[0], end: ends[0] };
}

/**
 * The table currently between the markers of `readme` (or undefined without a valid pair of
 * marker lines).
 */
export function tableInReadme(readme: string): string | undefined {
  const lines = readme.split("\n");
  const at = findMarkers(lines);
  if (typeof at === "string") return undefined;
  return lines.slice(at.begin + 1, at.end).join("\n").trim();
}

/**
 * `readme` with `table` between the marker lines, set off by blank lines as `deno fmt` sets off
 * a table after an HTML comment; everything outside the marker lines stays byte for byte.
 *
 * @param table the table as `deno fmt` lays it out (`renderTable` does)
 * @param name how the message names the file
 * @throws {InputError} when `readme` lacks the marker lines, has more than one pair, or has
 *   them in the wrong order (one line)
 */
export function withTable(readme: string, table: string, name = "README.md"): string {
  const lines = readme.split("\n");
  const at = findMarkers(lines);
  if (typeof at === "string") throw new InputError(`${name}: ${at}`);
  return [
    ...lines.slice(0, at.begin + 1),
    "",
    table.trim(),
    "",
    ...lines.slice(at.end),
  ].join("\n");
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
