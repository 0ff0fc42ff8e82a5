/**
 * The SVG timeline of one Report: the two kernels and the kexec gap as bands, each kernel's
 * boot stages as bands, the kernel log as a strip of marks, an IOMMU lane (register writes,
 * commands, event-log entries) and a lane per device (stray DMA writes, faulted DMA by how
 * the fault ended: logged, suppressed, not logged, master abort). Every mark carries a
 * `<title>`; marks that fall on the same pixel are merged into one whose title lists them all.
 *
 * Hooks for tests and styles: `<svg id="…" class="timeline">`, `rect.band[data-stage]`
 * (`kernel1` stages, `panic`, `kernel2` stages), `rect.band.kernel[data-kernel]`,
 * `g.lane[data-lane]` / `g.lane.device[data-device]`, `.mark.mmio|command|event|irq|stray`,
 * `.mark.fault.logged|suppressed|unlogged|master-abort`, `.mark.dmesg`,
 * `line.milestone[data-milestone]`. The time axis is described in `scale.ts`.
 *
 * @module
 */
import { consoleLine, consoleTimestamp, type DmesgEntry } from "../lab/console.ts";
import { el, escapeHtml, ms, num, title } from "./kit.ts";
import { piecewiseScale, type TimeScale } from "./scale.ts";
import type { Report, TimelineEntry } from "../lab/report.ts";

/** Geometry of the timeline (pixels). */
const W = 1200, GUTTER = 170, RIGHT = 12, ROW = 18, GAP = 6;
/** Most lines a merged mark's title lists. */
const TITLE_LINES = 12;

type Kernel = "kernel1" | "between" | "kernel2";

/** A stage of the pipeline, as the timeline's `stage` entries give it. */
export interface Stage {
  /** Start, simulated ns. */
  t: number;
  /** End: the next stage's start, or the end of the run. */
  end: number;
  kernel: Kernel;
  /** The entry's text, e.g. `kernel2: iommu-enable`, `panic`, `kdump: save vmcore`. */
  label: string;
  /** A slug for `data-stage`: `iommu-enable`, `panic`, `kdump-save-vmcore`. */
  slug: string;
}

