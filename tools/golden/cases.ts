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
