/**
 * Self-contained HTML pages of lab results — pure functions from data to one HTML string
 * (inline CSS, a few lines of inline script, inline SVG; nothing fetched, no dependencies):
 *
 * - {@link renderReportHtml}: one Report — header (verdict, cause, counters), the SVG
 *   timeline (`timeline.ts`, time axis in `scale.ts`), a legend, the stray writes
 *   and the console log;
 * - {@link renderReportsHtml}: several Reports stacked (the demo's baseline and series);
 * - {@link renderMatrixHtml} and {@link renderAblateHtml}: heatmaps of a matrix or an
 *   ablation (`heatmap.ts`).
 *
 * Write the string with the CLI's `writeHtml(file, html)` (`runtime/cli/html-output.ts`).
 *
 * @module
 */
import { consoleLog } from "../lab/console.ts";
import { renderHeader } from "./header.ts";
import { el, escapeHtml, legend, ms, page } from "./kit.ts";
import { renderTimeline } from "./timeline.ts";
import type { Report } from "../lab/report.ts";

export {
  type AblateHeatmapInput,
  type AblateRow,
  type MatrixCell,
  type MatrixHeatmapInput,
  renderAblateHtml,
  renderMatrixHtml,
} from "./heatmap.ts";

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
];

const SCALE_NOTE = "Time axis: piecewise linear. It is cut at every stage start and milestone " +
  "(thin lines, labelled below); each piece gets a width of 1 + log10(1 + its length in ms) " +
  "and is linear inside, so a 1 ms stage stays visible beside a 1.5 s wait. Dashed lines: " +
  "the report's timing milestones. Hover a mark for its text; marks on one pixel are merged. " +
  "Successful DMA is not in the report's timeline (only its totals, in the counters).";

/** Options of a report section. */
export interface ReportSectionOptions {
  /** Heading of the section (e.g. `4.13 baseline (no patches)`). */
  label?: string;
  /** Suffix of the section's element ids: `timeline-<key>`, `verdict-<key>` (none: bare). */
  key?: string;
}

/** A stray-writes table (the first {@link STRAY_ROWS}). */
function strayTable(report: Report): string {
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
    : "";
  return el(
    "details",
    { class: "strays" },
    el("summary", {}, `Stray DMA writes${more}`),
    el(
      "table",
      { class: "counts" },
      el("tr", {}, ...head.map((h) => el("th", {}, h))),
      ...rows,
    ),
  );
}

/** The console log, as a serial console shows it, folded. */
function consoleBlock(report: Report): string {
  if (report.dmesg.length === 0) return "";
  return el(
    "details",
    { class: "dmesg" },
    el("summary", {}, `Kernel log (${report.dmesg.length} lines)`),
    el("pre", {}, escapeHtml(consoleLog(report).join("\n"))),
  );
}

/** One report's `<section class="report">`: header, timeline, legend, tables, log. */
export function renderReportSection(report: Report, opts: ReportSectionOptions = {}): string {
  const suffix = opts.key;
  return el(
    "section",
    { class: "report", "data-key": suffix, "data-verdict": report.verdict },
    renderHeader(report, { label: opts.label, idSuffix: suffix }),
    renderTimeline(report, { id: suffix ? `timeline-${suffix}` : "timeline" }),
    el("div", { class: "hover-info mono" }, "hover a mark to read it here"),
    legend(MARK_LEGEND),
    el("p", { class: "note" }, escapeHtml(SCALE_NOTE)),
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

/** One report of a multi-report page. */
export interface LabelledReport {
  /** Id suffix of its elements, e.g. `baseline` → `<svg id="timeline-baseline">`. */
  key: string;
  /** Its heading. */
  label: string;
  report: Report;
}

/** A page with several Reports stacked, each in its own section (e.g. the demo's two). */
export function renderReportsHtml(
  reports: readonly LabelledReport[],
  opts: ReportPageOptions = {},
): string {
  const scenarios = [...new Set(reports.map((r) => r.report.scenario))].join(", ");
  const t = opts.title ?? `kdump-lab: ${scenarios}`;
  const sections = reports.map((r) => renderReportSection(r.report, r));
  return page(t, el("h1", {}, escapeHtml(t)) + sections.join("\n"));
}
