/**
 * kdump-lab: an AMD IOMMU (AMD-Vi) machine simulated through a kernel panic and the boot of
 * its kdump crash kernel, with the Linux 4.14 "Fix kdump faults" series as plugins.
 *
 * This entry point runs scenarios and reads their reports: {@link run}, {@link simulate},
 * the scenarios, series specs, the measurements (patch table, bisect, minimize, ablate,
 * matrix) and the HTML pages. Plugin authoring is `./plugin.ts` (`@kdump-lab/kdump-lab/plugin`),
 * the hardware's layouts and decoders are `./hw.ts` (`@kdump-lab/kdump-lab/hw`).
 *
 * @example Run the default scenario with the series (4.14)
 * ```ts
 * import { run, SCENARIOS, seriesFromSpec } from "./mod.ts";
 *
 * const report = run(SCENARIOS.default, { series: seriesFromSpec("all") });
 * console.log(report.verdict, report.events.IO_PAGE_FAULT, report.strayWriteCount);
 * ```
 *
 * @example What one patch changes
 * ```ts
 * import { differences, outcomeOf, run, SCENARIOS, seriesFromSpec } from "./mod.ts";
 *
 * const whole = run(SCENARIOS.default, { series: seriesFromSpec("all") });
 * const without = run(SCENARIOS.default, {
 *   series: seriesFromSpec("all").disable("disable-only-if-off"),
 * });
 * console.log(differences(outcomeOf(whole), outcomeOf(without)));
 * ```
 *
 * @module
 */

// ---- running scenarios ------------------------------------------------------------------

/** Runs a scenario and returns its Report. */
export { run } from "./runtime/lab/run.ts";
/** Runs a scenario and returns the Report with both kernels as they ended, for scripts. */
export { simulate } from "./runtime/lab/run.ts";
/** Options of `run`/`simulate` (series, force, seed). */
export type { RunOptions } from "./runtime/lab/run.ts";
/** A finished simulation: the report and both kernels. */
export type { Simulation } from "./runtime/lab/run.ts";
/** The hook points and symbols a run's plugins were asked for (`RunOptions.reached`). */
export type { Reached } from "./runtime/lab/reuse.ts";
/** Empty sets for `RunOptions.reached` to fill. */
export { reached } from "./runtime/lab/reuse.ts";

// ---- reports ------------------------------------------------------------------------------

/** The Report's zod schema. */
export { ReportSchema } from "./runtime/lab/report.ts";
/** What the Report's and the scenario's schemas offer: parse, safeParse, their errors. */
export type { SafeParseResult, Schema, SchemaError, SchemaIssue } from "./runtime/kernel/schema.ts";
/** The Report as JSON Schema. */
export { reportJsonSchema } from "./runtime/lab/report.ts";
/** All verdicts a run can end with. */
export { VERDICTS } from "./runtime/lab/report.ts";
/** A run's report. */
export type { Report } from "./runtime/lab/report.ts";
/** A verdict. */
export type { Verdict } from "./runtime/lab/report.ts";
/** A stray DMA write in a report, a timeline entry, how a faulted DMA ended. */
export type { FaultClass, StrayWrite, TimelineEntry } from "./runtime/lab/report.ts";
/** Every way a faulted DMA can end (the fault classes of timeline entries). */
export { FAULT_CLASSES } from "./runtime/lab/report.ts";

// ---- scenarios ----------------------------------------------------------------------------

/** The scenario schema (zod). */
export { ScenarioSchema } from "./runtime/lab/scenario.ts";
/** A validated scenario. */
export type { Scenario } from "./runtime/lab/scenario.ts";
/** A scenario as written (numbers may be hex strings or sizes like "256M"). */
export type { ScenarioInput } from "./runtime/lab/scenario.ts";
/** The parts of a scenario, validated and as written. */
export type {
  AbortPolicy,
  BdfInput,
  NumberInput,
  ScenarioDevice,
  ScenarioDeviceInput,
  ScenarioDisk,
  ScenarioDiskInput,
  ScenarioFirstKernel,
  ScenarioFirstKernelInput,
  ScenarioIoApic,
  ScenarioIoApicInput,
  ScenarioIommu,
  ScenarioIommuInput,
  ScenarioMachine,
  ScenarioMachineInput,
  ScenarioNic,
  ScenarioNicBurst,
  ScenarioNicDriver,
  ScenarioNicInput,
  ScenarioNicTraffic,
  ScenarioNicTrafficInput,
  ScenarioPanic,
  ScenarioRange,
  ScenarioRangeInput,
  ScenarioRegion,
  ScenarioRegionInput,
  ScenarioSecondKernel,
  ScenarioSecondKernelInput,
  ScenarioSvm,
  ScenarioSvmDriver,
  ScenarioSvmDriverInput,
  ScenarioSvmInput,
} from "./runtime/lab/scenario.ts";
/** The built-in scenarios by name. */
export { SCENARIOS } from "./runtime/lab/scenarios/mod.ts";
/** The built-in `default` scenario. */
export { DEFAULT_SCENARIO } from "./runtime/lab/scenarios/default.ts";
/** Makes a scenario from another by merging changes into it. */
export { derive } from "./runtime/lab/scenarios/derive.ts";
/** Reads a scenario file (JSON or YAML, `extends` resolved); bad input is an InputError. */
export { loadScenarioFile, parseScenarioText } from "./runtime/lab/scenario-source.ts";
/** The formats a scenario file may be written in. */
export type { ScenarioFormat } from "./runtime/lab/scenario-source.ts";
/** The error of bad input (a scenario file, options, a plugin list), one problem a line. */
export { InputError } from "./runtime/lab/input.ts";
/** A built-in scenario as the text of a scenario file (what `scenarios show` prints). */
export { scenarioFileText } from "./runtime/lab/scenario-source.ts";
/** What no machine can be: every problem of a parsed scenario, with its path. */
export { scenarioProblems } from "./runtime/lab/scenario-checks.ts";
/** One such problem. */
export type { Problem } from "./runtime/lab/scenario-checks.ts";
/** The bounds scenario values are checked against, each with its reason. */
export { LIMITS } from "./runtime/lab/scenario-limits.ts";
/** What `derive` merges in. */
export type { ScenarioChanges } from "./runtime/lab/scenarios/derive.ts";

