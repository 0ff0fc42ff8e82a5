/**
 * A sweep: one configuration (scenario, series) run over a list of seeds. Its result says
 * how often each verdict came, as a count and a rate with its 95 % Wilson interval, how each
 * counter spread (min / median / max), and which seeds gave which verdict — so any run can be
 * replayed with `--seed`. The runs themselves are kept as compact rows.
 *
 * @module
 */
import type { Report, Verdict } from "./report.ts";

/** One run of a sweep, compactly. */
export interface SweepRun {
  /** The seed of the run. */
  seed: number;
  /** How the run ended. */
  verdict: Verdict;
  /** IO_PAGE_FAULTs the IOMMU logged. */
  ioPageFaults: number;
  /** IO_PAGE_FAULTs kept out of the log (DTE.SA and co.). */
  faultsSuppressed: number;
  /** IO_PAGE_FAULT lines the kernels printed. */
  faultsPrinted: number;
  /** Stray DMA writes. */
  strayWriteCount: number;
  /** Dump pages that differ from memory at the panic. */
  badPages: number;
}

/** The row of a report. */
export function sweepRun(r: Report): SweepRun {
  return {
    seed: r.seed,
    verdict: r.verdict,
    ioPageFaults: r.events.IO_PAGE_FAULT,
    faultsSuppressed: r.faultsSuppressed,
    faultsPrinted: r.faultsPrinted,
    strayWriteCount: r.strayWriteCount,
    badPages: r.dump?.badPages ?? 0,
  };
}

/** A count out of n, its rate and the rate's 95 % Wilson score interval. */
export interface Rate {
  /** How many runs. */
  count: number;
  /** Out of how many. */
  of: number;
  /** count / of (4 decimals). */
  rate: number;
  /** The 95 % interval's low end. */
  low: number;
  /** The 95 % interval's high end. */
  high: number;
}

/** z of a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/**
 * The 95 % Wilson score interval of `count` successes in `of` trials (rounded to 4 decimals):
 * unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n.
 */
export function wilson(count: number, of: number): Rate {
  if (of === 0) return { count, of, rate: 0, low: 0, high: 1 };
  const p = count / of, z2 = Z95 * Z95;
  const den = 1 + z2 / of;
  const mid = (p + z2 / (2 * of)) / den;
  const half = (Z95 * Math.sqrt(p * (1 - p) / of + z2 / (4 * of * of))) / den;
  const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    count,
    of,
    rate: r4(p),
    low: r4(Math.max(0, mid - half)),
    high: r4(Math.min(1, mid + half)),
  };
}

/** How a counter spread over the runs. */
export interface Spread {
  /** The least value. */
  min: number;
  /** The median (the lower middle for an even count). */
  median: number;
  /** The greatest value. */
  max: number;
}

/** The counters a sweep spreads. */
export const SWEEP_COUNTERS = [
  "ioPageFaults",
  "faultsSuppressed",
  "faultsPrinted",
  "strayWriteCount",
  "badPages",
] as const;

/** A counter's name. */
export type SweepCounter = (typeof SWEEP_COUNTERS)[number];

/** Min / median (the lower middle for an even count) / max of some numbers. */
export function spread(xs: readonly number[]): Spread {
  if (!xs.length) return { min: 0, median: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
}

/** A sweep's result. */
export interface SweepResult {
  /** The scenario's name. */
  scenario: string;
  /** The applied series (the plugins' ids, in order). */
  series: string[];
  /** The seeds, in order. */
  seeds: number[];
  /** How many runs ended with each verdict (only verdicts that came). */
  verdicts: Partial<Record<Verdict, number>>;
  /** Each verdict's rate with its 95 % interval. */
  rates: Partial<Record<Verdict, Rate>>;
  /** The seeds of each verdict (replay one with `--seed`). */
  seedsByVerdict: Partial<Record<Verdict, number[]>>;
  /** Each counter's min / median / max over the runs. */
  counters: Record<SweepCounter, Spread>;
  /** Every run, in seed order. */
  runs: SweepRun[];
}

/** Summarises the runs of a sweep (in seed order). */
export function summarise(scenario: string, series: string[], runs: SweepRun[]): SweepResult {
  const sorted = [...runs].sort((a, b) => a.seed - b.seed);
  const verdicts: Partial<Record<Verdict, number>> = {};
  const seedsByVerdict: Partial<Record<Verdict, number[]>> = {};
  for (const r of sorted) {
    verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
    (seedsByVerdict[r.verdict] ??= []).push(r.seed);
  }
  const ordered = Object.keys(verdicts).sort() as Verdict[];
  const rates: Partial<Record<Verdict, Rate>> = {};
  for (const v of ordered) rates[v] = wilson(verdicts[v]!, sorted.length);
  const counters = Object.fromEntries(
    SWEEP_COUNTERS.map((c) => [c, spread(sorted.map((r) => r[c]))]),
  ) as Record<SweepCounter, Spread>;
  return {
    scenario,
    series,
    seeds: sorted.map((r) => r.seed),
    verdicts: Object.fromEntries(ordered.map((v) => [v, verdicts[v]!])),
    rates,
    seedsByVerdict: Object.fromEntries(ordered.map((v) => [v, seedsByVerdict[v]!])),
    counters,
    runs: sorted,
  };
}