/** Slug of a stage text: the `kernelN: ` prefix dropped, other non-word runs become `-`. */
export function stageSlug(text: string): string {
  return text.replace(/^kernel[12]:\s*/, "").toLowerCase().replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The machine time of a dmesg entry (kernel2's times count from `timing.kernel2Start`). */
export function dmesgMachineTime(report: Report, entry: DmesgEntry): number | undefined {
  if (entry.kernel === "kernel1") return entry.time;
  const start = report.timing.kernel2Start;
  return start === undefined ? undefined : start + entry.time;
}

/** The last simulated time the report mentions (ns). */
export function endTime(report: Report): number {
  let end = 0;
  for (const e of report.timeline) end = Math.max(end, e.t);
  for (const v of Object.values(report.timing)) end = Math.max(end, v);
  for (const s of report.strayWrites) end = Math.max(end, s.time);
  for (const d of report.dmesg) end = Math.max(end, dmesgMachineTime(report, d) ?? 0);
  return end;
}

/** The stages of a report in time order, each ending where the next begins. */
export function stagesOf(report: Report): Stage[] {
  const entries = report.timeline.filter((e) => e.kind === "stage").sort((a, b) => a.t - b.t);
  const end = endTime(report);
  return entries.map((e, i) => ({
    t: e.t,
    end: i + 1 < entries.length ? entries[i + 1].t : end,
    kernel: e.kernel ?? (e.text.startsWith("kernel2") ? "kernel2" : "kernel1"),
    label: e.text,
    slug: stageSlug(e.text),
  }));
}

/** The devices named by the report (timeline `device` fields, stray writes), sorted. */
export function devicesOf(report: Report): string[] {
  const set = new Set<string>();
  for (const e of report.timeline) if (e.device) set.add(e.device);
  for (const s of report.strayWrites) set.add(s.device);
  return [...set].sort();
}

/** A point to draw: where, what class, what the tooltip says. */
interface Point {
  t: number;
  cls: string;
  text: string;
}

/** The context the renderers share. */
interface Ctx {
  report: Report;
  scale: TimeScale;
  kernel2Start?: number;
}

/** `703.941 ms (kdump kernel [    0.030069])`: a machine time and the console's stamp. */
function when(ctx: Ctx, t: number, kernel?: Kernel): string {
  if (kernel === "kernel1") return `${ms(t)} (first kernel ${consoleTimestamp(t)})`;
  if (kernel === "kernel2" && ctx.kernel2Start !== undefined && t >= ctx.kernel2Start) {
    return `${ms(t)} (second kernel ${consoleTimestamp(t - ctx.kernel2Start)})`;
  }
  return ms(t);
}

/** Marks of a row: points on the same pixel and class are merged; one `<rect>` each. */
function marks(ctx: Ctx, points: readonly Point[], y: number, h: number, w: number): string {
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    const key = `${Math.round(ctx.scale.x(p.t))}|${p.cls}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  let out = "";
  for (const g of groups.values()) {
    const x = ctx.scale.x(g[0].t);
    const lines = g.slice(0, TITLE_LINES).map((p) => p.text);
    if (g.length > TITLE_LINES) lines.push(`… and ${g.length - TITLE_LINES} more`);
    const head = g.length > 1 ? [`${g.length} entries:`] : [];
    out += el(
      "rect",
      {
        class: `mark ${g[0].cls}`,
        x: num(x - w / 2),
        y: num(y),
        width: num(w),
        height: num(h),
        "data-t": g[0].t,
        "data-count": g.length,
      },
      title([...head, ...lines].join("\n")),
    );
  }
  return out;
}

/** A labelled row background; returns the SVG and the next free y. */
function rowFrame(label: string, y: number, h: number, tip?: string): string {
  return el("rect", { class: "lane-bg", x: GUTTER, y, width: W - GUTTER - RIGHT, height: h }) +
    el(
      "text",
      { class: "lane-label", x: 6, y: num(y + h / 2 + 4) },
      escapeHtml(label),
      tip ? title(tip) : "",
    );
}

/** The top row: first kernel, kexec gap, second kernel. */
function kernelBands(ctx: Ctx, stages: readonly Stage[], y: number): string {
  const { report, scale } = ctx;
  const end = endTime(report);
  const crashed = stages.some((s) => s.slug === "panic");
  const panic = report.timing.panic ?? stages.find((s) => s.slug === "panic")?.t;
  const k2 = report.timing.kernel2Start;
  const spans: { kernel: Kernel; from: number; to: number; label: string }[] = [];
  const k1End = panic ?? k2 ?? end;
  spans.push({ kernel: "kernel1", from: 0, to: k1End, label: "first kernel" });
  if (panic !== undefined && k2 !== undefined) {
    spans.push({
      kernel: "between",
      from: panic,
      to: k2,
      label: crashed ? "panic → kexec" : "kexec",
    });
  }
  if (k2 !== undefined) {
    spans.push({
      kernel: "kernel2",
      from: k2,
      to: end,
      label: crashed ? "kdump (crash) kernel" : "second kernel",
    });
  }
  return spans.map((s) => {
    const x = scale.x(s.from), w = Math.max(2, scale.x(s.to) - x);
    return el(
      "g",
      {},
      el(
        "rect",
        {
          class: `band kernel ${s.kernel}`,
          "data-kernel": s.kernel,
          x: num(x),
          y,
          width: num(w),
          height: ROW + 2,
        },
        title(`${s.label}: ${ms(s.from)} – ${ms(s.to)} (${ms(s.to - s.from)})`),
      ),
      label(s.label, x, w, y + ROW - 3),
    );
  }).join("");
}

/** A band's text label when it fits (about 6 px a character). */
function label(text: string, x: number, w: number, y: number): string {
  if (text.length * 6.2 + 6 > w) return "";
  return el("text", { class: "band-label", x: num(x + 3), y: num(y) }, escapeHtml(text));
}

/** The stage row: one band per stage. */
function stageBands(ctx: Ctx, stages: readonly Stage[], y: number, h: number): string {
  return stages.map((s) => {
    const x = ctx.scale.x(s.t), w = Math.max(2, ctx.scale.x(s.end) - x);
    const short = s.label.replace(/^kernel[12]:\s*/, "");
    return el(
      "g",
      {},
      el(
        "rect",
        {
          class: `band stage ${s.kernel}`,
          "data-stage": s.slug,
          "data-kernel": s.kernel,
          "data-t": s.t,
          x: num(x),
          y,
          width: num(w),
          height: h,
        },
        title(`${s.label}: ${when(ctx, s.t, s.kernel)} – ${ms(s.end)} (${ms(s.end - s.t)})`),
      ),
      label(short, x, w, y + h / 2 + 4),
    );
  }).join("");
}

/** Vertical lines at each `timing` milestone, across the lanes. */
function milestones(ctx: Ctx, y0: number, y1: number): string {
  return Object.entries(ctx.report.timing).map(([name, t]) => {
    const x = num(ctx.scale.x(t));
    return el(
      "line",
      { class: "milestone", "data-milestone": name, x1: x, x2: x, y1: y0, y2: y1 },
      title(`${name}: ${ms(t)}`),
    );
  }).join("");
}

/** Thin lines at the scale's breakpoints and the time axis with non-overlapping labels. */
function axis(ctx: Ctx, y0: number, y1: number): string {
  let lastLabel = -Infinity;
  const parts = ctx.scale.breaks.map((t) => {
    const x = ctx.scale.x(t);
    const line = el(
      "line",
      { class: "breakpoint", x1: num(x), x2: num(x), y1: y0, y2: y1 + 4 },
      title(`axis breakpoint ${ms(t)}`),
    );
    if (x - lastLabel < 60) return line;
    lastLabel = x;
    const text = t >= 1e9 ? `${(t / 1e9).toFixed(3)} s` : `${(t / 1e6).toFixed(1)} ms`;
    return line + el("text", { x: num(x), y: y1 + 16, "text-anchor": "middle" }, text);
  });
  return el("g", { class: "axis" }, ...parts);
}

/** Points of the timeline entries of `kind` (optionally of one device). */
function pointsOf(
  ctx: Ctx,
  kind: TimelineEntry["kind"],
  cls: (e: TimelineEntry) => string,
  device?: string,
): Point[] {
  return ctx.report.timeline
    .filter((e) => e.kind === kind && (device === undefined || e.device === device))
    .map((e) => ({
      t: e.t,
      cls: cls(e),
      text: `${when(ctx, e.t, e.kernel)} ${e.device ? e.device + " " : ""}${e.text}`,
    }));
}

/** The dmesg strip: one mark per console line (merged per pixel), titled with the line. */
function dmesgRow(ctx: Ctx, y: number): string {
  const points: Point[] = [];
  for (const d of ctx.report.dmesg) {
    const t = dmesgMachineTime(ctx.report, d);
    if (t === undefined) continue;
    const who = d.kernel === "kernel1" ? "first kernel" : "second kernel";
    points.push({ t, cls: `dmesg ${d.level}`, text: `${who} ${consoleLine(d)}` });
  }
  return el(
    "g",
    { class: "lane", "data-lane": "dmesg" },
    rowFrame("kernel log (dmesg)", y, ROW, "each mark: the console lines printed there"),
    marks(ctx, points, y + 2, ROW - 4, 2),
  );
}

/** The IOMMU lane: register writes, commands, event-log entries (and device-less irqs). */
function iommuLane(ctx: Ctx, y: number): { svg: string; height: number } {
  const rows: [string, Point[], number][] = [
    ["IOMMU registers", pointsOf(ctx, "mmio", () => "mmio"), 1.5],
    ["IOMMU commands", pointsOf(ctx, "command", () => "command"), 2],
    ["IOMMU events", pointsOf(ctx, "event", () => "event"), 3],
  ];
  const irqs = ctx.report.timeline.filter((e) => e.kind === "irq" && !e.device);
  if (irqs.length) {
    rows.push(["interrupts", irqs.map((e) => ({ t: e.t, cls: "irq", text: e.text })), 2]);
  }
  let svg = "", dy = 0;
  for (const [name, points, w] of rows) {
    svg += rowFrame(name, y + dy, ROW, `${points.length} entries`);
    svg += marks(ctx, points, y + dy + 2, ROW - 4, w);
    dy += ROW + 2;
  }
  return { svg: el("g", { class: "lane iommu", "data-lane": "iommu" }, svg), height: dy };
}

/** One device's lane: stray writes on top, faulted DMA (and irqs) below. */
function deviceLane(ctx: Ctx, device: string, y: number): string {
  const strays = pointsOf(ctx, "stray", () => "stray", device);
  const faults = pointsOf(ctx, "dma-fault", (e) => `fault ${e.fault ?? "other"}`, device);
  const irqs = pointsOf(ctx, "irq", () => "irq", device);
  const strayTotal = ctx.report.strayWrites.filter((s) => s.device === device).length;
  const byClass = new Map<string, number>();
  for (const f of faults) byClass.set(f.cls, (byClass.get(f.cls) ?? 0) + 1);
  const faultText = [...byClass].map(([c, n]) => `${n} ${c.replace("fault ", "")}`).join(", ");
  const summary = `${device}: ${strayTotal} stray write(s) listed, ${faults.length} faulted ` +
    `DMA on the timeline${faultText ? ` (${faultText})` : ""}`;
  const h = ROW * 2;
  return el(
    "g",
    {
      class: "lane device",
      "data-lane": "device",
      "data-device": device,
      "data-strays": strays.length,
      "data-faults": faults.length,
    },
    rowFrame(`device ${device}`, y, h, summary),
    marks(ctx, strays, y + 2, ROW - 3, 3),
    marks(ctx, [...faults, ...irqs], y + ROW + 1, ROW - 3, 2),
  );
}

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  /** The `id` of the `<svg>` (default `timeline`). */
  id?: string;
}

/** The `<svg class="timeline">` of a report. */
export function renderTimeline(report: Report, opts: TimelineOptions = {}): string {
  const stages = stagesOf(report);
  const end = endTime(report);
  const scale = piecewiseScale(
    [0, end, ...stages.map((s) => s.t), ...Object.values(report.timing)],
    GUTTER,
    W - RIGHT,
  );
  const ctx: Ctx = { report, scale, kernel2Start: report.timing.kernel2Start };
  let y = 4;
  const parts: string[] = [];
  parts.push(kernelBands(ctx, stages, y));
  y += ROW + 2 + GAP;
  const stageH = ROW + 8;
  parts.push(rowFrame("stages", y, stageH), stageBands(ctx, stages, y, stageH));
  y += stageH + GAP;
  const lanesTop = y;
  parts.push(dmesgRow(ctx, y));
  y += ROW + GAP;
  const iommu = iommuLane(ctx, y);
  parts.push(iommu.svg);
  y += iommu.height + GAP;
  for (const device of devicesOf(report)) {
    parts.push(deviceLane(ctx, device, y));
    y += ROW * 2 + GAP;
  }
  const axisY = y;
  const height = axisY + 24;
  return el(
    "svg",
    {
      id: opts.id ?? "timeline",
      class: "timeline",
      viewBox: `0 0 ${W} ${height}`,
      width: W,
      height,
      role: "img",
      "aria-label": `timeline of ${report.scenario}: ${report.verdict}`,
      "data-verdict": report.verdict,
    },
    axis(ctx, lanesTop - GAP - stageH, axisY),
    ...parts,
    milestones(ctx, 4, axisY),
  );
}
