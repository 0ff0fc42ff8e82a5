/**
 * The `figure:` lines the benches print (tests/bench/measure.ts), read back out of
 * `deno bench` output, and the side-by-side comparison `deno task bench-compare` prints.
 *
 * @module
 */

/** One printed figure: its name and what it said. */
export interface Figure {
  name: string;
  text: string;
}

/** What one tree's benches printed in one round. */
export interface Measured {
  /** Which tree: the label it is shown under. */
  tree: string;
  round: number;
  figures: Figure[];
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** `figure: NAME: TEXT`, anywhere in a line (Deno prefixes what a bench prints with its name). */
const FIGURE = /figure: (.+?): (.*)$/;

/** The figures in `deno bench` output, in the order printed (colours stripped). */
export function parseFigures(output: string): Figure[] {
  const out: Figure[] = [];
  for (const line of output.replace(ANSI, "").split("\n")) {
    const m = FIGURE.exec(line.trimEnd());
    if (m) out.push({ name: m[1], text: m[2] });
  }
  return out;
}

/**
 * The comparison: each figure's name (in first-printed order), then one line per tree (in
 * `trees` order) with what it printed in each round, separated by ` | ` — a figure a bench
 * prints several times (the matrix, once per iteration) shows each. A tree that never printed
 * the figure says so.
 */
export function compareLines(trees: readonly string[], measured: readonly Measured[]): string[] {
  const names: string[] = [];
  for (const m of measured) {
    for (const f of m.figures) if (!names.includes(f.name)) names.push(f.name);
  }
  const width = Math.max(...trees.map((t) => t.length));
  const lines: string[] = [];
  for (const name of names) {
    lines.push(name);
    for (const tree of trees) {
      const texts = measured
        .filter((m) => m.tree === tree)
        .sort((a, b) => a.round - b.round)
        .flatMap((m) => m.figures.filter((f) => f.name === name).map((f) => f.text));
      lines.push(`  ${tree.padEnd(width)}  ${texts.length ? texts.join(" | ") : "(not printed)"}`);
    }
  }
  return lines;
}
