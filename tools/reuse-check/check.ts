/**
 * The reuse check's work: for each scenario, the matrix with reuse (as `matrix` runs it) and
 * without (`reuse: false`), compared line by line — reuse must change no byte of the JSONL.
 *
 * @module
 */
import { formatJsonl } from "../../runtime/lab/matrix-jsonl.ts";
import { runMatrix } from "../../runtime/lab/matrix-pool.ts";
import type { MatrixConfig } from "../../runtime/lab/matrix-run.ts";

/** One scenario's comparison. */
export interface ReuseCheck {
  scenario: string;
  /** Lines (runs) compared. */
  runs: number;
  /** Runs that got an earlier run's line in the matrix with reuse. */
  reused: number;
  /** Indices of the runs whose lines differ (empty: the same bytes, header included). */
  differ: number[];
}

/** Runs `config` with and without reuse (each in `workers` workers) and compares. */
export async function checkReuse(
  scenario: string,
  config: MatrixConfig,
  workers: number,
): Promise<ReuseCheck> {
  const [withReuse, without] = [
    await runMatrix({ ...config, reuse: true }, { workers }),
    await runMatrix({ ...config, reuse: false }, { workers }),
  ];
  const a = formatJsonl(withReuse.header, withReuse.lines).split("\n");
  const b = formatJsonl(without.header, without.lines).split("\n");
  const differ: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) differ.push(i - 1); // line 0 is the header (reported as -1)
  }
  return { scenario, runs: without.lines.length, reused: withReuse.reused, differ };
}

/** The check's line for one scenario. */
export function checkLine(c: ReuseCheck): string {
  return c.differ.length === 0
    ? `same       ${c.scenario}: ${c.runs} runs, ${c.reused} reused`
    : `DIFFERENT  ${c.scenario}: ${c.differ.length} of ${c.runs} lines differ (first: ${
      c.differ[0] < 0 ? "the header" : `run ${c.differ[0]}`
    })`;
}
