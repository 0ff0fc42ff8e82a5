/**
 * The short human summary of a run's report: what ran, the verdict and why, the IOMMU events,
 * stray DMA writes, the dump check, and the kernel log lines that matter. Colours come from
 * `ansis` (off for NO_COLOR and non-TTY output); the text is complete without them.
 *
 * @module
 */
import { ansis } from "./colors.ts";
import { consoleItems, consoleLine, consoleTimestamp, type DmesgEntry } from "../lab/console.ts";
import { type Report, requiresText, type StrayWrite, type Verdict } from "../lab/report.ts";

/** How a verdict is coloured: success green, not run dim, any failure red. */
export function verdictTone(verdict: Verdict): "good" | "neutral" | "bad" {
  if (verdict === "dump-ok" || verdict === "boot-ok") return "good";
  if (verdict === "skipped") return "neutral";
  return "bad";
}

/** `text` (default: the verdict) in the colour of the verdict's tone. */
export function styleVerdict(verdict: Verdict, text: string = verdict): string {
  const tone = verdictTone(verdict);
  if (tone === "good") return ansis.green.bold(text);
  if (tone === "neutral") return ansis.dim(text);
  return ansis.red.bold(text);
}

const KEY_TEXT =
  /^Linux version|AMD-Vi|IOMMU|panic|kdump|kexec|sysrq|I\/O error|Completion-Wait|Event logged|do_IRQ|BUG|dumpfile/i;
const KEY_LEVELS = new Set(["emerg", "alert", "crit", "err", "warn"]);

/**
 * Whether a kernel log line is worth a place in the summary: anything at warning level or
 * worse, each kernel's banner, and lines about the IOMMU, the panic, kexec/kdump and I/O
 * errors.
 */
export function isKeyLine(entry: DmesgEntry): boolean {
  return KEY_LEVELS.has(entry.level) || KEY_TEXT.test(entry.text);
}

/** A line's text with its numbers masked, so repeats that differ only in a value group. */
function shape(text: string): string {
  return text.replace(/0x[0-9a-f]+|\d+/gi, "#");
}

/** A line of a listing; lines with a `group` may be collapsed with their neighbours. */
export interface GroupedLine {
  /** Text compared with neighbours (numbers masked); undefined: never collapsed. */
  group?: string;
  /** The line as printed. */
  line: string;
}

/** The shortest run of alike lines that {@link collapseRuns} collapses. */
const RUN_MIN = 3;

/**
 * Collapses runs of {@link RUN_MIN} or more consecutive lines whose `group` texts are the same
 * up to their numbers into the first line and `(… N more)` (`(… N more like it)` when the
 * numbers differ).
 */
export function collapseRuns(lines: readonly GroupedLine[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    const first = lines[i].group;
    let j = i + 1;
    if (first !== undefined) {
      while (
        j < lines.length && lines[j].group !== undefined && shape(lines[j].group!) === shape(first)
      ) j++;
    }
    const run = lines.slice(i, j);
    if (run.length >= RUN_MIN) {
      const same = run.every((l) => l.group === first);
      out.push(run[0].line, `(… ${run.length - 1} more${same ? "" : " like it"})`);
    } else out.push(...run.map((l) => l.line));
    i = j;
  }
  return out;
}

/**
 * The key kernel log lines as the console prints them, long runs collapsed, with the kexec
 * separator; at most `limit` lines, then a note of how many were left out.
 */
export function keyDmesgLines(report: Report, limit = 40): string[] {
  const items = consoleItems(report, report.dmesg.filter(isKeyLine));
  const lines = collapseRuns(
    items.map((i): GroupedLine =>
      "entry" in i
        ? { group: i.entry.text, line: consoleLine(i.entry) }
        : { line: ansis.dim(i.separator) }
    ),
  );
  if (lines.length <= limit) return lines;
  return [...lines.slice(0, limit), `(… ${lines.length - limit} more; --dmesg prints the log)`];
}

