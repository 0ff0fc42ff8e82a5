/**
 * Human-readable rendering of decoded structures: a title, the raw words, one aligned row per
 * field (name, value, bits, meaning), derived notes, and a clear flag on reserved bits that are
 * set. Colours come from `ansis`, which turns itself off for NO_COLOR and non-TTY output (and on
 * for FORCE_COLOR); the text is complete without them.
 *
 * @module
 */
import { ansis } from "./colors.ts";
import { type Decoded, reservedRows } from "../lab/decode.ts";

/** Pads every column but the last to its widest cell, then styles the padded cells. */
function columns(
  rows: readonly string[][],
  style: (row: number, col: number, text: string) => string = (_r, _c, t) => t,
): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c].length))) ?? [];
  return rows.map((r, i) =>
    r.map((cell, c) => style(i, c, c === r.length - 1 ? cell : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd()
  );
}

/** The reserved-bits warning line, or undefined when no reserved bit is set. */
export function reservedWarning(d: Decoded): string | undefined {
  const bad = reservedRows(d);
  if (bad.length === 0) return undefined;
  const list = bad.map((r) => `${r.name}=${r.value} ${r.bits}`).join(", ");
  return `${d.structure}: reserved bits set (must be zero): ${list}`;
}

/** Renders a decoded structure for a terminal (lines without trailing newline). */
export function renderDecoded(d: Decoded): string[] {
  const out: string[] = [ansis.bold(d.title), "  " + d.raw.join(" "), ""];
  const table = [
    ["Field", "Value", "Bits", "Meaning"],
    ...d.rows.map((r) => [
      r.reserved ? `${r.name} !` : r.name,
      r.value,
      r.bits,
      r.reserved ? "RESERVED BITS SET (must be zero)" : r.meaning,
    ]),
  ];
  const lines = columns(table, (row, col, text) => {
    if (row === 0) return ansis.dim(text);
    if (d.rows[row - 1].reserved) return ansis.red.bold(text);
    return col === 0 ? ansis.cyan(text) : text;
  });
  out.push(...lines.map((l) => "  " + l));
  if (d.notes.length > 0 || d.linux) out.push("");
  const notes = d.notes.map((n) => [`${n.label}:`, n.value]);
  if (d.linux) notes.push(["linux 4.13/4.14:", `AMD-Vi: Event logged [${d.linux}]`]);
  out.push(...columns(notes, (_r, col, t) => col === 0 ? ansis.dim(t) : t).map((l) => "  " + l));
  const warning = reservedWarning(d);
  if (warning) out.push("", ansis.red.bold(`! ${warning}`));
  return out;
}