// ---- series ------------------------------------------------------------------------------

/** A series from a spec: "all", "later", "none", or ids ("all,later,bnx2-no-kdump-wait"). */
export { seriesFromSpec } from "./runtime/lab/plugins.ts";
/** Ids of the later upstream fixes, and of every patch (the series, then the later fixes). */
export { laterIds, patchIds } from "./runtime/lab/plugins.ts";
/** Upstream's later kdump fixes, in upstream order (`--series later`). */
export { LATER } from "./plugins/later/mod.ts";
/** An ordered, editable list of plugins (what `seriesFromSpec` returns). */
export { Series } from "./runtime/plugin/mod.ts";
/** The twelve patches of the series, in order, and their ids. */
export { SERIES, SERIES_IDS } from "./plugins/series/mod.ts";
/** Driver plugins by id (bnx2-no-kdump-wait). */
export { DRIVER_PLUGINS } from "./plugins/drivers/mod.ts";
/** A plugin (see `./plugin.ts` for writing one). */
export type { Plugin } from "./runtime/plugin/mod.ts";
/** GFP flags and get_order() of the kernel model's page allocator, for plugin authors. */
export { getOrder, GFP } from "./runtime/kernel/alloc.ts";
/** Command builders of the AMD driver model (build_inv_iommu_pages & co.), for plugin authors. */
export {
  build_completion_wait,
  build_inv_all,
  build_inv_dte,
  build_inv_iommu_pages,
  build_inv_irt,
} from "./runtime/kernel/amd_iommu/cmd.ts";
/** `readDteWords(k.amd, devid)`: the 8 dwords of a DTE in a kernel's device table. */
export { readDteWords } from "./runtime/kernel/amd_iommu/domain.ts";
/**
 * True for a PluginError the plugin runtime made (attributed to the plugin whose code threw),
 * false for one a plugin constructed itself.
 */
export { isAttributed } from "./runtime/plugin/mod.ts";

// ---- users' code: the sandbox ------------------------------------------------------------------

/**
 * The sandbox's limits for users' plugin files and `--run` scripts: the defaults (60 s a run,
 * 2048 MiB, no permission beyond reading their own files) and the permissions one can grant.
 */
export { DEFAULT_LIMITS, PERMISSIONS } from "./runtime/lab/sandbox.ts";
/** The sandbox's limits, a grantable permission, and what ended a sandboxed run. */
export type { Permission, SandboxFault, SandboxLimits } from "./runtime/lab/sandbox.ts";
/**
 * Runs of one configuration in workers; a configuration naming users' plugin files runs in
 * sandbox hosts (subprocesses) under its `sandbox` limits.
 */
export { BatchPool } from "./runtime/lab/batch.ts";
/** What a BatchPool runs and returns. */
export type {
  BatchConfig,
  BatchJob,
  BatchPoolOptions,
  BatchResult,
  SeriesRecipe,
} from "./runtime/lab/batch.ts";
/** One run of a batch or a sweep, compactly; a sweep's summary, rates and spreads. */
export type { Rate, Spread, SweepCounter, SweepResult, SweepRun } from "./runtime/lab/sweep.ts";
/** A sweep's summary of its runs, and the 95 % Wilson interval of a rate. */
export { summarise, SWEEP_COUNTERS, sweepRun, wilson } from "./runtime/lab/sweep.ts";
/**
 * Runs one configuration over a list of seeds (in workers) and summarises the runs.
 *
 * @example
 * ```ts
 * import { runSweep, SCENARIOS } from "./mod.ts";
 * const sweep = await runSweep(
 *   { scenario: SCENARIOS.default, recipe: { spec: "none" } },
 *   [1, 2, 3, 4, 5],
 * );
 * console.log(sweep.verdicts, sweep.counters.strayWriteCount);
 * ```
 */
