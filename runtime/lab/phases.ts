/**
 * The phases of a run, each a function of one {@link RunContext}: the first kernel boots and
 * runs, it panics (or reboots with a plain kexec), the second kernel boots, the kdump service
 * captures the dump. `simulate()` (run.ts) calls them in order; a thrown KernelPanic or plugin
 * error ends the run wherever it happens.
 *
 * @module
 */
import { ns } from "../hw/clock.ts";
import { bdfText } from "../hw/memory.ts";
import { start_kernel } from "../kernel/boot.ts";
import { crash_kexec, kernel_kexec } from "../kernel/crash.ts";
import { Bnx2Driver } from "../kernel/drivers/bnx2.ts";
import type { DriverFactory } from "../kernel/drivers/driver.ts";
import { NvmeDriver } from "../kernel/drivers/nvme.ts";
import { SvmDriver } from "../kernel/drivers/svm.ts";
import { Tg3Driver } from "../kernel/drivers/tg3.ts";
import type { HookCaller } from "../kernel/hooks.ts";
import { Kernel } from "../kernel/kernel.ts";
import { dumpablePages, save_vmcore, type VmcoreResult } from "../kernel/vmcore.ts";
import { HookRunner, type Plugin } from "../plugin/mod.ts";
import type { Built } from "./machine.ts";
import { isBuiltinPlugin } from "./plugins.ts";
import type { Recorder } from "./recorder.ts";
import { type Reached, recordInto } from "./reuse.ts";
import type { Scenario } from "./scenario.ts";
import { kernelVersion } from "./version.ts";

/** Everything the phases of one run share. */
export interface RunContext {
  s: Scenario;
  built: Built;
  rec: Recorder;
  /** The resolved plugins, in order (empty: every hook point runs its default). */
  plugins: readonly Plugin[];
  /** Plugins besides the built-in ones that see the kernel itself (a test's probes). */
  instrumented: readonly Plugin[];
  /** Machine times of the run's milestones. */
  timing: Record<string, number>;
  k1?: Kernel;
  k2?: Kernel;
  /** The pages the dump must hold (makedumpfile's choice at the panic). */
  expected: number[];
  /** What save_vmcore did. */
  vm?: VmcoreResult;
  /** The CPU (APIC ID) the first kernel panicked on, where the kdump kernel runs. */
  panicCpu?: number;
  /** Where the kernels' hook runners record the hook points and symbols they are asked for. */
  reached?: Reached;
}

/** A new context for a run of `s` on `built` with `plugins`. */
export function runContext(
  s: Scenario,
  built: Built,
  rec: Recorder,
  plugins: readonly Plugin[],
  instrumented: readonly Plugin[] = [],
  reached?: Reached,
): RunContext {
  return { s, built, rec, plugins, instrumented, timing: {}, expected: [], reached };
}

/** Each kernel gets its own hook runner (fresh plugin state); a baseline build none. */
function hooksFor(ctx: RunContext, build: "series" | "baseline"): HookCaller | undefined {
  return build === "series" && ctx.plugins.length
    ? new HookRunner(ctx.plugins, {
      viewed: (p) => !isBuiltinPlugin(p) && !ctx.instrumented.includes(p),
      reached: ctx.reached && recordInto(ctx.reached),
    })
    : undefined;
}

