/**
 * Two columns side by side under a label column: each row has a label and a cell per side;
 * a cell is a list of lines, each wrapped to the column's width. Styles are applied after
 * padding, so ANSI colours never upset the alignment.
 *
 * @module
 */
import { wrapText } from "./text.ts";

/** One line of a cell, with an optional style applied to its (padded) text. */
export interface CellLine {
  text: string;
  style?: (s: string) => string;
}

/** A row: a label and the two cells (each a list of lines; strings are unstyled lines). */
export interface SideBySideRow {
  label: string;
  left: readonly (string | CellLine)[];
  right: readonly (string | CellLine)[];
}

/** Layout options of {@link sideBySide}. */
export interface SideBySideOptions {
  /** Total width in characters (default 120). */
  width?: number;
  /** Style of the label column (default none). */
  labelStyle?: (s: string) => string;
}

/** Spaces between columns. */
const GAP = 2;

const asLine = (l: string | CellLine): CellLine => typeof l === "string" ? { text: l } : l;

/** Wraps each line of a cell, keeping each piece's style. */
function wrapCell(cell: readonly (string | CellLine)[], width: number): CellLine[] {
  const out = cell.map(asLine).flatMap((l) =>
    wrapText(l.text, width).map((text) => ({ text, style: l.style }))
  );
  return out.length ? out : [{ text: "" }];
}

/**
 * Lays out rows as `label  left-column  right-column`, the label column as wide as the
 * widest label, the two columns sharing the rest equally. Lines have no trailing spaces.
 */
export function sideBySide(rows: readonly SideBySideRow[], opts: SideBySideOptions = {}): string[] {
  const labelWidth = Math.max(0, ...rows.map((r) => r.label.length));
  const col = Math.max(10, Math.floor(((opts.width ?? 120) - labelWidth - 2 * GAP) / 2));
  const labelStyle = opts.labelStyle ?? ((s: string) => s);
  const out: string[] = [];
  for (const row of rows) {
    const left = wrapCell(row.left, col), right = wrapCell(row.right, col);
    const height = Math.max(left.length, right.length);
    for (let i = 0; i < height; i++) {
      const label = i === 0 ? row.label : "";
      const l = left[i] ?? { text: "" }, r = right[i] ?? { text: "" };
      const cells = [
        labelStyle(label.padEnd(labelWidth)),
        (l.style ?? ((s: string) => s))(r.text ? l.text.padEnd(col) : l.text),
        (r.style ?? ((s: string) => s))(r.text),
      ];
      out.push(cells.join(" ".repeat(GAP)).replace(/ +$/, ""));
    }
  }
  return out;
}
