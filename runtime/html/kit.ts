/**
 * Building blocks of the HTML views (`html.ts`): escaping, elements as strings, verdict
 * colours, number formats and the page shell with its inline style and script. Everything is
 * a pure function of its arguments; the page loads nothing from anywhere.
 *
 * @module
 */
import type { Verdict } from "../lab/report.ts";

/** Escapes text for HTML content and quoted attribute values (`& < > " '`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** An attribute value: a string or number is written, `undefined`/`false` leaves it out. */
export type AttrValue = string | number | boolean | undefined;

/** ` a="1" b="x"` from a record, escaped, in insertion order; `true` writes a bare name. */
export function attrs(record: Record<string, AttrValue>): string {
  let out = "";
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined || value === false) continue;
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  return out;
}

/**
 * An element as a string: `el("rect", { x: 1 })` is `<rect x="1"/>`; with children (already
 * HTML) it is `<g …>children</g>`. SVG elements may self-close inside inline `<svg>`; HTML
 * elements are always given a closing tag.
 */
export function el(tag: string, record: Record<string, AttrValue>, ...children: string[]): string {
  if (children.length === 0 && SVG_EMPTY.has(tag)) return `<${tag}${attrs(record)}/>`;
  return `<${tag}${attrs(record)}>${children.join("")}</${tag}>`;
}

const SVG_EMPTY = new Set(["rect", "line", "circle", "path", "polygon", "polyline"]);

/** A `<title>` (an SVG hover tooltip) holding `text`, escaped. */
export function title(text: string): string {
  return `<title>${escapeHtml(text)}</title>`;
}

