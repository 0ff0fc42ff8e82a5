/**
 * The report pages: {@link renderReportHtml} for one Report — header (verdict, cause,
 * counters), the SVG timeline (`timeline.ts`), a legend, the stray writes and the console
 * log — and {@link renderReportsHtml} for several compared (the demo's baseline and series):
 * their headers side by side, their timelines on one shared time axis, lane by lane.
 *
 * @module
 */
import { consoleLog } from "../lab/console.ts";
import type { Report } from "../lab/report.ts";
import { renderHeader } from "./header.ts";
import { el, escapeHtml, legend, ms, page } from "./kit.ts";
import { renderTimeline } from "./timeline.ts";

/** Most stray writes the page lists in its table. */
const STRAY_ROWS = 50;

/** The legend under a timeline: what each mark's colour means. */
const MARK_LEGEND = [
  { key: "stray", color: "#d62728", label: "stray DMA write" },
  { key: "fault-logged", color: "#ff7f0e", label: "DMA fault, IO_PAGE_FAULT logged" },
  { key: "fault-suppressed", color: "#f3c58f", label: "DMA fault, event suppressed (SA/SE)" },
  { key: "fault-unlogged", color: "#c9a36b", label: "DMA fault, event not logged" },
  { key: "fault-master-abort", color: "#8c6d46", label: "master abort (no RAM there)" },
  { key: "mmio", color: "#4a6fa5", label: "IOMMU register write" },
  { key: "command", color: "#2b8a8a", label: "IOMMU command" },
  { key: "event", color: "#b8860b", label: "IOMMU event-log entry" },
  { key: "dmesg", color: "#555", label: "kernel log line (red: err and worse)" },
  { key: "milestone", color: "", label: "timing milestone", line: true },
];

const SCALE_NOTE = "Time axis: piecewise linear. It is cut at every stage start and milestone " +
  "(thin lines); each piece gets a width of min(1, ms / 0.1) + log10(1 + ms) and is linear " +
  "inside, so a 1 ms stage stays visible beside a 1.5 s wait. Dashed lines: the report's " +
  "timing milestones, named above the lanes. Hover a mark for its text; marks on one pixel " +
  "are merged. Successful DMA is not in the report's timeline (only its totals, in the " +
  "counters).";

const SHARED_NOTE = "Both runs share one time axis: each lane has a row per run, so the same " +
  "moment lines up in both. A milestone the runs reach at different times has a line per run, " +
  "in the colour of that run's verdict.";

/** Options of a report section. */
export interface ReportSectionOptions {
  /** Heading of the section (e.g. `4.13 baseline (no patches)`). */
  label?: string;
  /** Suffix of the section's element ids: `timeline-<key>`, `verdict-<key>` (none: bare). */
  key?: string;
}

/** A stray-writes table (the first {@link STRAY_ROWS}); `who` names the run in its summary. */
function strayTable(report: Report, who = ""): string {
  if (report.strayWrites.length === 0) return "";
  const head = ["time", "kernel", "device", "iova", "address", "owner", "how"];
  const rows = report.strayWrites.slice(0, STRAY_ROWS).map((s) =>
    el(
      "tr",
      { class: "stray", "data-device": s.device },
      ...[ms(s.time), s.kernel, s.device, s.iova, s.address, s.owner, s.how].map((v) =>
        el("td", {}, escapeHtml(v))
      ),
    )
  );
  const more = report.strayWriteCount > rows.length
    ? `, the first ${rows.length} of ${report.strayWriteCount}`
    : ` (${report.strayWriteCount})`;
  return el(
    "details",
    { class: "strays" },
    el("summary", {}, `${escapeHtml(who)}Stray DMA writes${more}`),
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        { class: "counts mono" },
        el("tr", {}, ...head.map((h) => el("th", {}, h))),
        ...rows,
      ),
    ),
  );
}

/** The console log, as a serial console shows it, folded. */
function consoleBlock(report: Report, who = ""): string {
  if (report.dmesg.length === 0) return "";
  return el(
    "details",
    { class: "dmesg" },
    el("summary", {}, `${escapeHtml(who)}Kernel log (${report.dmesg.length} lines)`),
    el("pre", {}, escapeHtml(consoleLog(report).join("\n"))),
  );
}

/** The legend and notes under a timeline. */
function timelineFooter(shared: boolean): string[] {
  return [
    el("div", { class: "hover-info mono" }, "hover a mark to read it here"),
    legend(MARK_LEGEND),
    el("p", { class: "note" }, escapeHtml(shared ? `${SHARED_NOTE} ${SCALE_NOTE}` : SCALE_NOTE)),
  ];
}

/** One report's `<section class="report">`: header, timeline, legend, tables, log. */
export function renderReportSection(report: Report, opts: ReportSectionOptions = {}): string {
  const suffix = opts.key;
  return el(
    "section",
    { class: "report", "data-key": suffix, "data-verdict": report.verdict },
    renderHeader(report, { label: opts.label, idSuffix: suffix }),
    el(
      "figure",
      { class: "timeline-figure" },
      renderTimeline([{ report, key: suffix }], {
        id: suffix ? `timeline-${suffix}` : "timeline",
      }),
    ),
    ...timelineFooter(false),
    strayTable(report),
    consoleBlock(report),
  );
}

/** Options of the report pages. */
export interface ReportPageOptions {
  /** The page's `<title>` and `<h1>` (default: `kdump-lab: <scenario> — <verdict>`). */
  title?: string;
}

/** A page for one Report. */
export function renderReportHtml(report: Report, opts: ReportPageOptions = {}): string {
  const t = opts.title ?? `kdump-lab: ${report.scenario} — ${report.verdict}`;
  return page(t, el("h1", {}, escapeHtml(t)) + renderReportSection(report));
}

/** One report of a comparison page. */
export interface LabelledReport {
  /** Id suffix of its elements (`verdict-<key>`) and `data-run` of its timeline rows. */
  key: string;
  /** Its heading. */
  label: string;
  /** Its name beside its timeline rows (default: `key`), e.g. `4.13`. */
  tag?: string;
  /** The run's report. */
  report: Report;
}

/**
 * A page comparing several Reports (e.g. the demo's two): their headers side by side, then
 * one timeline (`<svg id="timeline">`) with every run on a shared time axis — each lane has a
 * row per run, tagged — then each run's stray writes and kernel log.
 */
export function renderReportsHtml(
  reports: readonly LabelledReport[],
  opts: ReportPageOptions = {},
): string {
  const scenarios = [...new Set(reports.map((r) => r.report.scenario))].join(", ");
  const t = opts.title ?? `kdump-lab: ${scenarios}`;
  const headers = reports.map((r) =>
    el(
      "section",
      { class: "run", "data-key": r.key, "data-verdict": r.report.verdict },
      renderHeader(r.report, { label: r.label, idSuffix: r.key }),
    )
  );
  const tag = (r: LabelledReport) => r.tag ?? r.key;
  const figure = el(
    "section",
    { class: "comparison" },
    el(
      "h2",
      {},
      escapeHtml(`On one time axis: ${reports.map(tag).join(" and ")}`),
    ),
    el(
      "figure",
      { class: "timeline-figure" },
      renderTimeline(reports.map((r) => ({ report: r.report, key: r.key, tag: tag(r) }))),
    ),
    ...timelineFooter(reports.length > 1),
    ...reports.map((r) => strayTable(r.report, `${tag(r)}: `)),
    ...reports.map((r) => consoleBlock(r.report, `${tag(r)}: `)),
  );
  return page(
    t,
    el("h1", {}, escapeHtml(t)) + el("div", { class: "runs" }, ...headers) + figure,
  );
}
