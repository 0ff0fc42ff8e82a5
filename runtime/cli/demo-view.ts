/**
 * The `demo` comparison: two reports of one scenario — the 4.13 baseline and a patched
 * series — side by side: verdict, cause, IO_PAGE_FAULTs, stray DMA writes, the dump, and the
 * kdump kernel's key log lines.
 *
 * @module
 */
import { ansis } from "./colors.ts";
import type { DmesgEntry } from "../lab/console.ts";
import { shortCause } from "../lab/matrix-run.ts";
import { DEFAULT_JUDGE, meets } from "../lab/judge.ts";
import type { Report, Verdict } from "../lab/report.ts";
import { spreadText } from "../lab/outcome.ts";
import { seedsText } from "../lab/seeds.ts";
import type { SweepResult } from "../lab/sweep.ts";
import { pct } from "./sweep-view.ts";
import { type CellLine, sideBySide, type SideBySideRow } from "./side-by-side.ts";
import { collapseRuns, strayLine, styleVerdict } from "./summary.ts";

/** The kdump kernel's log lines the demo shows: IOMMU, table copy, faults, the dump. */
const DEMO_KEY =
  /AMD-Vi|Translation|Copied|Failed|Event logged|IO_PAGE_FAULT|Completion-Wait|kdump:|panic|I\/O error|dumpfile/i;

/** Whether a kernel log entry is one of the demo's key lines (of the kdump kernel only). */
function isDemoLine(entry: DmesgEntry): boolean {
  return entry.kernel === "kernel2" && DEMO_KEY.test(entry.text);
}

/** The kdump kernel's key log lines, runs collapsed, at most `limit` (then a count). */
function demoLogLines(report: Report, limit = 12): string[] {
  const lines = collapseRuns(
    report.dmesg.filter(isDemoLine).map((e) => ({ group: e.text, line: e.text })),
  );
  if (lines.length <= limit) return lines;
  return [...lines.slice(0, limit), `(… ${lines.length - limit} more)`];
}

/** IO_PAGE_FAULTs: how many the IOMMU logged, suppressed (DTE.SA and co.) and the kernels printed. */
function faultLine(r: Report): string {
  return `logged ${r.events.IO_PAGE_FAULT}, suppressed ${r.faultsSuppressed}, printed ${r.faultsPrinted}`;
}

function verdictCell(r: Report): CellLine {
  return { text: r.verdict, style: (s) => styleVerdict(r.verdict, s) };
}

function strayCell(r: Report): string[] {
  const first = r.strayWrites[0];
  return [
    `${r.strayWriteCount} write(s)`,
    ...(first ? [`first: ${strayLine(first, r.timing)}`] : []),
  ];
}

function dumpCell(r: Report): string {
  const d = r.dump;
  return d ? `${d.result}: ${d.pages} pages, ${d.badPages} bad` : "none";
}

/** A sweep in a cell: each verdict's count (and a seed that gives it), clean runs, counters. */
function sweepCell(s: SweepResult): (string | CellLine)[] {
  const n = s.runs.length;
  const out: (string | CellLine)[] = [];
  for (const [v, count] of Object.entries(s.verdicts).sort((a, b) => b[1]! - a[1]!)) {
    const rate = s.rates[v as Verdict]!;
    out.push({
      text: `${v} ${count}/${n} (${pct(rate.low)}–${pct(rate.high)}), e.g. seed ${
        s.seedsByVerdict[v as Verdict]![0]
      }`,
      style: (t) => styleVerdict(v as Verdict, t),
    });
  }
  out.push(`clean ${s.runs.filter((r) => meets(DEFAULT_JUDGE, r)).length}/${n}`);
  const c = s.counters;
  out.push(`IO_PAGE_FAULT logged ${spreadText(c.ioPageFaults)}`);
  out.push(`stray DMA writes ${spreadText(c.strayWriteCount)}`);
  out.push(`bad dump pages ${spreadText(c.badPages)}`);
  return out;
}

/** The rows of the comparison, `left` = baseline, `right` = the patched series. */
function demoRows(
  baseline: Report,
  series: Report,
  labels: { left: string; right: string },
  sweeps?: DemoSweeps,
): SideBySideRow[] {
  const both = (f: (r: Report) => string | CellLine | (string | CellLine)[]) => {
    const cell = (r: Report) => {
      const v = f(r);
      return Array.isArray(v) ? v : [v];
    };
    return { left: cell(baseline), right: cell(series) };
  };
  const head = (s: string) => ({ text: s, style: (t: string) => ansis.bold(t) });
  return [
    { label: "", left: [head(labels.left)], right: [head(labels.right)] },
    ...(sweeps
      ? [
        {
          label: `${sweeps.baseline.runs.length} seeds`,
          left: sweepCell(sweeps.baseline),
          right: sweepCell(sweeps.series),
        },
        {
          label: "",
          left: [head(`seed ${baseline.seed}, one run`)],
          right: [head(`seed ${series.seed}, one run`)],
        },
      ]
      : []),
    { label: "verdict", ...both(verdictCell) },
    { label: "cause", ...both((r) => shortCause(r.cause, 100)) },
    { label: "IO_PAGE_FAULT", ...both(faultLine) },
    { label: "stray DMA", ...both(strayCell) },
    { label: "dump", ...both(dumpCell) },
    {
      label: "kdump log",
      ...both((r) => {
        const lines = demoLogLines(r);
        return lines.length ? lines : ["(no key lines)"];
      }),
    },
  ];
}

/** Options of {@link renderDemo}. */
export interface DemoViewOptions {
  /** Total width (default 120). */
  width?: number;
  /** Column headings. */
  labels: { left: string; right: string };
  /** Both configurations over seeds (shown above the one run). */
  sweeps?: DemoSweeps;
}

/** The demo's two configurations over seeds. */
export interface DemoSweeps {
  /** The 4.13 baseline's sweep. */
  baseline: SweepResult;
  /** The series' sweep. */
  series: SweepResult;
}

/** The comparison as lines: a title, then the two columns. */
export function renderDemo(baseline: Report, series: Report, opts: DemoViewOptions): string[] {
  const { labels } = opts;
  const over = opts.sweeps ? `seeds ${seedsText(opts.sweeps.baseline.seeds)}, and ` : "";
  const title = `scenario ${baseline.scenario}, ${over}seed ${baseline.seed}: ` +
    `${labels.left} vs ${labels.right}`;
  return [
    ansis.bold(title),
    "",
    ...sideBySide(demoRows(baseline, series, labels, opts.sweeps), {
      width: opts.width,
      labelStyle: (s) => ansis.dim(s),
    }),
  ];
}
