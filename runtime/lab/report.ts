/**
 * The Report of one run, as a zod schema (also exported as JSON Schema). Everything in it
 * is simulated, so the same scenario, series and seed give byte-identical JSON.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import { EVENT_NAMES, type EventName } from "../hw/layouts/event.ts";
import type { Schema } from "../kernel/schema.ts";

/**
 * Verdicts of a run. `plugin-timeout` and `plugin-oom`: users' code broke the sandbox's
 * wall-clock limit or memory cap (see sandbox.ts), so the run never finished.
 */
export const VERDICTS = [
  "dump-ok",
  "dump-corrupt",
  "dump-failed",
  "hang",
  "panic",
  "boot-ok",
  "plugin-error",
  "plugin-timeout",
  "plugin-oom",
  "skipped",
] as const;

/** A verdict. */
export type Verdict = (typeof VERDICTS)[number];

const EventCounts = z.object(
  Object.fromEntries(EVENT_NAMES.map((n) => [n, z.number().int().nonnegative()])) as Record<
    (typeof EVENT_NAMES)[number],
    z.ZodNumber
  >,
);

/** A DMA write that landed where its device had no buffer. */
export interface StrayWrite {
  /** BB:DD.F of the writer. */
  device: string;
  /** Physical address hit (0x…). */
  address: string;
  /** Address the device used. */
  iova: string;
  /** Whose memory: who[:what][@device]. */
  owner: string;
  /** Simulated ns since the machine started. */
  time: number;
  /** Which kernel ran (or between the two). */
  kernel: "kernel1" | "kernel2" | "between";
  /** Why the IOMMU let it through: translated, iommu-off, dte-invalid, mode-0. */
  how: string;
}

const strayWriteSchema = z.object({
  device: z.string().describe("BB:DD.F of the writer"),
  address: z.string().describe("physical address hit (0x…)"),
  iova: z.string().describe("address the device used"),
  owner: z.string().describe("whose memory: who[:what][@device]"),
  time: z.number().describe("simulated ns since the machine started"),
  kernel: z.enum(["kernel1", "kernel2", "between"]),
  how: z.string().describe(
    "why the IOMMU let it through: translated, iommu-off, dte-invalid, mode-0",
  ),
});

/**
 * How a faulted DMA ended: its IO_PAGE_FAULT (or other event) logged, suppressed (DTE.SA/SE,
 * IRTE.SupIOPF) or not logged; a master abort (no RAM at the address); `other`: aborted
 * without an event.
 */
export const FAULT_CLASSES = ["logged", "suppressed", "unlogged", "master-abort", "other"] as const;

/** A fault class (see {@link FAULT_CLASSES}). */
export type FaultClass = (typeof FAULT_CLASSES)[number];

/** One timeline entry: a stage, an MMIO write, an event, a command, a fault, a stray write. */
export interface TimelineEntry {
  /** Simulated ns since the machine started. */
  t: number;
  /** What happened. */
  kind: "stage" | "mmio" | "event" | "command" | "dma-fault" | "stray" | "irq";
  /** Which kernel ran. */
  kernel?: "kernel1" | "kernel2" | "between";
  /** The entry in words. */
  text: string;
  /** The device involved (BB:DD.F). */
  device?: string;
  /** dma-fault entries: how the DMA ended. */
  fault?: FaultClass;
}

const timelineEntrySchema = z.object({
  t: z.number(),
  kind: z.enum(["stage", "mmio", "event", "command", "dma-fault", "stray", "irq"]),
  kernel: z.enum(["kernel1", "kernel2", "between"]).optional(),
  text: z.string(),
  device: z.string().optional(),
  fault: z.enum(FAULT_CLASSES).optional().describe("dma-fault entries: how the DMA ended"),
});

/** A run's report (see {@link ReportSchema} for its JSON Schema). */
export interface Report {
  /** The scenario's name. */
  scenario: string;
  /** The seed of the run. */
  seed: number;
  /** Ids of the applied plugins, in order. */
  series: string[];
  /** How the run ended. */
  verdict: Verdict;
  /** Why the verdict is what it is, traced to the model. */
  cause: string;
  /** Dependencies the series lacks (a series that would not build). */
  missing: { plugin: string; requires: string }[];
  /** The error a plugin raised, with its id and hook point (verdict plugin-error). */
  pluginError?: { plugin: string; hook: string; message: string };
  /** Events the IOMMU hardware wrote to its event log, by type. */
  events: Record<EventName, number>;
  /** Events lost to a full (overflowed) or disabled log. */
  eventsDropped: number;
  /** IO_PAGE_FAULTs not logged because of DTE.SA/SE or IRTE.SupIOPF. */
  faultsSuppressed: number;
  /** IO_PAGE_FAULT lines the kernels printed. */
  faultsPrinted: number;
  /** Stray DMA writes (the first ones; {@link Report.strayWriteCount} counts them all). */
  strayWrites: StrayWrite[];
  /** How many stray DMA writes there were. */
  strayWriteCount: number;
  /** The vmcore capture, when it ran. */
  dump?: {
    /** How it ended. */
    result: string;
    /** Pages to dump. */
    pages: number;
    /** Pages written. */
    pagesWritten: number;
    /** Pages that differ from memory at the panic. */
    badPages: number;
    /** DMA buffers their own device wrote after the panic. */
    volatilePages: number;
    /** Some bad pages, with whose memory they were and why. */
    examples: { pfn: string; owner: string; why: string }[];
  };
  /** Both kernels' logs, with simulated times. */
  dmesg: { kernel: "kernel1" | "kernel2"; time: number; level: string; text: string }[];
  /** Stage and hardware events in time order. */
  timeline: TimelineEntry[];
  /** Simulated ns of the pipeline's milestones. */
  timing: Record<string, number>;
  /** Counters of the model. */
  stats: Record<string, number>;
}

