/**
 * What a matrix found, from its result lines: how many runs ended in each verdict, how
 * each toggled patch relates to a good dump (dump-ok runs with it and without it), and the
 * smallest sets of patches that dump cleanly.
 *
 * @module
 */
import type { MatrixHeader } from "./matrix-jsonl.ts";
import type { MatrixLine } from "./matrix-run.ts";
import { type Verdict, VERDICTS } from "./report.ts";
import { seedsText } from "./seeds.ts";

/** How one toggled patch relates to the dump-ok runs. */
export interface PatchStats {
  id: string;
  /** dump-ok runs that apply the patch. */
  okWith: number;
  /** dump-ok runs that do not. */
  okWithout: number;
  /** Runs that apply it and were run (not skipped). */
  ranWith: number;
  /** Runs that do not apply it and were run. */
  ranWithout: number;
}

/** The summary of a matrix (or of a shard of one). */
export interface MatrixSummary {
  /** Result lines summarised. */
  runs: number;
  /** Runs by verdict, every verdict listed (in the Report's order). */
  verdicts: Record<Verdict, number>;
  /** One entry per toggled patch, in series order. */
  patches: PatchStats[];
  /**
   * The sets of patches that dumped correctly (dump-ok — over seeds, on every seed) with the
   * fewest patches (their toggled patch ids, in index order), or null when none did.
   */
  smallestOk: { size: number; sets: string[][] } | null;
}

/** Summarises result lines of the matrix `header` describes. */
export function summarize(header: MatrixHeader, lines: readonly MatrixLine[]): MatrixSummary {
  const verdicts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  const sorted = [...lines].sort((a, b) => a.index - b.index);
  for (const l of sorted) verdicts[l.verdict]++;
  const patches = header.patches.map((id): PatchStats => {
    const s = { id, okWith: 0, okWithout: 0, ranWith: 0, ranWithout: 0 };
    for (const l of sorted) {
      const has = l.ids.includes(id);
      if (l.verdict === "dump-ok") has ? s.okWith++ : s.okWithout++;
      if (l.verdict !== "skipped") has ? s.ranWith++ : s.ranWithout++;
    }
    return s;
  });
  // A set is ok when each of its runs (one per seed) is dump-ok.
  const bySet = new Map<number, MatrixLine[]>();
  for (const l of sorted) bySet.set(l.mask, [...(bySet.get(l.mask) ?? []), l]);
  const ok = [...bySet.values()].filter((ls) => ls.every((l) => l.verdict === "dump-ok"))
    .map((ls) => ls[0]);
  const size = Math.min(...ok.map((l) => l.ids.length));
  return {
    runs: lines.length,
    verdicts,
    patches,
    smallestOk: ok.length
      ? { size, sets: ok.filter((l) => l.ids.length === size).map((l) => [...l.ids]) }
      : null,
  };
}

/** A patch set over seeds: its runs' lines merged into one (what the matrix page draws). */
export interface SetLine {
  /** The first run's index. */
  index: number;
  /** The set's mask. */
  mask: number;
  /** The set's toggled patches. */
  ids: string[];
  /** The verdict of every run, or `mixed` when the seeds disagree. */
  verdict: string;
  /** The first run's cause, or (mixed) each verdict's count, e.g. `dump-ok 18/20, dump-corrupt 2/20`. */
  cause: string;
  /** The seeds of the set's runs. */
  seeds: string;
}

/**
 * The lines of a matrix over seeds merged per patch set (one line per set, in index order);
 * for a matrix of one seed, the lines themselves.
 */
export function perSet(lines: readonly MatrixLine[]): (MatrixLine | SetLine)[] {
  if (!lines.some((l) => l.seed !== undefined)) return [...lines];
  const bySet = new Map<number, MatrixLine[]>();
  for (const l of [...lines].sort((a, b) => a.index - b.index)) {
    bySet.set(l.mask, [...(bySet.get(l.mask) ?? []), l]);
  }
  return [...bySet.values()].map((ls) => {
    const counts = new Map<string, number>();
    for (const l of ls) counts.set(l.verdict, (counts.get(l.verdict) ?? 0) + 1);
    const mixed = counts.size > 1;
    return {
      index: ls[0].index,
      mask: ls[0].mask,
      ids: ls[0].ids,
      verdict: mixed ? "mixed" : ls[0].verdict,
      cause: mixed
        ? [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${n}/${ls.length}`)
          .join(", ")
        : ls[0].cause,
      seeds: seedsText(ls.map((l) => l.seed!)),
    };
  });
}