export { runSweep } from "./runtime/lab/sweep-run.ts";
/** Options of runSweep. */
export type { SweepOptions } from "./runtime/lab/sweep-run.ts";
/** Seed lists: `100` (1..100), `A..B`, comma lists. */
export { parseSeeds, seedsText } from "./runtime/lab/seeds.ts";
/**
 * What "good" means over seeds: `clean` (the default), parts joined with `+`, a rate
 * (`dump-ok>=99%`); judge a set of runs with judgeRuns.
 *
 * @example
 * ```ts
 * import { judgeRuns, parseJudge, runSweep, SCENARIOS } from "./mod.ts";
 * const sweep = await runSweep({ scenario: SCENARIOS.default, recipe: { spec: "all" } }, [1, 2, 3]);
 * console.log(judgeRuns(parseJudge("dump-ok>=99%"), sweep.runs)); // "good" or "bad"
 * ```
 */
export {
  CRITERIA,
  DEFAULT_JUDGE,
  judgeRuns,
  judgeSpecText,
  judgeText,
  meets,
  parseJudge,
} from "./runtime/lab/judge.ts";
/** A judge over seeds, and its parts. */
export type { CriterionPart, JudgeSpec } from "./runtime/lab/judge.ts";

// ---- measurements ------------------------------------------------------------------------

/** Measures what each patch changes (the README table). */
export { patchSweepTable, patchTable, renderTable } from "./runtime/lab/table.ts";
/** A row of that table. */
export type { PatchRow } from "./runtime/lab/table.ts";
/** A report's outcome as that table compares it, and what differs between two, in words. */
export { differences, outcomeOf } from "./runtime/lab/table.ts";
/** An outcome (counters and key kernel messages). */
export type { Outcome } from "./runtime/lab/table.ts";
/** A configuration's outcomes over seeds, and what differs between two of them. */
export type { OutcomeSweep } from "./runtime/lab/outcome.ts";
/** Outcomes over seeds: their spread, their differences in words. */
export { sweepDifferences, sweepOutcomes, verdictCounts } from "./runtime/lab/outcome.ts";

/** git-bisect over the series' prefixes (the prefixes play the role of commits). */
export { bisect, defaultTerms, prefixTester, seriesRevisions } from "./runtime/lab/bisect.ts";
/** Bisection's options, steps, terms and result. */
export type {
  BisectEvent,
  BisectOptions,
  BisectResult,
  BisectStatus,
  BisectStep,
  BisectTerms,
  PrefixTester,
  Revision,
} from "./runtime/lab/bisect.ts";
/** What a predicate says of a run (git bisect run's good, bad, skip), and predicates. */
export type { Judge, Judgement, RunFn, Tested } from "./runtime/lab/probe.ts";
/** What bisect and minimize run each set of patches on (in this process, or in a pool). */
export type { ProbeSetup, SetPool } from "./runtime/lab/probe.ts";
/** A pool that runs a search's sets where users' plugin files are sandboxed. */
export { setPool } from "./runtime/lab/set-pool.ts";
/** What {@link setPool} runs. */
export type { SetPoolOptions } from "./runtime/lab/set-pool.ts";
/** Delta debugging (ddmin) over sets of patches: a 1-minimal set that passes. */
export { minimize } from "./runtime/lab/minimize.ts";
/** Minimization's options, tests and result. */
export type {
  MinimizeOptions,
  MinimizeResult,
  SetOutcome,
  SetTest,
} from "./runtime/lab/minimize.ts";
/** Leave-one-out from the full series. */
export { ablate } from "./runtime/lab/ablate.ts";
/** Ablation's options and rows (over seeds: each row's sweep). */
export type { AblateOptions, AblationRow, AblationSweep } from "./runtime/lab/ablate.ts";
/** The matrix of series subsets, run in Deno workers. */
export { runMatrix } from "./runtime/lab/matrix-pool.ts";
/** The matrix's options, config, JSONL header, lines and file. */
export type { PoolOptions, RunMatrixOptions } from "./runtime/lab/matrix-pool.ts";
export type { MatrixConfig, MatrixLine, PluginFileArg } from "./runtime/lab/matrix-run.ts";
export type { MatrixMode, Shard } from "./runtime/lab/matrix.ts";
export type { MatrixFile, MatrixHeader } from "./runtime/lab/matrix-jsonl.ts";
/**
 * Self-contained HTML pages: a report's SVG timeline, several reports on one time axis, a
 * matrix's patch sets by outcome, an ablation table.
 */
export {
  renderAblateHtml,
  renderMatrixHtml,
  renderReportHtml,
  renderReportsHtml,
} from "./runtime/html/mod.ts";
/** The HTML pages' inputs. */
export type {
  AblateHeatmapInput,
  AblateRow,
  LabelledReport,
  MatrixCell,
  MatrixHeatmapInput,
  ReportPageOptions,
} from "./runtime/html/mod.ts";