/** When a stray write happened, relative to the boot of the kernel that was running. */
function strayWhen(s: StrayWrite, timing: Report["timing"]): string {
  if (s.kernel === "kernel1") return `kernel1 ${consoleTimestamp(s.time)}`;
  const base = s.kernel === "kernel2" ? timing.kernel2Start : timing.panic;
  if (base === undefined) return `at ${(s.time / 1e9).toFixed(6)} s`;
  const rel = consoleTimestamp(s.time - base);
  return s.kernel === "kernel2" ? `kernel2 ${rel}` : `${rel} after the panic`;
}

/** One stray write: device, IOVA → physical address, whose memory, how, when. */
export function strayLine(s: StrayWrite, timing: Report["timing"]): string {
  return `${s.device}  IOVA ${s.iova} → ${s.address}  ${s.owner}  ${s.how}  ${
    strayWhen(s, timing)
  }`;
}

/** The IOMMU event counts worth printing: non-zero hardware-logged ones, then the fault tallies. */
export function eventSummary(report: Report): string {
  const logged = Object.entries(report.events).filter(([, n]) => n > 0);
  const parts = [
    logged.length ? logged.map(([name, n]) => `${name} ${n}`).join(", ") : "none logged",
  ];
  if (report.eventsDropped) parts.push(`dropped ${report.eventsDropped}`);
  parts.push(
    `faultsSuppressed ${report.faultsSuppressed}`,
    `faultsPrinted ${report.faultsPrinted}`,
  );
  return parts.join("; ");
}

/** Options of {@link renderSummary}. */
export interface SummaryOptions {
  /** Wall-clock time the run took, ms (printed when given). */
  elapsedMs?: number;
}

/** How many stray writes and dump examples the summary lists. */
const STRAYS_SHOWN = 5, EXAMPLES_SHOWN = 3;

const LABEL = 10;
const row = (label: string, value: string) => `${ansis.dim(label.padEnd(LABEL))}${value}`;
const indent = (line: string) => " ".repeat(LABEL) + line;

/** The summary of a report, as lines without trailing newlines. */
export function renderSummary(report: Report, opts: SummaryOptions = {}): string[] {
  const out = [
    row("scenario", report.scenario),
    row("seed", String(report.seed)),
    row(
      "series",
      report.series.length
        ? `${report.series.length} plugin(s): ${report.series.join(", ")}`
        : "none (4.13 baseline)",
    ),
  ];
  if (report.missing.length) {
    out.push(
      row("missing", report.missing.map(requiresText).join("; ")),
    );
  }
  out.push(row("verdict", styleVerdict(report.verdict)), row("cause", report.cause));
  if (report.verdict === "skipped") {
    out.push(ansis.dim("(not run: --force runs a series whose dependencies are missing)"));
    return out;
  }
  out.push(row("iommu", eventSummary(report)));
  out.push(row("stray DMA", `${report.strayWriteCount} write(s)`));
  const strays = report.strayWrites.slice(0, STRAYS_SHOWN);
  out.push(...strays.map((s) => indent(strayLine(s, report.timing))));
  const moreStrays = report.strayWriteCount - strays.length;
  if (strays.length && moreStrays > 0) out.push(indent(`(… ${moreStrays} more)`));
  const d = report.dump;
  if (d) {
    out.push(row(
      "dump",
      `${d.result}: ${d.pages} pages (${d.pagesWritten} written), ${d.badPages} bad, ${d.volatilePages} volatile`,
    ));
    const examples = d.examples.slice(0, EXAMPLES_SHOWN);
    out.push(...examples.map((e) => indent(`pfn ${e.pfn} (${e.owner}): ${e.why}`)));
  } else out.push(row("dump", "none"));
  const log = keyDmesgLines(report);
  if (log.length) out.push(ansis.dim("kernel log (key lines)"), ...log.map((l) => "  " + l));
  if (opts.elapsedMs !== undefined) {
    const simulated = report.stats.simulatedNs;
    const sim = simulated === undefined ? "" : ` (simulated ${(simulated / 1e9).toFixed(3)} s)`;
    out.push(ansis.dim(`ran in ${Math.round(opts.elapsedMs)} ms${sim}`));
  }
  return out;
}
