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
   * The dump-ok runs with the fewest patches (their toggled patch ids, in index order), or
   * null when no run dumped cleanly.
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
  const ok = sorted.filter((l) => l.verdict === "dump-ok");
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
