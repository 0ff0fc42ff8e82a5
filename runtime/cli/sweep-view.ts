/**
 * The human view of a sweep: what ran over which seeds; a row per verdict with its count,
 * rate, 95 % interval and seeds; each counter's min / median / max; the judge's answer when
 * one was asked for; and a command that replays one run of each verdict.
 *
 * @module
 */
import type { JudgeSpec } from "../lab/judge.ts";
import { judgeRuns, judgeText, meets } from "../lab/judge.ts";
import { seriesLabel } from "../lab/plugins.ts";
import type { Verdict } from "../lab/report.ts";
import { seedsText } from "../lab/seeds.ts";
import type { SweepResult } from "../lab/sweep.ts";
import { ansis } from "./colors.ts";
import { styleVerdict } from "./summary.ts";

/** A rate as a percentage with one decimal. */
export function pct(x: number): string {
  return `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
}

/** A seed list cut to about `max` characters (`… and N more`). */
function seedsShort(seeds: readonly number[], max = 40): string {
  const full = seedsText(seeds);
  if (full.length <= max) return full;
  const cut = full.slice(0, max);
  return `${cut.slice(0, cut.lastIndexOf(","))}, …`;
}

const COUNTER_LABELS: Record<keyof SweepResult["counters"], string> = {
  ioPageFaults: "IO_PAGE_FAULT logged",
  faultsSuppressed: "IO_PAGE_FAULT suppressed",
  faultsPrinted: "IO_PAGE_FAULT printed",
  strayWriteCount: "stray DMA writes",
  badPages: "bad dump pages",
};

/** What the view needs besides the result. */
export interface SweepViewOptions {
  /** The command that replays a run, without `--seed` (e.g. `kdump-lab run --series all`). */
  replay: string;
  /** The judge the runs are held to, if any. */
  judge?: JudgeSpec;
}

/** The lines of the view. */
export function renderSweep(r: SweepResult, o: SweepViewOptions): string[] {
  const n = r.runs.length;
  const series = r.series.length ? seriesLabel(r.series) : "none (4.13)";
  const out = [
    `scenario ${r.scenario}, series ${series}`,
    `${n} run${n === 1 ? "" : "s"}, seeds ${seedsText(r.seeds)}`,
    "",
  ];
  const verdicts = Object.keys(r.verdicts) as Verdict[];
  const vw = Math.max(7, ...verdicts.map((v) => v.length));
  out.push(`${"verdict".padEnd(vw)}  runs   rate    95% interval    seeds`);
  for (const v of verdicts) {
    const rate = r.rates[v]!;
    out.push(
      `${styleVerdict(v, v.padEnd(vw))}  ${String(rate.count).padStart(4)}  ${
        pct(rate.rate).padStart(6)
      }  ${`${pct(rate.low)}–${pct(rate.high)}`.padEnd(14)}  ${seedsShort(r.seedsByVerdict[v]!)}`,
    );
  }
  out.push("");
  const cw = Math.max(...Object.values(COUNTER_LABELS).map((l) => l.length));
  out.push(`${"counter".padEnd(cw)}    min  median     max   runs > 0  e.g. seed`);
  for (const [key, label] of Object.entries(COUNTER_LABELS)) {
    const k = key as keyof SweepResult["counters"];
    const s = r.counters[k];
    const some = r.runs.filter((x) => x[k] > 0);
    out.push(
      `${label.padEnd(cw)}  ${String(s.min).padStart(5)}  ${String(s.median).padStart(6)}  ${
        String(s.max).padStart(6)
      }  ${String(some.length).padStart(9)}  ${some.length ? some[0].seed : "-"}`,
    );
  }
  if (o.judge) {
    const met = r.runs.filter((x) => meets(o.judge!, x)).length;
    const j = judgeRuns(o.judge, r.runs);
    const word = j === "good"
      ? ansis.green.bold("met")
      : j === "skip"
      ? ansis.dim("not run")
      : ansis.red.bold("not met");
    out.push("", `judge ${judgeText(o.judge)}: ${met} of ${n} runs meet it — ${word}`);
  }
  out.push("", "replay a run:");
  for (const v of verdicts) {
    out.push(`  ${o.replay} --seed ${r.seedsByVerdict[v]![0]}   # ${v}`);
  }
  return out;
}
