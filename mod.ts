/**
 * kdump-lab: an AMD IOMMU (AMD-Vi) machine simulated through a kernel panic and the boot of
 * its kdump crash kernel, with the Linux 4.14 "Fix kdump faults" series as plugins.
 *
 * ```ts
 * import { run, seriesFromSpec, SCENARIOS } from "./mod.ts";
 * const report = run(SCENARIOS.default, { series: seriesFromSpec("all") });
 * console.log(report.verdict, report.events.IO_PAGE_FAULT, report.strayWriteCount);
 * ```
 *
 * @module
 */

// ---- running scenarios ------------------------------------------------------------------

/** Runs a scenario and returns its Report. */
export { run } from "./runtime/lab/run.ts";
/** Runs a scenario and returns the Report with the machine and both kernels, for scripts. */
export { simulate } from "./runtime/lab/run.ts";
/** Options of `run`/`simulate` (series, force, seed). */
export type { RunOptions } from "./runtime/lab/run.ts";
/** A finished simulation: report, machine, kernels. */
export type { Simulation } from "./runtime/lab/run.ts";

// ---- reports ------------------------------------------------------------------------------

/** The Report's zod schema. */
export { ReportSchema } from "./runtime/lab/report.ts";
/** The Report as JSON Schema. */
export { reportJsonSchema } from "./runtime/lab/report.ts";
/** All verdicts a run can end with. */
export { VERDICTS } from "./runtime/lab/report.ts";
/** A run's report. */
export type { Report } from "./runtime/lab/report.ts";
/** A verdict. */
export type { Verdict } from "./runtime/lab/report.ts";
/** A stray DMA write in a report. */
export type { StrayWrite } from "./runtime/lab/report.ts";

// ---- scenarios ----------------------------------------------------------------------------

/** The scenario schema (zod). */
export { ScenarioSchema } from "./runtime/lab/scenario.ts";
/** A validated scenario. */
export type { Scenario } from "./runtime/lab/scenario.ts";
/** A scenario as written (numbers may be hex strings or sizes like "256M"). */
export type { ScenarioInput } from "./runtime/lab/scenario.ts";
/** The built-in scenarios by name. */
export { SCENARIOS } from "./runtime/lab/scenarios/mod.ts";
/** The built-in `default` scenario. */
export { DEFAULT_SCENARIO } from "./runtime/lab/scenarios/default.ts";
/** Makes a scenario from another by merging changes into it. */
export { derive } from "./runtime/lab/scenarios/derive.ts";
/** Reads a scenario file (JSON or YAML, `extends` resolved); bad input is an InputError. */
export { loadScenarioFile, parseScenarioText } from "./runtime/lab/scenario-source.ts";
/** A built-in scenario as the text of a scenario file (what `scenarios show` prints). */
export { scenarioFileText } from "./runtime/lab/scenario-source.ts";
/** What no machine can be: every problem of a parsed scenario, with its path. */
export { scenarioProblems } from "./runtime/lab/scenario-checks.ts";
/** The bounds scenario values are checked against, each with its reason. */
export { LIMITS } from "./runtime/lab/scenario-limits.ts";

// ---- plugins and series -------------------------------------------------------------------

/** Makes a plugin from its manifest (validated; errors name the plugin and the field). */
export { definePlugin } from "./runtime/plugin/mod.ts";
/** Declares a hook point (for plugins that define their own). */
export { hookPoint } from "./runtime/plugin/mod.ts";
/** An ordered, editable list of plugins. */
export { Series } from "./runtime/plugin/mod.ts";
/** The kernel model's hook points, with kinds, documentation and 4.13 defaults. */
export { HOOK_POINTS } from "./runtime/plugin/mod.ts";
/** Errors of the plugin runtime. */
export {
  ManifestError,
  MissingSymbolError,
  PluginError,
  SeriesError,
} from "./runtime/plugin/mod.ts";
/** Plugin types. */
export type { Plugin, PluginCtx, PluginManifest } from "./runtime/plugin/mod.ts";
/** The twelve patches of the series, in order. */
export { SERIES, SERIES_IDS } from "./plugins/series/mod.ts";
/** Driver plugins by id (bnx2-no-kdump-wait). */
export { DRIVER_PLUGINS } from "./plugins/drivers/mod.ts";
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
/** A series from a spec: "all", "none", or ids ("all"). */
export { seriesFromSpec } from "./runtime/lab/plugins.ts";
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
export type { BatchConfig, BatchJob, BatchResult, SeriesRecipe } from "./runtime/lab/batch.ts";

// ---- measurements ------------------------------------------------------------------------

/** Measures what each patch changes (the README table). */
export { patchTable, renderTable } from "./runtime/lab/table.ts";
/** A row of that table. */
export type { PatchRow } from "./runtime/lab/table.ts";
/** A report's outcome as that table compares it, and what differs between two, in words. */
export { differences, outcomeOf } from "./runtime/lab/table.ts";
/** An outcome (counters and key kernel messages). */
export type { Outcome } from "./runtime/lab/table.ts";

/** git-bisect over the series' prefixes (the prefixes play the role of commits). */
export { bisect, seriesRevisions } from "./runtime/lab/bisect.ts";
/** Delta debugging (ddmin) over sets of patches: a 1-minimal set that passes. */
export { minimize } from "./runtime/lab/minimize.ts";
/** Leave-one-out from the full series. */
export { ablate } from "./runtime/lab/ablate.ts";
/** The matrix of series subsets, run in Deno workers. */
export { runMatrix } from "./runtime/lab/matrix-pool.ts";
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

// ---- decoding -----------------------------------------------------------------------------

/** Decoders for values from real kernel logs (DTE, event, PTE, IRTE, registers). */
export {
  decodeDte,
  decodeEvent,
  decodeIrte,
  decodePte,
  decodeRegister,
} from "./runtime/lab/decode.ts";

// ---- the hardware's structures ----------------------------------------------------------

/** Field layouts declared once as data: DTE. */
export { DTE } from "./runtime/hw/layouts/dte.ts";
/** Page-table entries. */
export { PDE, PTE } from "./runtime/hw/layouts/pte.ts";
/** Interrupt remapping table entries. */
export { IRTE, IRTE_GA } from "./runtime/hw/layouts/irte.ts";
/** Event-log entries and codes. */
export { EVENT_CODES, EVENT_LAYOUTS } from "./runtime/hw/layouts/event.ts";
/** The NIC model's registers (NIC_REG, offsets in its BAR) and CTRL bits (NIC_CTRL). */
export { NIC_CTRL, NIC_REG } from "./runtime/hw/pci/nic.ts";
/** Commands. */
export { CMD_OPCODES, COMMAND_LAYOUTS } from "./runtime/hw/layouts/command.ts";
/** MMIO registers. */
export { MMIO, REGISTERS } from "./runtime/hw/layouts/mmio.ts";
/** The layout engine. */
export { Layout } from "./runtime/hw/bits.ts";
