/**
 * The header of a report's HTML section: verdict, cause, what ran, and the counters a reader
 * compares between runs (IOMMU events, printed and suppressed faults, stray writes, dump
 * pages, DMA volume). Each counter is a `<div data-counter="…">` in `<dl class="counters">`.
 *
 * @module
 */
import { el, escapeHtml, verdictColor } from "./kit.ts";
import { type Report, requiresText } from "../lab/report.ts";

/** One counter of the header: key (for `data-counter`), label, value. */
export interface Counter {
  key: string;
  label: string;
  value: number | string;
}

/** The counters shown for a report, in display order; absent parts are left out. */
export function reportCounters(report: Report): Counter[] {
  const out: Counter[] = [];
  for (const [name, n] of Object.entries(report.events)) {
    if (n > 0 || name === "IO_PAGE_FAULT") {
      out.push({ key: `events.${name}`, label: name, value: n });
    }
  }
  out.push(
    { key: "faultsPrinted", label: "faults printed", value: report.faultsPrinted },
    { key: "faultsSuppressed", label: "faults suppressed", value: report.faultsSuppressed },
    { key: "eventsDropped", label: "events dropped", value: report.eventsDropped },
    { key: "strayWrites", label: "stray DMA writes", value: report.strayWriteCount },
  );
  if (report.dump) {
    out.push(
      { key: "dump.badPages", label: "bad dump pages", value: report.dump.badPages },
      {
        key: "dump.pages",
        label: "dump pages written",
        value: `${report.dump.pagesWritten}/${report.dump.pages}`,
      },
    );
  }
  for (const [key, label] of [["dmaWrites", "DMA writes"], ["dmaReads", "DMA reads"]]) {
    const v = report.stats[key];
    if (v !== undefined) out.push({ key: `stats.${key}`, label, value: v });
  }
  return out;
}

/** Options of {@link renderHeader}. */
export interface HeaderOptions {
  /** A heading above the verdict (e.g. `4.13 baseline`). */
  label?: string;
  /** Suffix of the element ids (`verdict`, or `verdict-<suffix>`). */
  idSuffix?: string;
}

/** The header HTML of a report. */
export function renderHeader(report: Report, opts: HeaderOptions = {}): string {
  const id = (base: string) => (opts.idSuffix ? `${base}-${opts.idSuffix}` : base);
  const series = report.series.length ? report.series.join(", ") : "none (the 4.13 baseline)";
  const parts = [
    opts.label ? el("h2", {}, escapeHtml(opts.label)) : "",
    el(
      "div",
      {},
      el(
        "span",
        {
          id: id("verdict"),
          class: `verdict verdict-${report.verdict}`,
          "data-verdict": report.verdict,
          style: `background:${verdictColor(report.verdict)}`,
        },
        escapeHtml(report.verdict),
      ),
      " ",
      el(
        "span",
        { class: "meta" },
        `scenario <code>${escapeHtml(report.scenario)}</code>, seed ${report.seed}`,
      ),
    ),
    el("p", { id: id("cause"), class: "cause" }, escapeHtml(report.cause)),
    el("p", { class: "meta series" }, `series: ${escapeHtml(series)}`),
  ];
  if (report.missing.length) {
    const text = report.missing.map(requiresText).join("; ");
    parts.push(el("p", { class: "meta missing" }, `missing: ${escapeHtml(text)}`));
  }
  if (report.pluginError) {
    const e = report.pluginError;
    parts.push(
      el("p", { class: "plugin-error" }, escapeHtml(`${e.plugin} at ${e.hook}: ${e.message}`)),
    );
  }
  parts.push(el(
    "dl",
    { id: id("counters"), class: "counters" },
    ...reportCounters(report).map((c) =>
      el(
        "div",
        { "data-counter": c.key },
        el("dt", {}, escapeHtml(c.label)),
        el("dd", {}, escapeHtml(String(c.value))),
      )
    ),
  ));
  return el("header", { class: "report-header" }, ...parts);
}
