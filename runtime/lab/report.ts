/**
 * The Report of one run, as a zod schema (also exported as JSON Schema). Everything in it
 * is simulated, so the same scenario, series and seed give byte-identical JSON.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import { EVENT_NAMES } from "../hw/layouts/event.ts";

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
export const StrayWriteSchema = z.object({
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

/** One timeline entry. */
export const TimelineEntrySchema = z.object({
  t: z.number(),
  kind: z.enum(["stage", "mmio", "event", "command", "dma-fault", "stray", "irq"]),
  kernel: z.enum(["kernel1", "kernel2", "between"]).optional(),
  text: z.string(),
  device: z.string().optional(),
  fault: z.enum(FAULT_CLASSES).optional().describe("dma-fault entries: how the DMA ended"),
});

/** The report schema. */
export const ReportSchema = z.object({
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
  strayWrites: z.array(StrayWriteSchema),
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
  timeline: z.array(TimelineEntrySchema),
  timing: z.record(z.string(), z.number()).describe("simulated ns of the pipeline's milestones"),
  stats: z.record(z.string(), z.number()),
});

/** A run's report. */
export type Report = z.output<typeof ReportSchema>;
/** A stray write entry. */
export type StrayWrite = z.output<typeof StrayWriteSchema>;
/** A timeline entry. */
export type TimelineEntry = z.output<typeof TimelineEntrySchema>;

/** A missing dependency as reports and summaries write it: `plugin requires what`. */
export function requiresText(m: { plugin: string; requires: string }): string {
  return `${m.plugin} requires ${m.requires}`;
}

/** The Report as JSON Schema (draft 2020-12). */
export function reportJsonSchema(): unknown {
  return z.toJSONSchema(ReportSchema, { io: "output" });
}
