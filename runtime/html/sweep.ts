/**
 * The page of a sweep (`run --seeds … --html FILE`): how the runs of one configuration over
 * many seeds are distributed — a bar split by verdict, a table of each verdict's count, rate,
 * 95 % interval and seeds, one cell per seed coloured by its verdict (its counters in the
 * tooltip, its seed on the cell), the counters' spread, and the judge's answer if one was
 * asked for. Plain HTML and CSS: it reflows from 800 px up.
 *
 * Hooks: `#sweep-bar` with `span[data-verdict][data-count]`, `table#sweep-verdicts`,
 * `#sweep-seeds` with `span.seed[data-seed][data-verdict]`, `table#sweep-counters`,
 * `#sweep-judge[data-judgement]`.
 *
 * @module
 */
import { judgeRuns, type JudgeSpec, judgeText, meets } from "../lab/judge.ts";
import { seriesLabel } from "../lab/plugins.ts";
import type { Verdict } from "../lab/report.ts";
import { seedsText } from "../lab/seeds.ts";
import type { SweepResult } from "../lab/sweep.ts";
import { el, escapeHtml, page, verdictColor } from "./kit.ts";

/** Options of the sweep page. */
export interface SweepPageOptions {
  /** The judge the runs are held to, if any. */
  judge?: JudgeSpec;
}

const pct = (x: number) => `${(Math.round(x * 1000) / 10).toFixed(1)}%`;

const STYLE = `
#sweep-bar { display: flex; height: 28px; border-radius: 4px; overflow: hidden; margin: 8px 0 16px; }
#sweep-bar span { display: block; height: 100%; }
#sweep-seeds { display: flex; flex-wrap: wrap; gap: 3px; margin: 8px 0 16px; }
#sweep-seeds .seed { min-width: 34px; padding: 2px 4px; border-radius: 3px; color: #fff;
  font: 11px ui-monospace, "DejaVu Sans Mono", monospace; text-align: center; }
table.sweep { border-collapse: collapse; margin: 8px 0 16px; }
table.sweep th, table.sweep td { padding: 3px 10px; text-align: left; border-bottom: 1px solid #e3e5ea;
  font-size: 13px; }
table.sweep td.n { text-align: right; font-variant-numeric: tabular-nums; }
`;

/** The page. */
export function renderSweepHtml(r: SweepResult, opts: SweepPageOptions = {}): string {
  const n = r.runs.length;
  const verdicts = Object.keys(r.verdicts) as Verdict[];
  const series = r.series.length ? seriesLabel(r.series) : "none (4.13)";
  const bar = el(
    "div",
    { id: "sweep-bar", role: "img", "aria-label": "verdicts over the seeds" },
    ...verdicts.map((v) =>
      el("span", {
        "data-verdict": v,
        "data-count": r.verdicts[v],
        style: `width:${(100 * r.verdicts[v]!) / n}%;background:${verdictColor(v)}`,
        title: `${v}: ${r.verdicts[v]} of ${n}`,
      })
    ),
  );
  const verdictTable = el(
    "table",
    { id: "sweep-verdicts", class: "sweep" },
    el(
      "tr",
      {},
      ...["verdict", "runs", "rate", "95% interval", "seeds"].map((h) => el("th", {}, h)),
    ),
    ...verdicts.map((v) => {
      const rate = r.rates[v]!;
      return el(
        "tr",
        { "data-verdict": v },
        el("td", {}, el("span", { style: `color:${verdictColor(v)};font-weight:600` }, v)),
        el("td", { class: "n" }, String(rate.count)),
        el("td", { class: "n" }, pct(rate.rate)),
        el("td", { class: "n" }, `${pct(rate.low)} – ${pct(rate.high)}`),
        el("td", { class: "mono" }, escapeHtml(seedsText(r.seedsByVerdict[v]!))),
      );
    }),
  );
  const seeds = el(
    "div",
    { id: "sweep-seeds" },
    ...r.runs.map((x) =>
      el("span", {
        class: "seed",
        "data-seed": x.seed,
        "data-verdict": x.verdict,
        style: `background:${verdictColor(x.verdict)}`,
        title: `seed ${x.seed}: ${x.verdict}; ${x.ioPageFaults} IO_PAGE_FAULT logged ` +
          `(${x.faultsPrinted} printed, ${x.faultsSuppressed} suppressed), ` +
          `${x.strayWriteCount} stray writes, ${x.badPages} bad dump pages`,
      }, String(x.seed))
    ),
  );
  const labels: Record<string, string> = {
    ioPageFaults: "IO_PAGE_FAULT logged",
    faultsSuppressed: "IO_PAGE_FAULT suppressed",
    faultsPrinted: "IO_PAGE_FAULT printed",
    strayWriteCount: "stray DMA writes",
    badPages: "bad dump pages",
  };
  const counters = el(
    "table",
    { id: "sweep-counters", class: "sweep" },
    el("tr", {}, ...["counter", "min", "median", "max"].map((h) => el("th", {}, h))),
    ...Object.entries(r.counters).map(([k, s]) =>
      el(
        "tr",
        { "data-counter": k },
        el("td", {}, escapeHtml(labels[k] ?? k)),
        el("td", { class: "n" }, String(s.min)),
        el("td", { class: "n" }, String(s.median)),
        el("td", { class: "n" }, String(s.max)),
      )
    ),
  );
  let judge = "";
  if (opts.judge) {
    const met = r.runs.filter((x) => meets(opts.judge!, x)).length;
    const j = judgeRuns(opts.judge, r.runs);
    judge = el(
      "p",
      { id: "sweep-judge", "data-judgement": j },
      escapeHtml(
        `judge ${judgeText(opts.judge)}: ${met} of ${n} runs meet it — ${
          j === "good" ? "met" : j === "skip" ? "not run" : "not met"
        }`,
      ),
    );
  }
  const body = [
    `<style>${STYLE}</style>`,
    el("h1", {}, escapeHtml(`kdump-lab: ${r.scenario} over ${n} seeds`)),
    el("p", {}, escapeHtml(`series ${series}; seeds ${seedsText(r.seeds)}`)),
    bar,
    verdictTable,
    el("h2", {}, "Each seed"),
    seeds,
    el("h2", {}, "Counters over the seeds"),
    counters,
    judge,
  ].join("\n");
  return page(`kdump-lab: ${r.scenario} over ${n} seeds`, body);
}
