/**
 * Hand-made reports for tests of code that only reads reports (summaries, console logs):
 * every field chosen by the test, validated by ReportSchema so the shape stays honest.
 */
import { type Report, ReportSchema } from "../../runtime/lab/report.ts";
import { EVENT_NAMES } from "../../runtime/hw/layouts/event.ts";

/** A kdump report with no events, no strays, no log; `over` replaces fields. */
export function fakeReport(over: Partial<Report> = {}): Report {
  return ReportSchema.parse({
    scenario: "fake",
    seed: 3,
    series: [],
    verdict: "dump-ok",
    cause: "all 10 dumped pages match memory at the panic",
    missing: [],
    events: Object.fromEntries(EVENT_NAMES.map((n) => [n, 0])),
    eventsDropped: 0,
    faultsSuppressed: 0,
    faultsPrinted: 0,
    strayWrites: [],
    strayWriteCount: 0,
    dmesg: [],
    timeline: [{ t: 5, kind: "stage", text: "panic" }],
    timing: { panic: 5_000_000, kernel2Start: 45_000_000 },
    stats: {},
    ...over,
  });
}

/** A dmesg entry. */
export function line(
  kernel: "kernel1" | "kernel2",
  time: number,
  text: string,
  level = "info",
): Report["dmesg"][number] {
  return { kernel, time, level, text };
}
