/**
 * A run's verdict, as one pure function of what the run came to: how it ended (a plugin
 * error, a kernel panic, or the second kernel reached its goal), what the capture did, what
 * the dump check found on the disk, and the stray DMA writes the bus saw. Nothing here looks
 * at which plugins ran: the verdict is read off the outcome.
 *
 * @module
 */
import type { Verdict } from "./report.ts";
import type { DumpCheck } from "./verify.ts";

/** What a run came to: the input of {@link judgeRun}. */
export interface RunOutcome {
  /** kdump after a panic, or a plain kexec reboot. */
  mode: "kdump" | "kexec";
  /** How the run was cut short, if it was. */
  failure?:
    | { kind: "plugin-error"; plugin: string; hook: string; message: string }
    | { kind: "panic"; kernel: "first" | "second"; reason: string };
  /** What save_vmcore did (kdump only; absent if the kernel never got there). */
  capture?: {
    result: "complete" | "failed" | "timeout" | "no-disk";
    pages: number;
    pagesWritten: number;
    ioErrors: number;
    ioTimeouts: number;
  };
  /** The dump on the disk against memory at the panic (only after a complete capture). */
  check?: DumpCheck;
  /** The dump disk's PCI address (for causes). */
  disk?: string;
  /** Stray DMA writes: how many, and the first. */
  strays: {
    count: number;
    first?: { device: string; address: string; owner: string; how: string };
  };
}

/** The Report's `dump` section. */
export interface DumpSummary {
  result: "complete" | "failed" | "timeout" | "no-disk";
  pages: number;
  pagesWritten: number;
  badPages: number;
  volatilePages: number;
  examples: { pfn: string; owner: string; why: string }[];
}

/** What {@link judgeRun} says: the verdict, its cause in words, and the report's dump section. */
export interface Judged {
  verdict: Verdict;
  cause: string;
  pluginError?: { plugin: string; hook: string; message: string };
  dump?: DumpSummary;
}

/** The verdict of a run's outcome, and why. */
export function judgeRun(o: RunOutcome): Judged {
  const j = judgeEnd(o);
  if (o.strays.count && j.verdict !== "plugin-error") {
    const f = o.strays.first!;
    j.cause += `; ${o.strays.count} stray DMA write(s), first from ${f.device} to ${f.address} ` +
      `(${f.owner}, ${f.how})`;
  }
  return j;
}

function judgeEnd(o: RunOutcome): Judged {
  const f = o.failure;
  if (f?.kind === "plugin-error") {
    return {
      verdict: "plugin-error",
      cause: `plugin ${f.plugin} failed at ${f.hook}: ${f.message}`,
      pluginError: { plugin: f.plugin, hook: f.hook, message: f.message },
    };
  }
  if (f?.kind === "panic") {
    return { verdict: "panic", cause: `the ${f.kernel} kernel panicked: ${f.reason}` };
  }
  if (o.mode === "kexec") {
    return { verdict: "boot-ok", cause: "the second kernel booted and probed its drivers" };
  }
  const vm = o.capture;
  if (!vm || vm.result === "no-disk") {
    return {
      verdict: "dump-failed",
      cause: "the crash kernel found no disk to write the dump to",
      ...(vm ? { dump: plainDump(vm) } : {}),
    };
  }
  if (vm.result === "timeout") {
    return {
      verdict: "hang",
      cause: `the capture did not finish: ${vm.ioTimeouts} disk I/O timeouts (no completion ` +
        `from ${o.disk})`,
      dump: plainDump(vm),
    };
  }
  if (vm.result === "failed") {
    return {
      verdict: "dump-failed",
      cause: `the capture failed after ${vm.ioErrors} disk I/O errors from ${o.disk} (its DMA ` +
        `was aborted)`,
      dump: plainDump(vm),
    };
  }
  const c = o.check!;
  const dump: DumpSummary = {
    result: vm.result,
    pages: c.pages,
    pagesWritten: vm.pagesWritten,
    badPages: c.badPages,
    volatilePages: c.volatilePages,
    examples: c.examples,
  };
  if (!c.readable) {
    return { verdict: "dump-corrupt", cause: "the dump on disk has no readable header", dump };
  }
  if (c.badPages) {
    const e = c.examples[0];
    return {
      verdict: "dump-corrupt",
      cause: `${c.badPages} page(s) of the dump differ from memory at the panic; e.g. pfn ` +
        `${e.pfn} (${e.owner}): ${e.why}`,
      dump,
    };
  }
  return {
    verdict: "dump-ok",
    cause: `all ${c.pages} dumped pages match memory at the panic (${c.volatilePages} DMA ` +
      `buffers their own device kept writing)`,
    dump,
  };
}

/** The dump section of a capture that did not complete (nothing was checked). */
function plainDump(vm: NonNullable<RunOutcome["capture"]>): DumpSummary {
  return {
    result: vm.result,
    pages: vm.pages,
    pagesWritten: vm.pagesWritten,
    badPages: 0,
    volatilePages: 0,
    examples: [],
  };
}
