/**
 * Self-contained HTML pages of lab results — pure functions from data to one HTML string
 * (inline CSS, a few lines of inline script, inline SVG; nothing fetched, no dependencies).
 * This folder sits between the CLI and the lab: it reads the lab's results and types, and
 * nothing in the lab imports it.
 *
 * - {@link renderReportHtml}: one Report (`report.ts`: header, SVG timeline, legend, stray
 *   writes, console log);
 * - {@link renderReportsHtml}: several Reports compared on one time axis (the demo's);
 * - {@link renderMatrixHtml}: a matrix's patch sets that ran, grouped by outcome, and why
 *   the rest were skipped (`matrix.ts`);
 * - {@link renderAblateHtml}: an ablation as a shaded table (`ablate.ts`);
 * - {@link renderSweepHtml}: a sweep over seeds — verdicts, rates, each seed (`sweep.ts`).
 *
 * Write the string with the CLI's `writeHtml(file, html)` (`runtime/cli/html-output.ts`).
 *
 * @module
 */
export {
  type LabelledReport,
  renderReportHtml,
  renderReportsHtml,
  type ReportPageOptions,
} from "./report.ts";
export { type MatrixCell, type MatrixHeatmapInput, renderMatrixHtml } from "./matrix.ts";
export { type AblateHeatmapInput, type AblateRow, renderAblateHtml } from "./ablate.ts";
export { renderSweepHtml, type SweepPageOptions } from "./sweep.ts";
