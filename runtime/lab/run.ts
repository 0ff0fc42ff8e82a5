/**
 * run(scenario, options) → Report: firmware → first kernel boot → devices start DMA →
 * panic (or a plain kexec reboot) → kexec → second kernel boot (IOMMU init, iommu core,
 * driver probes) → vmcore capture over a disk that itself does DMA → verdict.
 *
 * Nothing here decides an outcome: the verdict is read off what the kernels and the
 * hardware did (did the crash kernel panic, did the capture finish, what reached the disk).
 *
 * @module
 */
import { ns } from "../hw/clock.ts";
import { EVENT_NAMES } from "../hw/layouts/event.ts";
import { bdfText } from "../hw/memory.ts";
import { start_kernel } from "../kernel/boot.ts";
import { crash_kexec, kernel_kexec } from "../kernel/crash.ts";
import { Bnx2Driver } from "../kernel/drivers/bnx2.ts";
import type { DriverFactory } from "../kernel/drivers/driver.ts";
import { NvmeDriver } from "../kernel/drivers/nvme.ts";
import { Tg3Driver } from "../kernel/drivers/tg3.ts";
import { SvmDriver } from "../kernel/drivers/svm.ts";
import type { HookCaller } from "../kernel/hooks.ts";
import { HookRunner, type Plugin, PluginError, Series, unwrapHookError } from "../plugin/mod.ts";
import { Kernel, KernelPanic } from "../kernel/kernel.ts";
import { dumpablePages, save_vmcore, type VmcoreResult } from "../kernel/vmcore.ts";
import type { Machine } from "../hw/machine.ts";
import { buildMachine, type Built } from "./machine.ts";
import { Recorder } from "./recorder.ts";
import { makeReport, type Report, requiresText, type Verdict } from "./report.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";
import { verifyDump } from "./verify.ts";
import { kernelVersion } from "./version.ts";

/** An error raised by plugin code, attributed to its plugin and hook point. */
interface AttributedError {
  plugin: string;
  hook: string;
  message: string;
}

/** Options of a run. */
export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** The plugins to apply: a Series (its enabled plugins, resolved) or a list in order. */
  series?: Series | readonly Plugin[];
  /** Run even if plugins' dependencies are missing (a series that would not build). */
  force?: boolean;
}

/** A finished simulation: the report, and the model it came from (for scripts and tests). */
export interface Simulation {
  report: Report;
  scenario: Scenario;
  machine: Machine;
  /** The machine as built: devices, memory ranges, firmware tables. */
  built: Built;
  kernel1?: Kernel;
  kernel2?: Kernel;
  recorder: Recorder;
}

/** Runs a scenario and returns its report (a series that would not build is not simulated). */
export function run(input: ScenarioInput | Scenario, opts: RunOptions = {}): Report {
  const p = prepare(input, opts);
  return p.skip ? skippedReport(p.base) : simulatePrepared(p).report;
}

/** The scenario, the resolved series and whether the run is skipped: decided before building. */
function prepare(input: ScenarioInput | Scenario, opts: RunOptions) {
  const parsed = parseScenario(input);
  const s = opts.seed === undefined || opts.seed === parsed.seed
    ? parsed
    : { ...parsed, seed: opts.seed };
  const series = opts.series instanceof Series ? opts.series : new Series(opts.series ?? []);
  const resolved = series.resolve();
  const base = {
    scenario: s.name,
    seed: s.seed,
    series: resolved.plugins.map((p) => p.id),
    missing: resolved.missing,
  };
  return { s, resolved, base, skip: resolved.missing.length > 0 && !opts.force };
}

/** Runs a scenario and returns the report together with the machine and kernels. */
export function simulate(input: ScenarioInput | Scenario, opts: RunOptions = {}): Simulation {
  return simulatePrepared(prepare(input, opts));
}

