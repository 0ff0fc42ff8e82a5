/**
 * What the table and the ablation compare of a run — its {@link Outcome}: verdict, counters
 * and the kdump kernel's key messages — and, over seeds, the spread of a configuration's
 * outcomes ({@link OutcomeSweep}): each verdict's count and an example seed, clean runs,
 * each counter's min / median / max, how many runs printed each key message.
 *
 * @module
 */
import { DEFAULT_JUDGE, meets } from "./judge.ts";
import { type Report, requiresText, type Verdict } from "./report.ts";
import { type Spread, spread, SWEEP_COUNTERS, type SweepCounter, type SweepRun } from "./sweep.ts";

/** The counters and messages a row compares. */
export interface Outcome {
  /** The run's verdict. */
  verdict: string;
  /** IO_PAGE_FAULTs the IOMMU logged. */
  ioPageFaults: number;
  /** IO_PAGE_FAULT lines the kernels printed. */
  faultsPrinted: number;
  /** IO_PAGE_FAULTs kept out of the log (DTE.SA and co.). */
  faultsSuppressed: number;
  /** Stray DMA writes. */
  strayWriteCount: number;
  /** Dump pages that differ from memory at the panic. */
  badPages: number;
  /** Key kdump-kernel messages (the series' own lines). */
  lines: string[];
  /** Missing dependencies of the run's series, as `plugin requires what`. */
  missing: string[];
}

const KEY =
  /Translation|Copied DEV|Failed to copy|Wrong old irq|not expected|above 4G|same dev table|Failed to allocate|timed out|disabled on kernel|timer doesn't work/;

/** The outcome of a report, as the table compares it. */
export function outcomeOf(r: Report): Outcome {
  return {
    verdict: r.verdict,
    ioPageFaults: r.events.IO_PAGE_FAULT,
    faultsPrinted: r.faultsPrinted,
    faultsSuppressed: r.faultsSuppressed,
    strayWriteCount: r.strayWriteCount,
    badPages: r.dump?.badPages ?? 0,
    lines: [
      ...new Set(
        r.dmesg.filter((l) => l.kernel === "kernel2" && KEY.test(l.text)).map((l) => l.text),
      ),
    ],
    missing: r.missing.map(requiresText),
  };
}

/** What differs between two outcomes, in words (empty if nothing). */
export function differences(a: Outcome, b: Outcome): string[] {
  const out: string[] = [];
  if (a.verdict !== b.verdict) out.push(`verdict ${a.verdict} → ${b.verdict}`);
  const num = (label: string, x: number, y: number) => x !== y && out.push(`${label} ${x} → ${y}`);
  num("IO_PAGE_FAULTs logged", a.ioPageFaults, b.ioPageFaults);
  num("printed", a.faultsPrinted, b.faultsPrinted);
  num("suppressed by SA", a.faultsSuppressed, b.faultsSuppressed);
  num("stray DMA writes", a.strayWriteCount, b.strayWriteCount);
  num("bad dump pages", a.badPages, b.badPages);
  for (const l of a.lines) if (!b.lines.includes(l)) out.push(`no "${l}"`);
  for (const l of b.lines) if (!a.lines.includes(l)) out.push(`"${l}"`);
  return out;
}

/** A configuration's outcomes over seeds. */
export interface OutcomeSweep {
  /** The seeds, in order. */
  seeds: number[];
  /** How many runs ended with each verdict. */
  verdicts: Partial<Record<Verdict, number>>;
  /** The first seed that gave each verdict (replay it with `--seed`). */
  example: Partial<Record<Verdict, number>>;
  /** How many runs were clean (dump-ok, no IO_PAGE_FAULT logged, no stray write). */
  clean: number;
  /** Each counter's min / median / max. */
  counters: Record<SweepCounter, Spread>;
  /** How many runs printed each key message. */
  lines: Record<string, number>;
}

/** The sweep of some runs: each run's row and outcome, in the same order. */
export function sweepOutcomes(
  rows: readonly SweepRun[],
  outcomes: readonly Outcome[],
): OutcomeSweep {
  const order = rows.map((_, i) => i).sort((a, b) => rows[a].seed - rows[b].seed);
  const verdicts: Partial<Record<Verdict, number>> = {};
  const example: Partial<Record<Verdict, number>> = {};
  const lines: Record<string, number> = {};
  for (const i of order) {
    const v = rows[i].verdict;
    verdicts[v] = (verdicts[v] ?? 0) + 1;
    example[v] ??= rows[i].seed;
    for (const l of outcomes[i].lines) lines[l] = (lines[l] ?? 0) + 1;
  }
  return {
    seeds: order.map((i) => rows[i].seed),
    verdicts,
    example,
    clean: rows.filter((r) => meets(DEFAULT_JUDGE, r)).length,
    counters: Object.fromEntries(
      SWEEP_COUNTERS.map((c) => [c, spread(rows.map((r) => r[c]))]),
    ) as Record<SweepCounter, Spread>,
    lines,
  };
}

/** `dump-ok:97/100,dump-corrupt:3/100` (most frequent first). */
export function verdictCounts(s: OutcomeSweep): string {
  return Object.entries(s.verdicts).sort((a, b) => b[1]! - a[1]! || a[0].localeCompare(b[0]))
    .map(([v, n]) => `${v}:${n}/${s.seeds.length}`).join(",");
}

/** How a counter is named in words. */
export const COUNTER_LABELS: Readonly<Record<SweepCounter, string>> = Object.freeze({
  ioPageFaults: "IO_PAGE_FAULTs logged",
  faultsPrinted: "printed",
  faultsSuppressed: "suppressed by SA",
  strayWriteCount: "stray DMA writes",
  badPages: "bad dump pages",
});

/** `9–24 (median 18)`, or `0` when every run had the same value. */
export function spreadText(s: Spread): string {
  return s.min === s.max ? String(s.min) : `${s.min}–${s.max} (median ${s.median})`;
}

/**
 * What differs between two sweeps, in words: the verdicts, the clean runs, each counter's
 * spread, and how many runs printed each key message.
 */
export function sweepDifferences(a: OutcomeSweep, b: OutcomeSweep): string[] {
  const out: string[] = [];
  const va = verdictCounts(a), vb = verdictCounts(b);
  if (va !== vb) out.push(`verdicts ${va} → ${vb}`);
  if (a.clean !== b.clean) out.push(`clean runs ${a.clean} → ${b.clean} of ${b.seeds.length}`);
  for (const c of SWEEP_COUNTERS) {
    const x = a.counters[c], y = b.counters[c];
    if (x.min !== y.min || x.median !== y.median || x.max !== y.max) {
      out.push(`${COUNTER_LABELS[c]} ${spreadText(x)} → ${spreadText(y)}`);
    }
  }
  const n = b.seeds.length;
  for (const l of Object.keys(a.lines)) {
    if ((b.lines[l] ?? 0) !== a.lines[l]) {
      out.push(`"${l}" on ${a.lines[l]} → ${b.lines[l] ?? 0} of ${n} runs`);
    }
  }
  for (const l of Object.keys(b.lines)) {
    if (!(l in a.lines)) out.push(`"${l}" on 0 → ${b.lines[l]} of ${n} runs`);
  }
  return out;
}
