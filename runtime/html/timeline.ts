/**
 * The SVG timeline of one Report, or of several on one shared time axis (the demo's 4.13
 * baseline and series): the two kernels and the kexec gap as bands, each kernel's boot
 * stages as bands, the kernel log as a strip of marks, IOMMU lanes (register writes,
 * commands, event-log entries) and a lane per device (stray DMA writes on top, faulted DMA
 * below, by how the fault ended: logged, suppressed, not logged, master abort). With several
 * runs each lane has one row per run, next to each other, so the same moment lines up in
 * both. The report's `timing` milestones are dashed lines labelled above the lanes.
 *
 * Every mark carries a `<title>`; marks that fall on the same pixel (at {@link PLOT_WIDE})
 * are merged into one whose title lists them all.
 *
 * Layout: the lane names are a fixed-width SVG (`svg.tl-gutter`) beside the plot
 * (`svg.timeline`), which takes the rest of the width. The plot has no viewBox — its
 * x coordinates are percentages, its text stays at its CSS pixel size at every width — and
 * its labels are placed for the narrowest plot (see `labels.ts`), so nothing overlaps or
 * shrinks from an 800 px window up.
 *
 * Hooks for tests and styles: `<svg id="…" class="timeline">`, `rect.band[data-stage]`
 * (`kernel1` stages, `panic`, `kernel2` stages), `rect.band.kernel[data-kernel]`,
 * `g.lane[data-lane][data-run]` / `g.lane.device[data-device]`,
 * `.mark.mmio|command|event|irq|stray`, `.mark.fault.logged|suppressed|unlogged|master-abort`,
 * `.mark.dmesg`, `line.milestone[data-milestone]`, `text.milestone-label`. The time axis is
 * described in `scale.ts`.
 *
 * @module
 */
import { consoleLine, consoleTimestamp, type DmesgEntry } from "../lab/console.ts";
import type { Report, TimelineEntry } from "../lab/report.ts";
import {
  el,
  escapeHtml,
  ms,
  num,
  pct,
  PLOT_MIN,
  PLOT_WIDE,
  SMALL_FONT,
  textWidth,
  title,
  verdictColor,
} from "./kit.ts";
import { type LabelSpec, placeLabels, tieredLabels } from "./labels.ts";
import { piecewiseScale, type TimeScale } from "./scale.ts";

/** Geometry (CSS pixels): a row, the gap between lanes, a level of milestone labels. */
const ROW = 18, GAP = 8, RUN_GAP = 2, LEVEL = 15, AXIS = 22;
/** Rows of stage names under the stage rows. */
const NAME_ROWS = 3;
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

/** One run drawn on a timeline. */
export interface TimelineRun {
  report: Report;
  /** `data-run` of its rows (default: its position, `0`, `1`, …). */
  key?: string;
  /** The short name beside its rows when there are several runs (e.g. `4.13`, `series`). */
  tag?: string;
}

/** A point to draw: where, what class, what the tooltip says. */
interface Point {
  t: number;
  cls: string;
  text: string;
}

/** What the lane renderers share for one run. */
interface Ctx {
  report: Report;
  scale: TimeScale;
  kernel2Start?: number;
  key: string;
  tag: string;
  /** Its position among the runs (odd runs get a tinted row background). */
  index: number;
  /** Text drawn above everything else (shared by the runs): band labels. */
  overlay: string[];
}

/** `703.941 ms (kdump kernel [    0.030069])`: a machine time and the console's stamp. */
function when(ctx: Ctx, t: number, kernel?: Kernel): string {
  if (kernel === "kernel1") return `${ms(t)} (first kernel ${consoleTimestamp(t)})`;
  if (kernel === "kernel2" && ctx.kernel2Start !== undefined && t >= ctx.kernel2Start) {
    return `${ms(t)} (second kernel ${consoleTimestamp(t - ctx.kernel2Start)})`;
  }
  return ms(t);
}

/**
 * Marks of a row, `w` px wide and centred on their time: points on the same pixel (at
 * {@link PLOT_WIDE}) and of the same class are merged; one `<rect>` each.
 */
