/**
 * Plain-text layout helpers: word wrapping to a width, for listings and side-by-side columns.
 * They work on unstyled text; colour is applied after layout.
 *
 * @module
 */

/**
 * Wraps `text` to lines of at most `width` characters, breaking at spaces; a word longer
 * than `width` is cut. Text that fits is returned as is (runs of spaces kept).
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  if (text.length <= w) return [text];
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    let rest = word;
    while (rest.length > w) {
      if (line) {
        lines.push(line);
        line = "";
      }
      lines.push(rest.slice(0, w));
      rest = rest.slice(w);
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= w) line += " " + rest;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
}

/** Wraps `text` to `width` and indents every line by `indent` spaces (width includes it). */
export function wrapIndented(text: string, width: number, indent: number): string[] {
  const pad = " ".repeat(indent);
  return wrapText(text, width - indent).map((l) => pad + l);
}