function simulatePrepared({ s, resolved, base, skip }: ReturnType<typeof prepare>): Simulation {
  const built = buildMachine(s);
  const { machine, ivrs, pci, nics, disks } = built;
  const rec = new Recorder(machine);
  if (skip) return { report: skippedReport(base), scenario: s, machine, built, recorder: rec };
  const timing: Record<string, number> = {};
  // Each kernel gets its own hook runner (fresh plugin state); a baseline build, or a series
  // without plugins, none (every hook point runs its default).
  const hooksFor = (build: "series" | "baseline"): HookCaller | undefined =>
    build === "series" && resolved.plugins.length ? new HookRunner(resolved.plugins) : undefined;
  const nicParams = (id: number) => s.machine.devices.find((d) => d.kind === "nic" && d.bdf === id);
  const drivers = (names: string[]): DriverFactory[] => {
    const out: DriverFactory[] = [];
    const settings = (devid: number) => {
      const nic = nicParams(devid);
      if (nic?.kind !== "nic") throw new Error(`no NIC settings for ${bdfText(devid)}`);
      return nic.driver;
    };
    if (names.includes("bnx2")) out.push((k) => new Bnx2Driver(k, settings));
    if (names.includes("tg3")) out.push((k) => new Tg3Driver(k, settings));
    if (names.includes("nvme")) out.push((k) => new NvmeDriver(k));
    if (names.includes("svm-accel")) {
      for (const d of s.machine.devices) {
        if (d.kind === "svm") out.push((k) => new SvmDriver(k, d.driver));
      }
    }
    return out;
  };
  const stage = (name: string) => rec.push("stage", name);
  let k1: Kernel | undefined, k2: Kernel | undefined;
  let verdict: Verdict = "dump-ok";
  let cause = "";
  let pluginError: AttributedError | undefined;
  let vm: VmcoreResult | undefined;
  let expected: number[] = [];
  try {
    // ---- first kernel --------------------------------------------------------------------
    k1 = new Kernel(machine, {
      id: "kernel1",
      cmdline: s.firstKernel.cmdline,
      memory: built.usable1,
      ivrs,
      pci,
      madt: built.madt,
      hpet: built.hpet,
      drivers: drivers(["bnx2", "tg3", "nvme", "svm-accel"]),
      irqTableLen: Math.log2(s.firstKernel.irqTableEntries),
      hooks: hooksFor(s.firstKernel.build === "same" ? "series" : "baseline"),
      version: kernelVersion(s.firstKernel.build === "same" ? base.series : []),
    });
    stage("kernel1: start_kernel");
    start_kernel(k1, (st) => stage(`kernel1: ${st}`));
    for (const dev of k1.pci) {
      const nic = nicParams(dev.devid);
      if (nic?.kind === "nic" && nic.up) dev.driver?.open?.(dev);
    }
    stage("kernel1: running");
    timing.kernel1Up = machine.clock.now;
    k1.spend(s.firstKernel.uptimeMs * ns.ms);
    // ---- panic or reboot -------------------------------------------------------------------
    let reason = "Fatal exception";
    const panic = s.firstKernel.panic;
    if (panic.during === "fatal-error") {
      // Firmware-first error handling reset the failing root complex — its IOMMU and the
      // devices behind it — before the OS was told; the OS panics on the fatal error.
      for (const i of panic.resetIommus) machine.resetRootComplex(i);
      k1.printk(
        "emerg",
        "{1}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 0",
      );
      k1.printk("emerg", "{1}[Hardware Error]: event severity: fatal");
      reason = "Fatal hardware error!";
    } else if (s.second.mode === "kdump") k1.pr_info("sysrq: SysRq : Trigger a crash");
    timing.panic = machine.clock.now;
    if (s.second.mode === "kdump") {
      expected = dumpablePages(k1, { ranges: built.ram1 });
      machine.mem.beginSnapshot();
      stage("panic");
      // From the snapshot on, every DMA write counts as after the panic (the crash path itself
      // takes time: disable_IO_APIC's register writes while devices go on).
      rec.phase = "between";
      crash_kexec(k1, reason);
    } else {
      stage("kexec reboot");
      kernel_kexec(k1, s.second.iommuShutdown);
    }
    rec.phase = "between";
    machine.clock.advance(s.second.kexecDelayMs * ns.ms);
    // ---- second kernel ------------------------------------------------------------------
    rec.phase = "kernel2";
    timing.kernel2Start = machine.clock.now;
    stage("kernel2: start_kernel");
    k2 = new Kernel(machine, {
      id: "kernel2",
      cmdline: s.second.cmdline,
      memory: s.second.mode === "kdump" ? built.usable2 : built.usable1,
      ivrs,
      pci,
      madt: built.madt,
      hpet: built.hpet,
      drivers: drivers(s.second.drivers),
      hooks: hooksFor("series"),
      version: kernelVersion(base.series),
    });
    const marks = start_kernel(k2, (st) => stage(`kernel2: ${st}`));
    for (const [key, v] of Object.entries(marks)) {
      if (v !== undefined) timing[`kernel2.${key}`] = k2.t0 + v;
    }
    if (s.second.mode === "kdump") {
      k2.spend(s.second.serviceDelayMs * ns.ms); // initramfs, systemd, kdump.service
      stage("kdump: save vmcore");
      timing.dumpStart = machine.clock.now;
      const nvme = k2.drivers.find((d): d is NvmeDriver => d instanceof NvmeDriver);
      vm = save_vmcore(k2, nvme, { ranges: built.ram1 }, timing.panic + s.second.deadlineS * ns.s);
      timing.dumpEnd = machine.clock.now;
      stage(`kdump: ${vm.result}`);
    } else {
      k2.spend(500 * ns.ms);
      stage("kernel2: running");
    }
  } catch (thrown) {
    const e = unwrapHookError(thrown);
    if (e instanceof PluginError) {
      verdict = "plugin-error";
      pluginError = { plugin: e.plugin, hook: e.hook, message: e.detail };
      cause = `plugin ${e.plugin} failed at ${e.hook}: ${e.detail}`;
    } else if (e instanceof KernelPanic) {
      verdict = "panic";
      cause = `${k2 ? "the second" : "the first"} kernel panicked: ${e.reason}`;
    } else throw e;
  }
  // ---- verdict ------------------------------------------------------------------------------
  let dump: Report["dump"];
  if (verdict !== "plugin-error" && verdict !== "panic") {
    if (s.second.mode === "kexec") {
      verdict = "boot-ok";
      cause = "the second kernel booted and probed its drivers";
    } else if (!vm || vm.result === "no-disk") {
      verdict = "dump-failed";
      cause = "the crash kernel found no disk to write the dump to";
    } else if (vm.result === "timeout") {
      verdict = "hang";
      cause = `the capture did not finish: ${vm.ioTimeouts} disk I/O timeouts (no completion from ${
        bdfText(disks[0].devid)
      })`;
    } else if (vm.result === "failed") {
      verdict = "dump-failed";
      cause = `the capture failed after ${vm.ioErrors} disk I/O errors from ${
        bdfText(disks[0].devid)
      } (its DMA was aborted)`;
    } else {
      const check = verifyDump(machine.mem, disks[0], expected, rec.afterPanic);
      dump = {
        result: vm.result,
        pages: check.pages,
        pagesWritten: vm.pagesWritten,
        badPages: check.badPages,
        volatilePages: check.volatilePages,
        examples: check.examples,
      };
      if (!check.readable) {
        verdict = "dump-corrupt";
        cause = "the dump on disk has no readable header";
      } else if (check.badPages) {
        verdict = "dump-corrupt";
        const e = check.examples[0];
        cause =
          `${check.badPages} page(s) of the dump differ from memory at the panic; e.g. pfn ${e.pfn} (${e.owner}): ${e.why}`;
      } else {
        cause =
          `all ${check.pages} dumped pages match memory at the panic (${check.volatilePages} DMA buffers their own device kept writing)`;
      }
    }
    if (vm && !dump) {
      dump = {
        result: vm.result,
        pages: vm.pages,
        pagesWritten: vm.pagesWritten,
        badPages: 0,
        volatilePages: 0,
        examples: [],
      };
    }
  }
  if (rec.strayCount && verdict !== "plugin-error") {
    const first = rec.strays[0];
    cause +=
      `; ${rec.strayCount} stray DMA write(s), first from ${first.device} to ${first.address} (${first.owner}, ${first.how})`;
  }
  const dmesg = [k1, k2].flatMap((k) =>
    k
      ? k.dmesg.lines.map((l) => ({ kernel: k.id, time: l.time, level: l.level, text: l.text }))
      : []
  );
  const faultsPrinted = (k1?.amd.events.faultsPrinted ?? 0) + (k2?.amd.events.faultsPrinted ?? 0);
  const stats: Record<string, number> = {
    ...rec.stats,
    simulatedNs: machine.clock.now,
    clockEvents: machine.clock.executed,
    iotlbHits: machine.iommus.reduce((a, u) => a + u.iotlb.hits, 0),
    iotlbMisses: machine.iommus.reduce((a, u) => a + u.iotlb.misses, 0),
    pageWalks: machine.iommus.reduce((a, u) => a + u.counters.walks, 0),
    commands: machine.iommus.reduce((a, u) => a + u.counters.commands, 0),
    completionWaitTimeouts: (k1?.amd.cmdStats.timeouts ?? 0) + (k2?.amd.cmdStats.timeouts ?? 0),
    nicFrames: nics.reduce((a, n) => a + n.stats.frames, 0),
    nicDrops: nics.reduce((a, n) => a + n.stats.drops, 0),
    diskBlocksWritten: disks.reduce((a, d) => a + d.stats.blocksWritten, 0),
    spuriousIrqs: k2?.spuriousIrqs ?? 0,
  };
  const report = makeReport({
    ...base,
    verdict,
    cause,
    ...(pluginError ? { pluginError } : {}),
    events: rec.events,
    eventsDropped: rec.eventsDropped,
    faultsSuppressed: rec.faultsSuppressed,
    faultsPrinted,
    strayWrites: rec.strays,
    strayWriteCount: rec.strayCount,
    ...(dump ? { dump } : {}),
    dmesg,
    timeline: rec.timeline,
    timing,
    stats,
  });
  return { report, scenario: s, machine, built, kernel1: k1, kernel2: k2, recorder: rec };
}

function skippedReport(
  base: {
    scenario: string;
    seed: number;
    series: string[];
    missing: { plugin: string; requires: string }[];
  },
): Report {
  const events = Object.fromEntries(EVENT_NAMES.map((n) => [n, 0]));
  return makeReport({
    ...base,
    verdict: "skipped",
    cause: `would not build: ${base.missing.map(requiresText).join("; ")}`,
    events,
    eventsDropped: 0,
    faultsSuppressed: 0,
    faultsPrinted: 0,
    strayWrites: [],
    strayWriteCount: 0,
    dmesg: [],
    timeline: [],
    timing: {},
    stats: {},
  });
}