function marks(ctx: Ctx, points: readonly Point[], y: number, h: number, w: number): string {
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    const key = `${Math.round(ctx.scale.x(p.t) * PLOT_WIDE)}|${p.cls}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  let out = "";
  for (const g of groups.values()) {
    const lines = g.slice(0, TITLE_LINES).map((p) => p.text);
    if (g.length > TITLE_LINES) lines.push(`… and ${g.length - TITLE_LINES} more`);
    const head = g.length > 1 ? [`${g.length} entries:`] : [];
    const tag = ctx.tag ? [`[${ctx.tag}]`] : [];
    out += el(
      "rect",
      {
        class: `mark ${g[0].cls}`,
        x: pct(ctx.scale.x(g[0].t)),
        y: num(y),
        width: num(w),
        height: num(h),
        transform: `translate(${num(-w / 2)})`,
        "data-t": g[0].t,
        "data-count": g.length,
      },
      title([...tag, ...head, ...lines].join("\n")),
    );
  }
  return out;
}

/**
 * A label inside a band from `f0` to `f1` (fractions of the plot), if it fits there (only on
 * wide plots: class `wide`). It goes to the overlay, above the milestone lines, with a halo
 * of the band's colour (class `cls`).
 */
function bandLabel(ctx: Ctx, text: string, f0: number, f1: number, y: number, cls: string): void {
  const need = textWidth(text) + 6;
  const tier = need <= (f1 - f0) * PLOT_MIN ? "" : need <= (f1 - f0) * PLOT_WIDE ? " wide" : null;
  if (tier === null) return;
  ctx.overlay.push(el(
    "text",
    { class: `band-label halo ${cls}${tier}`, x: pct(f0), dx: 3, y: num(y) },
    escapeHtml(text),
  ));
}

/** A band's width: its share of the plot, or 2 px when it would be thinner than that. */
function bandWidth(f0: number, f1: number): string | number {
  return (f1 - f0) * PLOT_MIN < 2 ? 2 : pct(f1 - f0);
}

/** The top row of a run: first kernel, kexec gap, second kernel. */
function kernelBands(ctx: Ctx, y: number, h: number): string {
  const { report, scale } = ctx;
  const stages = stagesOf(report);
  const end = endTime(report);
  const crashed = stages.some((s) => s.slug === "panic");
  const panic = report.timing.panic ?? stages.find((s) => s.slug === "panic")?.t;
  const k2 = report.timing.kernel2Start;
  const spans: { kernel: Kernel; from: number; to: number; label: string }[] = [];
  const k1End = panic ?? k2 ?? end;
  spans.push({ kernel: "kernel1", from: 0, to: k1End, label: "first kernel" });
  if (panic !== undefined && k2 !== undefined) {
    spans.push({ kernel: "between", from: panic, to: k2, label: crashed ? "kexec" : "gap" });
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
    const f0 = scale.x(s.from), f1 = scale.x(s.to);
    bandLabel(ctx, s.label, f0, f1, y + h / 2 + 4, `on-${s.kernel}`);
    return el(
      "rect",
      {
        class: `band kernel ${s.kernel}`,
        "data-kernel": s.kernel,
        x: pct(f0),
        y,
        width: bandWidth(f0, f1),
        height: h,
      },
      title(`${s.label}: ${ms(s.from)} – ${ms(s.to)} (${ms(s.to - s.from)})`),
    );
  }).join("");
}

/** The stage row of a run: one band per stage (named in the strip under the stage rows). */
function stageBands(ctx: Ctx, y: number, h: number): string {
  return stagesOf(ctx.report).map((s) => {
    const f0 = ctx.scale.x(s.t), f1 = ctx.scale.x(s.end);
    return el(
      "rect",
      {
        class: `band stage ${s.kernel}`,
        "data-stage": s.slug,
        "data-kernel": s.kernel,
        "data-t": s.t,
        x: pct(f0),
        y,
        width: bandWidth(f0, f1),
        height: h,
      },
      title(`${s.label}: ${when(ctx, s.t, s.kernel)} – ${ms(s.end)} (${ms(s.end - s.t)})`),
    );
  }).join("");
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

/** The dmesg points of a run: one per console line, titled with the line. */
function dmesgPoints(ctx: Ctx): Point[] {
  const points: Point[] = [];
  for (const d of ctx.report.dmesg) {
    const t = dmesgMachineTime(ctx.report, d);
    if (t === undefined) continue;
    const who = d.kernel === "kernel1" ? "first kernel" : "second kernel";
    points.push({ t, cls: `dmesg ${d.level}`, text: `${who} ${consoleLine(d)}` });
  }
  return points;
}

/** Device-less interrupts of a run. */
function irqPoints(ctx: Ctx): Point[] {
  return ctx.report.timeline.filter((e) => e.kind === "irq" && !e.device)
    .map((e) => ({ t: e.t, cls: "irq", text: `${when(ctx, e.t, e.kernel)} ${e.text}` }));
}

/** A device's lane summary (its gutter tooltip). */
function deviceSummary(ctx: Ctx, device: string): string {
  const faults = pointsOf(ctx, "dma-fault", (e) => `${e.fault ?? "other"}`, device);
  const strays = ctx.report.strayWrites.filter((s) => s.device === device).length;
  const byClass = new Map<string, number>();
  for (const f of faults) byClass.set(f.cls, (byClass.get(f.cls) ?? 0) + 1);
  const faultText = [...byClass].map(([c, n]) => `${n} ${c}`).join(", ");
  return `${ctx.tag ? `[${ctx.tag}] ` : ""}${device}: ${strays} stray write(s), ` +
    `${faults.length} faulted DMA${faultText ? ` (${faultText})` : ""}`;
}

/** One device lane of a run: stray writes on top, faulted DMA (and irqs) below. */
function deviceRow(ctx: Ctx, device: string, y: number): string {
  const strays = pointsOf(ctx, "stray", () => "stray", device);
  const faults = pointsOf(ctx, "dma-fault", (e) => `fault ${e.fault ?? "other"}`, device);
  const irqs = pointsOf(ctx, "irq", () => "irq", device);
  return el(
    "g",
    {
      class: "lane device",
      "data-lane": "device",
      "data-device": device,
      "data-run": ctx.key,
      "data-strays": strays.length,
      "data-faults": faults.length,
    },
    laneBg(ctx, y, ROW * 2),
    marks(ctx, strays, y + 2, ROW - 3, 3),
    marks(ctx, [...faults, ...irqs], y + ROW + 1, ROW - 3, 2),
  );
}

/** A row's background (tinted for every other run). */
function laneBg(ctx: Ctx, y: number, h: number): string {
  return el("rect", {
    class: ctx.index % 2 ? "lane-bg alt" : "lane-bg",
    x: 0,
    y,
    width: "100%",
    height: h,
  });
}

/** A lane: its name, and per run a row drawn by `draw`. */
interface Lane {
  name: string;
  /** The gutter tooltip of the name. */
  tip: string;
  height: number;
  draw: (ctx: Ctx, y: number) => string;
  /** Per-run tooltip of the run's tag (default: the run's label). */
  runTip?: (ctx: Ctx) => string;
  /** `draw` makes its own `<g class="lane …">` (else it is wrapped in one). */
  ownGroup?: boolean;
  /** Drawn once for all runs (by `shared`, `height` high) instead of a row per run. */
  shared?: (y: number) => string;
}

/** A milestone: its label, and a line per run (one when the runs agree). */
interface Milestone {
  /** The `timing` key, e.g. `kernel2.iommuEnabled`. */
  name: string;
  /** Its label: the key's last part (`iommuEnabled`). */
  label: string;
  /** Where the label hangs: the earliest line. */
  f: number;
  /** The lines: one per run that reaches it, or one for all when they agree to a pixel. */
  lines: { f: number; run?: Ctx }[];
  tip: string;
}

/**
 * The milestones of the runs, in time order. Where every run that has a milestone reaches
 * it on the same pixel (at {@link PLOT_WIDE}) it is one line; otherwise one line per run, in
 * the colour of the run's verdict. Either way it has one label.
 */
function milestonesOf(ctxs: readonly Ctx[]): Milestone[] {
  const names: string[] = [];
  for (const c of ctxs) {
    for (const n of Object.keys(c.report.timing)) if (!names.includes(n)) names.push(n);
  }
  return names.map((name): Milestone => {
    const at = ctxs.filter((c) => c.report.timing[name] !== undefined)
      .map((c) => ({ c, t: c.report.timing[name], f: c.scale.x(c.report.timing[name]) }));
    const px = at.map((a) => Math.round(a.f * PLOT_WIDE));
    const together = px.every((p) => Math.abs(p - px[0]) <= 1);
    const tip = at.map((a) => `${a.c.tag ? `[${a.c.tag}] ` : ""}${name}: ${ms(a.t)}`);
    return {
      name,
      label: name.split(".").at(-1)!,
      f: Math.min(...at.map((a) => a.f)),
      lines: together ? [{ f: at[0].f }] : at.map((a) => ({ f: a.f, run: a.c })),
      tip: tip.join("\n"),
    };
  }).sort((a, b) => a.f - b.f || a.label.localeCompare(b.label));
}

/** A stage's name under the stage rows: where it starts, its text, its tooltip. */
interface StageName {
  f: number;
  text: string;
  tip: string;
  slug: string;
}

/**
 * The stage names to write under the stage rows: one per stage start, merged across runs
 * where the same stage of the same kernel starts on the same pixel (at {@link PLOT_WIDE}).
 */
function stageNames(ctxs: readonly Ctx[]): StageName[] {
  const out: (StageName & { key: string; px: number })[] = [];
  for (const c of ctxs) {
    for (const s of stagesOf(c.report)) {
      const f = c.scale.x(s.t), px = Math.round(f * PLOT_WIDE);
      const key = `${s.kernel}|${s.slug}`;
      const tip = `${c.tag ? `[${c.tag}] ` : ""}${s.label}: ${when(c, s.t, s.kernel)}`;
      const same = out.find((o) => o.key === key && Math.abs(o.px - px) <= 1);
      if (same) {
        same.tip += `\n${tip}`;
        continue;
      }
      out.push({ f, text: s.label.replace(/^kernel[12]:\s*/, ""), tip, slug: s.slug, key, px });
    }
  }
  return out.sort((a, b) => a.f - b.f);
}

/** The strip of stage names: {@link NAME_ROWS} rows of labels, each with a tick at its stage's start. */
function stageNameStrip(ctxs: readonly Ctx[], y: number): string {
  const names = stageNames(ctxs);
  const tiers = tieredLabels(
    names.map((n): LabelSpec => ({
      f: n.f,
      width: textWidth(n.text, SMALL_FONT),
      anchor: "start",
    })),
    PLOT_MIN,
    PLOT_WIDE,
    NAME_ROWS,
  );
  return el(
    "g",
    { class: "stage-names" },
    ...names.map((n, i) => {
      const { tier, placement } = tiers[i];
      if (tier < 0) return "";
      const base = y + (placement.level + 1) * LEVEL - 3;
      const f = pct(n.f);
      return el(
        "g",
        { class: tier ? "hover wide" : "hover", "data-stage": n.slug },
        el("line", { class: "stage-tick", x1: f, x2: f, y1: y - 2, y2: base }),
        el(
          "text",
          { class: "stage-name small halo", x: f, dx: num(placement.offset), y: base },
          escapeHtml(n.text),
        ),
        title(n.tip),
      );
    }),
  );
}

/** Axis text of a breakpoint: `31.0 ms`, `1.105 s`. */
function axisText(t: number): string {
  return t >= 1e9 ? `${(t / 1e9).toFixed(3)} s` : `${(t / 1e6).toFixed(1)} ms`;
}

/** Options of {@link renderTimeline}. */
export interface TimelineOptions {
  /** The `id` of the plot's `<svg>` (default `timeline`). */
  id?: string;
}

/**
 * The timeline figure of `runs` (one or more reports) on one time axis: a `<div class="tl">`
 * holding the lane names (`svg.tl-gutter`) and the plot (`<svg class="timeline">`).
 */
export function renderTimeline(
  runs: readonly TimelineRun[],
  opts: TimelineOptions = {},
): string {
  const times: number[] = [0];
  for (const { report } of runs) {
    times.push(endTime(report), ...stagesOf(report).map((s) => s.t));
    times.push(...Object.values(report.timing));
  }
  const scale = piecewiseScale(times, 0, 1);
  const overlay: string[] = [];
  const ctxs: Ctx[] = runs.map((r, index) => ({
    report: r.report,
    scale,
    kernel2Start: r.report.timing.kernel2Start,
    key: r.key ?? String(index),
    tag: runs.length > 1 ? (r.tag ?? r.key ?? String(index)) : "",
    index,
    overlay,
  }));
  const many = ctxs.length > 1;

  // milestone labels, stacked in levels above the lanes
  const milestones = milestonesOf(ctxs);
  // right to left, so the labels form a staircase whose leaders cross no text
  const placed = placeLabels(
    milestones.map((m): LabelSpec => ({
      f: m.f,
      width: textWidth(m.label, SMALL_FONT),
      anchor: "either",
    }))
      .reverse(),
    PLOT_MIN,
    { levels: Infinity, leaders: true },
  ).placements.reverse();
  const levels = Math.max(0, ...placed.map((p) => p.level + 1));
  const stripH = levels * LEVEL + 4;

  const devices = [...new Set(ctxs.flatMap((c) => devicesOf(c.report)))].sort();
  const hasIrqs = ctxs.some((c) => irqPoints(c).length > 0);
  const lanes: Lane[] = [
    {
      name: "kernels",
      tip: "first kernel, the kexec into the crash kernel, the crash (kdump) kernel",
      height: ROW + 2,
      draw: (c, y) => kernelBands(c, y, ROW + 2),
    },
    {
      name: "stages",
      tip: "boot stages of each kernel, the panic, the dump",
      height: ROW,
      draw: (c, y) => stageBands(c, y, ROW),
    },
    {
      name: "",
      tip: "",
      height: NAME_ROWS * LEVEL + 2,
      draw: () => "",
      shared: (y) => stageNameStrip(ctxs, y),
    },
    {
      name: "dmesg",
      tip: "kernel log: each mark is the console lines printed there",
      height: ROW,
      draw: (c, y) => laneBg(c, y, ROW) + marks(c, dmesgPoints(c), y + 2, ROW - 4, 2),
      runTip: (c) => `${c.tag ? `[${c.tag}] ` : ""}${c.report.dmesg.length} kernel log lines`,
    },
    ...([
      ["IOMMU regs", "IOMMU register writes (MMIO)", "mmio", 1.5],
      ["IOMMU cmds", "IOMMU commands (command buffer)", "command", 2],
      ["IOMMU events", "IOMMU event-log entries", "event", 3],
    ] as const).map(([name, tip, kind, w]): Lane => ({
      name,
      tip,
      height: ROW,
      draw: (c, y) =>
        laneBg(c, y, ROW) + marks(c, pointsOf(c, kind, () => kind), y + 2, ROW - 4, w),
      runTip: (c) =>
        `${c.tag ? `[${c.tag}] ` : ""}${
          c.report.timeline.filter((e) => e.kind === kind).length
        } entries`,
    })),
    ...(hasIrqs
      ? [{
        name: "interrupts",
        tip: "interrupts without a device",
        height: ROW,
        draw: (c: Ctx, y: number) => laneBg(c, y, ROW) + marks(c, irqPoints(c), y + 2, ROW - 4, 2),
      }]
      : []),
    ...devices.map((device): Lane => ({
      name: `dev ${device}`,
      tip: `device ${device}: stray DMA writes (top half), faulted DMA (bottom half)`,
      height: ROW * 2,
      draw: (c, y) => deviceRow(c, device, y),
      runTip: (c) => deviceSummary(c, device),
      ownGroup: true,
    })),
  ];

  const laneNames = ["milestones", "time", ...lanes.map((l) => l.name)];
  const tagW = many ? Math.max(...ctxs.map((c) => textWidth(c.tag))) + 18 : 0;
  const gutterW = Math.ceil(8 + Math.max(...laneNames.map((n) => textWidth(n))) + tagW + 10);

  const plot: string[] = [];
  const gutter: string[] = [];
  let y = stripH;
  const stagesTop = y + lanes[0].height * ctxs.length + RUN_GAP * (ctxs.length - 1) + GAP;
  for (const lane of lanes) {
    const top = y;
    if (lane.shared) {
      overlay.push(lane.shared(y - GAP + 2));
      y += lane.height - GAP + 2;
      continue;
    }
    for (const c of ctxs) {
      const drawn = lane.draw(c, y);
      const slug = lane.name.toLowerCase().replace(/\s+/g, "-");
      plot.push(
        lane.ownGroup
          ? drawn
          : el("g", { class: "lane", "data-lane": slug, "data-run": c.key }, drawn),
      );
      if (many) {
        const tipText = lane.runTip ? lane.runTip(c) : c.tag;
        gutter.push(
          el("rect", {
            class: "run-swatch",
            x: gutterW - 10 - textWidth(c.tag) - 12,
            y: num(y + lane.height / 2 - 4),
            width: 8,
            height: 8,
            fill: verdictColor(c.report.verdict),
          }),
          el(
            "text",
            {
              class: "run-tag hover",
              x: gutterW - 10,
              y: num(y + lane.height / 2 + 4),
              "text-anchor": "end",
            },
            escapeHtml(c.tag),
            title(tipText),
          ),
        );
      }
      y += lane.height + RUN_GAP;
    }
    y -= RUN_GAP;
    gutter.push(
      el(
        "text",
        { class: "lane-label hover", x: 8, y: num((top + y) / 2 + 4) },
        escapeHtml(lane.name),
        title(many ? lane.tip : (lane.runTip ? lane.runTip(ctxs[0]) : lane.tip)),
      ),
    );
    y += GAP;
  }
  const axisY = y - GAP + 4;
  const height = axisY + AXIS;

  // the axis: a thin line at each breakpoint; labels where they fit (more on wide plots)
  const specs: LabelSpec[] = scale.breaks.map((t) => ({
    f: scale.x(t),
    width: textWidth(axisText(t), SMALL_FONT),
  }));
  const tiers = tieredLabels(specs, PLOT_MIN, PLOT_WIDE);
  const axis = scale.breaks.map((t, i) => {
    const f = pct(scale.x(t));
    const line = el(
      "line",
      { class: "breakpoint", x1: f, x2: f, y1: stagesTop, y2: axisY + 3 },
      title(`axis breakpoint ${ms(t)}`),
    );
    const { tier, placement } = tiers[i];
    if (tier < 0) return line;
    return line + el(
      "text",
      {
        class: tier ? "small wide" : "small",
        x: f,
        dx: num(placement.offset),
        y: axisY + 16,
      },
      axisText(t),
    );
  });

  const milestoneLines = milestones.flatMap((m, i) => {
    const baseline = (levels - placed[i].level) * LEVEL - 1;
    return m.lines.map((line) =>
      el(
        "line",
        {
          class: "milestone hover",
          "data-milestone": m.name,
          "data-run": line.run?.key,
          x1: pct(line.f),
          x2: pct(line.f),
          y1: line.f === m.f ? baseline - SMALL_FONT + 2 : stripH - 2,
          y2: axisY,
          style: line.run ? `stroke:${verdictColor(line.run.report.verdict)}` : undefined,
        },
        title(m.tip),
      )
    );
  });
  const milestoneLabels = milestones.map((m, i) =>
    el(
      "text",
      {
        class: "milestone-label small halo hover",
        x: pct(m.f),
        dx: num(placed[i].offset),
        y: (levels - placed[i].level) * LEVEL - 1,
        "data-milestone": m.name,
      },
      escapeHtml(m.label),
      title(m.tip),
    )
  );

  gutter.push(
    levels ? el("text", { class: "lane-label small", x: 8, y: stripH - 5 }, "milestones") : "",
    el("text", { class: "lane-label small", x: 8, y: axisY + 16 }, "time"),
  );
  const label = runs.map((r) => `${r.report.scenario}: ${r.report.verdict}`).join(" vs ");
  return el(
    "div",
    { class: "tl-scroll" },
    el(
      "div",
      { class: "tl" },
      el(
        "svg",
        {
          class: "tl-gutter",
          width: gutterW,
          height,
          "aria-hidden": "true",
        },
        ...gutter,
      ),
      el(
        "div",
        { class: "tl-plot" },
        el(
          "svg",
          {
            id: opts.id ?? "timeline",
            class: "timeline",
            height,
            role: "img",
            "aria-label": `timeline of ${label}`,
            "data-verdict": runs.length === 1 ? runs[0].report.verdict : undefined,
            "data-runs": runs.length,
          },
          el("g", { class: "axis" }, ...axis),
          ...plot,
          el("g", { class: "milestones" }, ...milestoneLines),
          el("g", { class: "overlay" }, ...overlay, ...milestoneLabels),
        ),
      ),
    ),
  );
}