/** A number with at most `digits` decimals, no trailing zeros: SVG coordinates stay short. */
export function num(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/** Simulated nanoseconds as milliseconds with microsecond precision: `703.941 ms`. */
export function ms(ns: number): string {
  return `${(ns / 1e6).toFixed(3)} ms`;
}

/**
 * The narrowest a timeline's plot gets (CSS px): what is left of an 800 px window beside the
 * lane labels. Labels are placed so that they neither overlap nor leave the plot at this width,
 * and so at any wider one (positions scale with the width, label sizes do not); below it the
 * figure scrolls sideways instead of shrinking.
 */
export const PLOT_MIN = 520;
/** From this plot width up, the labels of class `wide` (placed for this width) are shown too. */
export const PLOT_WIDE = 1000;

/** Fill colour of each verdict (also used by the heatmaps' legends). */
export const VERDICT_COLORS: Record<Verdict, string> = {
  "dump-ok": "#2e9d4f",
  "boot-ok": "#3aa6a0",
  "dump-corrupt": "#e08a1e",
  "dump-failed": "#d23c3c",
  "hang": "#7b4fb0",
  "panic": "#8c1c1c",
  "plugin-error": "#c2378f",
  "plugin-timeout": "#a0306f",
  "plugin-oom": "#7d2758",
  "skipped": "#9aa0a6",
};

/** The colour of a verdict; an unknown verdict is drawn black. */
export function verdictColor(verdict: string): string {
  return (VERDICT_COLORS as Record<string, string>)[verdict] ?? "#222222";
}

/**
 * Text inside the SVG figures: one monospace face at fixed CSS pixel sizes (figures are not
 * scaled, see `timeline.ts`), so a label's width is known when the page is written.
 */
export const SVG_FONT = 12;
/** The smallest text size on a page (axis and milestone labels). */
export const SMALL_FONT = 11;

/**
 * Width in pixels of `text` in the figures' monospace face at `size` px. Monospace faces
 * advance about 0.6 em a character (DejaVu Sans Mono 0.602, Menlo 0.602, Consolas 0.55);
 * 0.62 em keeps a margin for the wider ones.
 */
export function textWidth(text: string, size = SVG_FONT): number {
  return [...text].length * size * 0.62;
}

/** A fraction 0 … 1 of a figure's plot width as an SVG percentage length: `41.237%`. */
export function pct(fraction: number): string {
  return `${num(fraction * 100, 3)}%`;
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d1f23; background: #fff;
  max-width: 1800px; }
@media (max-width: 900px) { body { margin: 12px; } }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 6px; }
h3 { font-size: 14px; margin: 16px 0 4px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.report, .comparison { border-top: 1px solid #ccd; padding-top: 8px; margin-top: 16px; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr));
  gap: 0 32px; }
.runs h2 { margin-top: 8px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff;
  font-weight: 600; }
.cause { margin: 6px 0; }
.counters { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; padding: 0; }
.counters div { display: flex; gap: 6px; }
.counters dt { color: #555; } .counters dd { margin: 0; font-weight: 600; }
.meta { color: #555; }
figure { margin: 8px 0; }
svg text { font: ${SVG_FONT}px ui-monospace, "DejaVu Sans Mono", monospace; fill: #1d1f23; }
svg text.small { font-size: ${SMALL_FONT}px; }
.tl-scroll { overflow-x: auto; padding-bottom: 2px; }
.tl { display: flex; align-items: flex-start; }
.tl-gutter { flex: none; }
.tl-plot { flex: 1 1 auto; min-width: ${PLOT_MIN}px; padding-right: 6px;
  container: plot / inline-size; }
.tl-plot svg { display: block; width: 100%; overflow: visible; }
@container plot (width < ${PLOT_WIDE}px) { .wide { display: none; } }
svg .band { stroke: #fff; stroke-width: 0.5; }
svg .band.kernel1 { fill: #d9e6f5; } svg .band.kernel2 { fill: #dcefdc; }
svg .band.between { fill: #f4d7d7; } svg .band.stage.kernel1 { fill: #bcd3ee; }
svg .band.stage.kernel2 { fill: #bfe0bf; } svg .band[data-stage="panic"] { fill: #d9534f; }
svg .band-label { pointer-events: none; }
svg text.halo { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg .band-label.on-kernel1 { stroke: #d9e6f5; } svg .band-label.on-kernel2 { stroke: #dcefdc; }
svg .band-label.on-between { stroke: #f4d7d7; }

svg .lane-bg { fill: #f4f5f7; } svg .lane-bg.alt { fill: #e9eef6; }
svg .lane-label { fill: #333; } svg .run-tag { fill: #555; }
svg .milestone { stroke: #555; stroke-dasharray: 3 3; }
svg .milestone-label { fill: #333; }
svg .stage-tick { stroke: #8a94a6; stroke-width: 1; } svg .stage-name { fill: #333; }
svg .breakpoint { stroke: #c4c8cf; stroke-width: 0.5; }
svg .axis text { fill: #555; }
svg .mark { cursor: pointer; }
svg .mark:hover { stroke: #000; stroke-width: 1; }
svg .mark.mmio { fill: #4a6fa5; } svg .mark.command { fill: #2b8a8a; }
svg .mark.event { fill: #b8860b; } svg .mark.irq { fill: #6b6b6b; }
svg .mark.stray { fill: #d62728; }
svg .mark.fault.logged { fill: #ff7f0e; } svg .mark.fault.suppressed { fill: #f3c58f; }
svg .mark.fault.unlogged { fill: #c9a36b; } svg .mark.fault.master-abort { fill: #8c6d46; }
svg .mark.fault.other { fill: #a0522d; }
svg .mark.dmesg { fill: #555; } svg .mark.dmesg.err, svg .mark.dmesg.emerg,
svg .mark.dmesg.crit, svg .mark.dmesg.alert { fill: #d62728; }
svg .mark.dmesg.warn { fill: #e0a800; }
svg .cell { stroke: #fff; stroke-width: 0.5; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0; padding: 0;
  list-style: none; }
.legend li { display: flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; flex: none; }
.swatch.line { height: 0; border-top: 2px dashed #555; border-radius: 0; }
.hover-info { min-height: 2.8em; white-space: pre-wrap; background: #f4f5f7; padding: 4px 8px;
  border-radius: 4px; }
.note { color: #555; font-size: 12px; max-width: 70em; }
details { margin: 4px 0; }
details pre { background: #f7f8fa; padding: 8px; overflow-x: auto; }
.table-scroll { overflow-x: auto; }
.hover-info.sticky { position: sticky; top: 0; z-index: 1;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.15); }
svg .dot.off { fill: #b9bec6; } svg .patch-row { stroke: none; }
svg .cell.set { fill: transparent; stroke: none; }
svg .cell.set:hover { fill: rgba(0, 0, 0, 0.14); }
svg .share.all { font-weight: 700; } svg .share.none { fill: #80868f; }
figure.outcome { margin: 14px 0 18px; }
figure.outcome figcaption { margin: 0 0 4px; }
figure.outcome .smallest { display: block; font-size: 12px; }
table.reasons { border-collapse: collapse; }
table.reasons th { text-align: left; font-size: 12px; color: #555; }
table.reasons td { padding: 2px 8px; } table.reasons td.count { text-align: right;
  font-weight: 600; font-variant-numeric: tabular-nums; }
.bar { display: block; height: 10px; border-radius: 2px; }
table.reasons td.bar-cell { width: 100px; }
table.ablate { border-collapse: collapse; }
table.ablate th, table.ablate td { border: 1px solid #fff; padding: 3px 8px; }
table.ablate thead th { vertical-align: bottom; font-size: 12px; color: #333;
  font-weight: 600; }
table.ablate td.cell { text-align: center; font-variant-numeric: tabular-nums;
  vertical-align: middle; min-width: 2.5em; }
table.ablate tbody th.left-out { vertical-align: top; }
table.ablate td.verdict-cell { color: #fff; font-weight: 600; white-space: nowrap; }
table.ablate td.on-dark { color: #fff; }
table.ablate th.left-out { text-align: left; font-weight: normal; }
table.ablate tbody tr:nth-child(odd) th { background: #f7f8fa; }
table.ablate .sub { color: #555; font-size: 12px; max-width: 40em; }
table.ablate .changes { color: #8c1c1c; font-size: 12px; max-width: 40em; }
table.counts { border-collapse: collapse; } table.counts td, table.counts th
{ border: 1px solid #dde; padding: 2px 6px; text-align: right; }
`;

/**
 * Copies the `<title>` of the mark (or cell) under the pointer into the page's hover box, so
 * a mark's text and dmesg lines can be read (and selected) without waiting for the tooltip.
 */
const SCRIPT = `
document.addEventListener("mouseover", (e) => {
  const mark = e.target.closest && e.target.closest(".mark, .cell, .band, .hover");
  if (!mark) return;
  const t = mark.querySelector(":scope > title");
  const text = t ? t.textContent : mark.getAttribute("title");
  const box = mark.closest("section, body").querySelector(".hover-info");
  if (text && box) box.textContent = text;
});
`;

/** A whole page: `<!DOCTYPE html>`, the inline style and script, `body` as given (HTML). */
export function page(pageTitle: string, body: string): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="kdump-lab">',
    `<title>${escapeHtml(pageTitle)}</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    body,
    `<script>${SCRIPT}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/** An item of a {@link legend}: a colour swatch (or, with `line`, a dashed line) and a label. */
export interface LegendItem {
  color: string;
  label: string;
  key?: string;
  line?: boolean;
}

/** A legend: `<ul class="legend">` of swatches with labels. */
export function legend(items: readonly LegendItem[]): string {
  return el(
    "ul",
    { class: "legend" },
    ...items.map((i) =>
      el(
        "li",
        { "data-key": i.key },
        i.line
          ? el("span", { class: "swatch line" })
          : el("span", { class: "swatch", style: `background:${i.color}` }),
        escapeHtml(i.label),
      )
    ),
  );
}