const reportSchema = z.object({
  scenario: z.string(),
  seed: z.number().int(),
  series: z.array(z.string()).describe("ids of the applied plugins, in order"),
  verdict: z.enum(VERDICTS),
  cause: z.string().describe("why the verdict is what it is, traced to the model"),
  missing: z.array(z.object({ plugin: z.string(), requires: z.string() })).default([]),
  pluginError: z.object({ plugin: z.string(), hook: z.string(), message: z.string() }).optional(),
  events: EventCounts.describe("events the IOMMU hardware wrote to its event log, by type"),
  eventsDropped: z.number().int().describe("events lost to a full (overflowed) or disabled log"),
  faultsSuppressed: z.number().int().describe(
    "IO_PAGE_FAULTs not logged because of DTE.SA/SE or IRTE.SupIOPF",
  ),
  faultsPrinted: z.number().int().describe("IO_PAGE_FAULT lines the kernels printed"),
  strayWrites: z.array(strayWriteSchema),
  strayWriteCount: z.number().int(),
  dump: z.object({
    result: z.string(),
    pages: z.number().int(),
    pagesWritten: z.number().int(),
    badPages: z.number().int(),
    volatilePages: z.number().int().describe("DMA buffers their own device wrote after the panic"),
    examples: z.array(z.object({ pfn: z.string(), owner: z.string(), why: z.string() })),
  }).optional(),
  dmesg: z.array(z.object({
    kernel: z.enum(["kernel1", "kernel2"]),
    time: z.number(),
    level: z.string(),
    text: z.string(),
  })),
  timeline: z.array(timelineEntrySchema),
  timing: z.record(z.string(), z.number()).describe("simulated ns of the pipeline's milestones"),
  stats: z.record(z.string(), z.number()),
});

/** The report schema (zod): parses JSON into a {@link Report}. */
export const ReportSchema: Schema<Report> = reportSchema;
/** A stray write's schema. */
export const StrayWriteSchema: z.ZodType<StrayWrite> = strayWriteSchema;
/** A timeline entry's schema. */
export const TimelineEntrySchema: z.ZodType<TimelineEntry> = timelineEntrySchema;

/** True when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
/** Compiles only while the interfaces above are exactly what the schemas parse to. */
const _schemasMatch: [
  Same<z.output<typeof reportSchema>, Report>,
  Same<z.output<typeof strayWriteSchema>, StrayWrite>,
  Same<z.output<typeof timelineEntrySchema>, TimelineEntry>,
] = [true, true, true];
void _schemasMatch;

/** A missing dependency as reports and summaries write it: `plugin requires what`. */
export function requiresText(m: { plugin: string; requires: string }): string {
  return `${m.plugin} requires ${m.requires}`;
}

/** The Report as JSON Schema (draft 2020-12). */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(reportSchema, { io: "output" });
}

/** What {@link makeReport} builds a report from: the report's fields, in any order. */
export type ReportFields = Omit<Report, "missing" | "events"> & {
  missing?: Report["missing"];
  events: Readonly<Record<string, number>>;
};

/**
 * The Report of a run, built as `ReportSchema.parse(fields)` would build it — the same keys in
 * the schema's order, optional fields left out when absent, `missing` defaulting to `[]`,
 * fresh arrays and objects — without running the parse on every run (the model makes these
 * fields; the tests check that the schema accepts every built-in scenario's reports and
 * returns them unchanged).
 */
export function makeReport(f: ReportFields): Report {
  const r = {
    scenario: f.scenario,
    seed: f.seed,
    series: f.series.slice(),
    verdict: f.verdict,
    cause: f.cause,
    missing: (f.missing ?? []).map((m) => ({ plugin: m.plugin, requires: m.requires })),
  } as Report;
  if (f.pluginError !== undefined) {
    const e = f.pluginError;
    r.pluginError = { plugin: e.plugin, hook: e.hook, message: e.message };
  }
  const events = {} as Report["events"];
  for (const n of EVENT_NAMES) events[n] = f.events[n];
  r.events = events;
  r.eventsDropped = f.eventsDropped;
  r.faultsSuppressed = f.faultsSuppressed;
  r.faultsPrinted = f.faultsPrinted;
  r.strayWrites = f.strayWrites.map((s) => ({
    device: s.device,
    address: s.address,
    iova: s.iova,
    owner: s.owner,
    time: s.time,
    kernel: s.kernel,
    how: s.how,
  }));
  r.strayWriteCount = f.strayWriteCount;
  if (f.dump !== undefined) {
    const d = f.dump;
    r.dump = {
      result: d.result,
      pages: d.pages,
      pagesWritten: d.pagesWritten,
      badPages: d.badPages,
      volatilePages: d.volatilePages,
      examples: d.examples.map((e) => ({ pfn: e.pfn, owner: e.owner, why: e.why })),
    };
  }
  r.dmesg = f.dmesg.map((l) => ({ kernel: l.kernel, time: l.time, level: l.level, text: l.text }));
  r.timeline = f.timeline.map(timelineEntry);
  r.timing = { ...f.timing };
  r.stats = { ...f.stats };
  return r;
}

function timelineEntry(e: TimelineEntry): TimelineEntry {
  const out = { t: e.t, kind: e.kind } as TimelineEntry;
  if (e.kernel !== undefined) out.kernel = e.kernel;
  out.text = e.text;
  if (e.device !== undefined) out.device = e.device;
  if (e.fault !== undefined) out.fault = e.fault;
  return out;
}
