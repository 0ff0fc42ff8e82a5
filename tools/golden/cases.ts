/**
 * The cases of the golden check: every built-in scenario × seeds × series specs, each named
 * by a stable key (`default.seed-7.all`) that is also the file name its report is kept under.
 *
 * @module
 */

/** One golden case. */
export interface GoldenCase {
  scenario: string;
  seed: number;
  /** A series spec as `run --series` takes it (`none`, `all`, …). */
  series: string;
}

/** The key (and file stem) of a case. */
export function caseKey(c: GoldenCase): string {
  return `${c.scenario}.seed-${c.seed}.${c.series.replaceAll(",", "+")}`;
}

/** Parses `1-20` or `1,5,9` (or a mix: `1-3,7`) into seeds. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`--seeds: "${part}" is not a seed or a range like 1-20`);
    const lo = Number(m[1]), hi = Number(m[2] ?? m[1]);
    if (hi < lo) throw new Error(`--seeds: empty range ${part}`);
    for (let s = lo; s <= hi; s++) out.push(s);
  }
  return out;
}

/** Every combination, scenario-major. */
export function goldenCases(
  scenarios: readonly string[],
  seeds: readonly number[],
  series: readonly string[],
): GoldenCase[] {
  const out: GoldenCase[] = [];
  for (const scenario of scenarios) {
    for (const seed of seeds) for (const s of series) out.push({ scenario, seed, series: s });
  }
  return out;
}
