/**
 * A report's kernel log the way a serial console shows it: `[    1.234567] text`, the first
 * kernel's lines, a separator where kexec jumps, then the second kernel's lines (each kernel's
 * timestamps start at its own boot).
 *
 * @module
 */
import { timestamp } from "../kernel/printk.ts";
import type { Report } from "./report.ts";

/** One dmesg entry of a report. */
export type DmesgEntry = Report["dmesg"][number];

/** `[%5lu.%06lu]` of a kernel-relative time in ns, as the console prints it. */
export const consoleTimestamp: (ns: number) => string = timestamp;

/** One entry as the console prints it: `[    0.431069] AMD-Vi: Found IOMMU …`. */
export function consoleLine(entry: DmesgEntry): string {
  return `${timestamp(entry.time)} ${entry.text}`;
}

/**
 * The line printed between the two kernels: `---- kexec: crash kernel ----` after a panic,
 * `---- kexec: new kernel ----` after a plain kexec reboot.
 */
export function kexecSeparator(report: Report): string {
  const panicked = report.timeline.some((e) => e.kind === "stage" && e.text === "panic");
  return `---- kexec: ${panicked ? "crash" : "new"} kernel ----`;
}

/** An entry, or the separator that stands before the second kernel's first line. */
export type ConsoleItem = { entry: DmesgEntry } | { separator: string };

/** The log in order, with {@link kexecSeparator} before the second kernel's first line. */
export function consoleItems(report: Report, entries = report.dmesg): ConsoleItem[] {
  const out: ConsoleItem[] = [];
  let kernel: DmesgEntry["kernel"] = "kernel1";
  for (const entry of entries) {
    if (entry.kernel !== kernel) {
      kernel = entry.kernel;
      out.push({ separator: kexecSeparator(report) });
    }
    out.push({ entry });
  }
  return out;
}

/** The whole log of both kernels as console lines (see {@link consoleItems}). */
export function consoleLog(report: Report): string[] {
  return consoleItems(report).map((i) => "entry" in i ? consoleLine(i.entry) : i.separator);
}
