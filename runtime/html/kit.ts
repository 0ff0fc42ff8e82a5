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

/** Fill colour of each verdict (also used by the heatmaps' legends). */
export const VERDICT_COLORS: Record<Verdict, string> = {
  "dump-ok": "#2e9d4f",
  "boot-ok": "#3aa6a0",
  "dump-corrupt": "#e08a1e",
  "dump-failed": "#d23c3c",
  "hang": "#7b4fb0",
  "panic": "#8c1c1c",
  "plugin-error": "#c2378f",
  "skipped": "#9aa0a6",
};

/** The colour of a verdict; an unknown verdict is drawn black. */
export function verdictColor(verdict: string): string {
  return (VERDICT_COLORS as Record<string, string>)[verdict] ?? "#222222";
}

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #1d1f23; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 24px 0 6px; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.report { border-top: 1px solid #ccd; padding-top: 8px; margin-top: 16px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff;
  font-weight: 600; }
.cause { margin: 6px 0; }
.counters { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; padding: 0; }
.counters div { display: flex; gap: 6px; }
.counters dt { color: #555; } .counters dd { margin: 0; font-weight: 600; }
.meta { color: #555; }
svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg .band { stroke: #fff; stroke-width: 0.5; }
svg .band.kernel1 { fill: #d9e6f5; } svg .band.kernel2 { fill: #dcefdc; }
svg .band.between { fill: #f4d7d7; } svg .band.stage.kernel1 { fill: #bcd3ee; }
svg .band.stage.kernel2 { fill: #bfe0bf; } svg .band[data-stage="panic"] { fill: #d9534f; }
svg .band-label { fill: #1d1f23; pointer-events: none; }
svg .lane-bg { fill: #f7f8fa; } svg .lane-label { fill: #333; }
svg .milestone { stroke: #555; stroke-dasharray: 3 3; }
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
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.hover-info { min-height: 2.8em; white-space: pre-wrap; background: #f4f5f7; padding: 4px 8px;
  border-radius: 4px; }
.note { color: #555; font-size: 12px; max-width: 70em; }
details pre { background: #f7f8fa; padding: 8px; overflow-x: auto; }
table.counts { border-collapse: collapse; } table.counts td, table.counts th
{ border: 1px solid #dde; padding: 2px 6px; text-align: right; }
`;

/**
 * Copies the `<title>` of the mark (or cell) under the pointer into the page's hover box, so
 * a mark's text and dmesg lines can be read (and selected) without waiting for the tooltip.
 */
const SCRIPT = `
document.addEventListener("mouseover", (e) => {
  const mark = e.target.closest && e.target.closest(".mark, .cell, .band");
  if (!mark) return;
  const t = mark.querySelector(":scope > title");
  const box = mark.closest("section, body").querySelector(".hover-info");
  if (t && box) box.textContent = t.textContent;
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

/** A legend: `<ul class="legend">` of swatches with labels. */
export function legend(items: readonly { color: string; label: string; key?: string }[]): string {
  return el(
    "ul",
    { class: "legend" },
    ...items.map((i) =>
      el(
        "li",
        { "data-key": i.key },
        el("span", { class: "swatch", style: `background:${i.color}` }),
        escapeHtml(i.label),
      )
    ),
  );
}
