/**
 * The terminal view of a matrix: what ran, the verdict counts, how each toggled patch
 * relates to the dump-ok runs, and the smallest dump-ok sets.
 *
 * @module
 */
import { ansis } from "./colors.ts";
import type { MatrixHeader } from "../lab/matrix-jsonl.ts";
import type { MatrixSummary } from "../lab/matrix-summary.ts";
import type { Verdict } from "../lab/report.ts";
import { styleVerdict } from "./summary.ts";

/** How many smallest dump-ok sets are listed before a count. */
const SETS_SHOWN = 10;

/** One line saying what a matrix ran. */
function matrixTitle(h: MatrixHeader, runs: number): string {
  const what = h.mode === "full"
    ? `every subset of ${h.patches.length} patches`
    : `a pairwise set over ${h.patches.length} patches`;
  const extras = [
    h.with.length ? `with ${h.with.join(", ")}` : "",
    h.plugins.length ? `plugin files ${h.plugins.map((p) => p.file).join(", ")}` : "",
    h.force ? "forced" : "",
  ].filter(Boolean);
  const count = h.shard ? `shard ${h.shard}: ${runs} of ${h.runs} runs` : `${h.runs} runs`;
  const seeds = h.seeds === undefined
    ? `seed ${h.seed}`
    : `seeds ${h.seeds}, each set on every seed`;
  return `scenario ${h.scenario}, ${seeds}: ${what} (${count})` +
    (extras.length ? `, ${extras.join(", ")}` : "");
}

/** Right-aligns numbers and left-aligns the first column. */
function grid(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
  );
}

/** The summary as lines (no trailing newlines). */
export function renderMatrix(h: MatrixHeader, s: MatrixSummary): string[] {
  const out = [ansis.bold(matrixTitle(h, s.runs)), ""];
  const counts = (Object.entries(s.verdicts) as [Verdict, number][]).filter(([, n]) => n > 0);
  out.push(
    `${ansis.dim("verdicts")}  ${
      counts.map(([v, n]) => styleVerdict(v, `${v} ${n}`)).join(", ") || "none"
    }`,
    "",
  );
  const table = grid([
    ["patch", "dump-ok with", "dump-ok without", "ran with", "ran without"],
    ...s.patches.map((p) => [
      p.id,
      String(p.okWith),
      String(p.okWithout),
      String(p.ranWith),
      String(p.ranWithout),
    ]),
  ]);
  out.push(ansis.dim(table[0]), ...table.slice(1), "");
  const ok = s.smallestOk;
  if (!ok) out.push("no run dumped cleanly");
  else {
    const n = ok.sets.length;
    out.push(
      `smallest dump-ok set${n > 1 ? "s" : ""}: ${ok.size} patch${ok.size === 1 ? "" : "es"}` +
        (n > 1 ? ` (${n} sets)` : ""),
    );
    for (const set of ok.sets.slice(0, SETS_SHOWN)) out.push(`  ${set.join(", ") || "(none)"}`);
    if (n > SETS_SHOWN) out.push(ansis.dim(`  (… ${n - SETS_SHOWN} more)`));
  }
  return out;
}
