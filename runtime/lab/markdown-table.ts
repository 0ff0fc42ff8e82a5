/**
 * Markdown tables laid out the way `deno fmt` lays them out, so a generated table written into
 * README.md passes `deno fmt --check` as written: every cell trimmed and padded to its column's
 * display width, the delimiter row filled with dashes to that width (keeping each column's
 * alignment colons), short rows filled with empty cells.
 *
 * Display width counts what a terminal shows: combining marks and zero-width characters take
 * no column, East Asian wide and fullwidth characters and emoji take two. Cells are otherwise
 * kept as written: `deno fmt` also rewrites inline markup (`*em*` becomes `_em_`, runs of spaces
 * outside code become one), so a generator writes the forms it keeps (`**strong**`, `` `code` ``,
 * single spaces). `tests/lab/markdown-table.test.ts` compares the output with `deno fmt`'s.
 *
 * @module
 */

/** A column's alignment, from its delimiter cell (`---`, `:--`, `:-:`, `--:`). */
type Align = "none" | "left" | "center" | "right";

/** Code point ranges two columns wide (East Asian Wide and Fullwidth, the emoji blocks). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x23f0, 0x23f0],
  [0x23f3, 0x23f3],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufe00-\ufe0f\ufeff]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** The columns one character takes on a terminal (0, 1 or 2). */
function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x1100) return 1;
  if (EMOJI.test(ch)) return 2;
  for (const [lo, hi] of WIDE) if (cp >= lo && cp <= hi) return 2;
  return 1;
}

/** The columns `text` takes on a terminal, as `deno fmt` measures a table cell. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** The cells of one table row: split at pipes not escaped by a backslash, each trimmed. */
function cellsOf(line: string): string[] {
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === "|") {
      cells.push(cur.trim());
      cur = "";
    } else cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

/** The alignment a delimiter cell gives, or undefined when it is not one. */
function alignOf(cell: string): Align | undefined {
  const m = /^(:?)-+(:?)$/.exec(cell);
  if (!m) return undefined;
  if (m[1] && m[2]) return "center";
  if (m[1]) return "left";
  if (m[2]) return "right";
  return "none";
}

/** The narrowest a delimiter cell of each alignment can be. */
const MIN_WIDTH: Record<Align, number> = { none: 1, left: 2, right: 2, center: 3 };

/** `text` padded to `width` columns as `align` says. */
function pad(text: string, width: number, align: Align): string {
  const room = width - displayWidth(text);
  if (align === "right") return " ".repeat(room) + text;
  if (align === "center") {
    const left = Math.floor(room / 2);
    return " ".repeat(left) + text + " ".repeat(room - left);
  }
  return text + " ".repeat(room);
}

/** A delimiter cell of `width` dashes and colons. */
function delimiter(width: number, align: Align): string {
  switch (align) {
    case "left":
      return ":" + "-".repeat(width - 1);
    case "right":
      return "-".repeat(width - 1) + ":";
    case "center":
      return ":" + "-".repeat(width - 2) + ":";
    default:
      return "-".repeat(width);
  }
}

/**
 * `md` (a header row, a delimiter row, body rows) laid out as `deno fmt` writes it.
 *
 * @throws {Error} when the second line is not a delimiter row with one cell per header cell,
 *   or a row has more cells than the header (`deno fmt` would drop the extra ones)
 */
export function formatMarkdownTable(md: string): string {
  const rows = md.trim().split("\n").map(cellsOf);
  const [header, delim, ...body] = rows;
  const aligns = (delim ?? []).map(alignOf);
  if (header === undefined || aligns.length !== header.length || aligns.some((a) => !a)) {
    throw new Error("not a Markdown table: its second line must be a delimiter row like |---|");
  }
  const align = aligns as Align[];
  const long = body.findIndex((r) => r.length > header.length);
  if (long >= 0) {
    throw new Error(
      `table row ${long + 1} has ${body[long].length} cells, the header ${header.length}`,
    );
  }
  const cell = (r: string[], c: number) => r[c] ?? "";
  const widths = align.map((a, c) =>
    Math.max(
      MIN_WIDTH[a],
      displayWidth(cell(header, c)),
      ...body.map((r) => displayWidth(cell(r, c))),
    )
  );
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const row = (r: string[]) => line(widths.map((w, c) => pad(cell(r, c), w, align[c])));
  return [
    row(header),
    line(widths.map((w, c) => delimiter(w, align[c]))),
    ...body.map(row),
  ].join("\n");
}
