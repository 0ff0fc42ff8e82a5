/**
 * run(scenario, options) → Report: firmware → first kernel boot → devices start DMA →
 * panic (or a plain kexec reboot) → kexec → second kernel boot (IOMMU init, iommu core,
 * driver probes) → vmcore capture over a disk that itself does DMA → verdict.
 *
 * Nothing here decides an outcome: the phases (phases.ts) run the kernels on the machine, and
 * the verdict is a pure function (verdict.ts) of what they did — did a kernel panic, did the
 * capture finish, what reached the disk.
 *
 * @module
 */
import { EVENT_NAMES } from "../hw/layouts/event.ts";
import { bdfText } from "../hw/memory.ts";
import type { Machine } from "../hw/machine.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { KernelPanic } from "../kernel/kernel.ts";
import { isAttributed, type Plugin, Series, unwrapHookError } from "../plugin/mod.ts";
import { buildMachine, type Built } from "./machine.ts";
import { capture, firstKernel, panicOrReboot, runContext, secondKernel } from "./phases.ts";
import { Recorder } from "./recorder.ts";
import type { Reached } from "./reuse.ts";
import { makeReport, type Report, requiresText } from "./report.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";
import { judgeRun, type RunOutcome } from "./verdict.ts";
import { verifyDump } from "./verify.ts";

/** Options of a run. */
export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** The plugins to apply: a Series (its enabled plugins, resolved) or a list in order. */
  series?: Series | readonly Plugin[];
  /** Run even if plugins' dependencies are missing (a series that would not build). */
  force?: boolean;
  /**
   * Plugins that see the kernel itself, instrumentation included (the machine object, owner
   * tags, the snapshot): a test's probes. Every other plugin that is not built in sees the
   * kernel API only (runtime/plugin/kernel-view.ts). Never give users' plugin files here.
   */
  instrumented?: readonly Plugin[];
  /**
   * Filled with the hook points and symbols the run's plugins were asked for (see
   * runtime/lab/reuse.ts); a run without plugins asks none (every point runs its default).
   */
  reached?: Reached;
}

/** A finished simulation: the report, and the kernels it came from (for scripts). */
export interface Simulation {
  /** The run's report (what {@link run} returns). */
  report: Report;
  /** The scenario as it ran: validated, defaults filled in, the seed of the run. */
  scenario: Scenario;
  /** The first kernel as it ended (absent when the run was skipped). */
  kernel1?: Kernel;
  /** The second (kdump or kexec) kernel as it ended (absent if it never started). */
  kernel2?: Kernel;
}

/**
 * A finished simulation with the lab's instrumentation: the machine, the machine as built and
 * the recorder (for the lab's tests; not part of the package's API).
 */
export interface LabSimulation extends Simulation {
  /** The simulated machine, not disposed: its memory and devices as the run left them. */
  machine: Machine;
  /** The machine as built: devices, memory ranges, firmware tables. */
  built: Built;
  /** What the recorder saw: events, faults, stray writes, the timeline. */
  recorder: Recorder;
}

/** Runs a scenario and returns its report (a series that would not build is not simulated). */
export function run(input: ScenarioInput | Scenario, opts: RunOptions = {}): Report {
  const p = prepare(input, opts);
  if (p.skip) return skippedReport(p.base);
  const sim = simulatePrepared(p);
  // Nothing reads the machine again: its storage goes to the next run (hw/memory/pool.ts).
  sim.machine.dispose();
  return sim.report;
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
  const instrumented = opts.instrumented ?? [];
  const skip = resolved.missing.length > 0 && !opts.force;
  return { s, resolved, base, skip, instrumented, reached: opts.reached };
}

/** Runs a scenario and returns the report together with both kernels. */
export function simulate(input: ScenarioInput | Scenario, opts: RunOptions = {}): Simulation {
  return simulatePrepared(prepare(input, opts));
}

/** {@link simulate}, with the machine, the machine as built and the recorder (for tests). */
export function simulateLab(
  input: ScenarioInput | Scenario,
  opts: RunOptions = {},
): LabSimulation {
  return simulatePrepared(prepare(input, opts));
}

function simulatePrepared(
  { s, resolved, base, skip, instrumented, reached }: ReturnType<typeof prepare>,
): LabSimulation {
  const built = buildMachine(s);
  const { machine, nics, disks } = built;
  const rec = new Recorder(machine);
  if (skip) return { report: skippedReport(base), scenario: s, machine, built, recorder: rec };
  const ctx = runContext(s, built, rec, resolved.plugins, instrumented, reached);
  let failure: RunOutcome["failure"];
  try {
    firstKernel(ctx);
    panicOrReboot(ctx);
    secondKernel(ctx);
    capture(ctx);
  } catch (thrown) {
    const e = unwrapHookError(thrown);
    if (isAttributed(e)) {
      failure = { kind: "plugin-error", plugin: e.plugin, hook: e.hook, message: e.detail };
    } else if (e instanceof KernelPanic) {
      failure = { kind: "panic", kernel: ctx.k2 ? "second" : "first", reason: e.reason };
    } else throw e;
  }
  const { k1, k2, vm, timing } = ctx;
  const completed = !failure && s.second.mode === "kdump" && vm?.result === "complete";
  const judged = judgeRun({
    mode: s.second.mode,
    failure,
    capture: vm,
    check: completed
      ? verifyDump(machine.mem, disks[0], ctx.expected, rec.afterPanic, k1?.sme_active())
      : undefined,
    disk: disks[0] ? bdfText(disks[0].devid) : undefined,
    strays: { count: rec.strayCount, first: rec.strays[0] },
  });
  const dump = failure ? undefined : judged.dump;
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
    verdict: judged.verdict,
    cause: judged.cause,
    ...(judged.pluginError ? { pluginError: judged.pluginError } : {}),
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