/** The drivers a kernel has, by name, with the scenario's settings. */
function drivers(ctx: RunContext, names: string[]): DriverFactory[] {
  const s = ctx.s;
  const out: DriverFactory[] = [];
  const settings = (devid: number) => {
    const nic = s.machine.devices.find((d) => d.kind === "nic" && d.bdf === devid);
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
}

const stage = (ctx: RunContext, name: string) => ctx.rec.push("stage", name);

/** The first kernel: boot, bring the interfaces up, run until the panic. */
export function firstKernel(ctx: RunContext): void {
  const { s, built } = ctx;
  const same = s.firstKernel.build === "same";
  const k1 = ctx.k1 = new Kernel(built.machine, {
    id: "kernel1",
    cmdline: s.firstKernel.cmdline,
    memory: built.usable1,
    ivrs: built.ivrs,
    pci: built.pci,
    madt: built.madt,
    hpet: built.hpet,
    drivers: drivers(ctx, ["bnx2", "tg3", "nvme", "svm-accel"]),
    irqTableLen: Math.log2(s.firstKernel.irqTableEntries),
    snpHost: s.firstKernel.snpHost,
    hooks: hooksFor(ctx, same ? "series" : "baseline"),
    version: kernelVersion(same ? ctx.plugins.map((p) => p.id) : []),
  });
  stage(ctx, "kernel1: start_kernel");
  start_kernel(k1, (st) => stage(ctx, `kernel1: ${st}`));
  for (const dev of k1.pci) {
    const nic = s.machine.devices.find((d) => d.kind === "nic" && d.bdf === dev.devid);
    if (nic?.kind === "nic" && nic.up) dev.driver?.open?.(dev);
  }
  stage(ctx, "kernel1: running");
  ctx.timing.kernel1Up = built.machine.clock.now;
  k1.spend(s.firstKernel.uptimeMs * ns.ms);
}

/**
 * The end of the first kernel: a panic (a crash, or a fatal hardware error whose firmware-first
 * handling reset root complexes first) and crash_kexec — memory is snapshotted at that moment —
 * or a plain kexec reboot; then the time until the second kernel starts.
 */
export function panicOrReboot(ctx: RunContext): void {
  const { s, built, rec } = ctx;
  const k1 = ctx.k1!, machine = built.machine;
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
  ctx.timing.panic = machine.clock.now;
  if (s.second.mode === "kdump") {
    ctx.expected = dumpablePages(k1, { ranges: built.ram1 });
    machine.mem.beginSnapshot();
    stage(ctx, "panic");
    // From the snapshot on, every DMA write counts as after the panic (the crash path itself
    // takes time: disable_IO_APIC's register writes while devices go on).
    rec.phase = "between";
    // The panic happens on a CPU the seed picks (its own stream: the others are untouched);
    // crash_kexec stops every other CPU, and the kdump kernel runs on that one alone.
    ctx.panicCpu = s.machine.cpus > 1
      ? machine.clock.rng.fork("panic-cpu").int(0, s.machine.cpus - 1)
      : 0;
    machine.stopOtherCpus(ctx.panicCpu);
    crash_kexec(k1, reason);
  } else {
    stage(ctx, "kexec reboot");
    kernel_kexec(k1, s.second.iommuShutdown);
  }
  rec.phase = "between";
  machine.clock.advance(s.second.kexecDelayMs * ns.ms);
}

/** The second kernel (the kdump kernel, or the kexec'd one): boot up to its driver probes. */
export function secondKernel(ctx: RunContext): void {
  const { s, built, rec } = ctx;
  rec.phase = "kernel2";
  ctx.timing.kernel2Start = built.machine.clock.now;
  stage(ctx, "kernel2: start_kernel");
  const k2 = ctx.k2 = new Kernel(built.machine, {
    id: "kernel2",
    cmdline: s.second.cmdline,
    memory: s.second.mode === "kdump" ? built.usable2 : built.usable1,
    ivrs: built.ivrs,
    pci: built.pci,
    madt: built.madt,
    hpet: built.hpet,
    drivers: drivers(ctx, s.second.drivers),
    cpu: s.second.mode === "kdump" ? ctx.panicCpu ?? 0 : 0,
    hooks: hooksFor(ctx, "series"),
    version: kernelVersion(ctx.plugins.map((p) => p.id)),
  });
  const marks = start_kernel(k2, (st) => stage(ctx, `kernel2: ${st}`));
  for (const [key, v] of Object.entries(marks)) {
    if (v !== undefined) ctx.timing[`kernel2.${key}`] = k2.t0 + v;
  }
}

/**
 * After the probes: in a kdump kernel the kdump service starts and saves the vmcore to the
 * disk (giving up at the scenario's deadline); a kexec'd kernel just runs a while.
 */
export function capture(ctx: RunContext): void {
  const { s, built } = ctx;
  const k2 = ctx.k2!, machine = built.machine;
  if (s.second.mode !== "kdump") {
    k2.spend(500 * ns.ms);
    stage(ctx, "kernel2: running");
    return;
  }
  k2.spend(s.second.serviceDelayMs * ns.ms); // initramfs, systemd, kdump.service
  stage(ctx, "kdump: save vmcore");
  ctx.timing.dumpStart = machine.clock.now;
  const nvme = k2.drivers.find((d): d is NvmeDriver => d instanceof NvmeDriver);
  const deadline = ctx.timing.panic + s.second.deadlineS * ns.s;
  ctx.vm = save_vmcore(k2, nvme, { ranges: built.ram1 }, deadline);
  ctx.timing.dumpEnd = machine.clock.now;
  stage(ctx, `kdump: ${ctx.vm.result}`);
}
