/**
 * Plugin authoring for kdump-lab (`@kdump-lab/kdump-lab/plugin`): {@link definePlugin}, the
 * hook points and their context types, the kernel model a handler reaches through `ctx.k`
 * ({@link Kernel}), series editing, and the errors a plugin can meet.
 *
 * Every type a handler meets through `ctx.k` is exported here: the AMD driver's structures,
 * the DMA API, the page allocator, the log, physical memory as {@link KernelMemory}. The
 * simulated machine itself is the lab's instrumentation, not part of this API.
 *
 * A plugin file default-exports a plugin; `kdump-lab run --plugin FILE` loads it. Handlers
 * are typed by the hook point they tap: run-all `(ctx) => void`, bail `(ctx) => value |
 * undefined`, waterfall `(value, ctx) => value`, wrap `(ctx, next) => value`.
 *
 * @example A plugin that logs every DTE the kdump kernel writes
 * ```ts
 * import { definePlugin } from "./plugin.ts";
 *
 * export default definePlugin({
 *   id: "trace-set-dte",
 *   title: "Trace set_dte_entry in the kdump kernel",
 *   hooks: {
 *     "amd_iommu.set_dte_entry": (ctx, next) => {
 *       if (ctx.k.is_kdump_kernel()) ctx.k.pr_info(`set_dte_entry ${ctx.devid} dom ${ctx.domain.id}`);
 *       return next();
 *     },
 *   },
 * });
 * ```
 *
 * @module
 */

// ---- the contract --------------------------------------------------------------------------

export { definePlugin, isPlugin } from "./runtime/plugin/mod.ts";
export type { AnyHandler } from "./runtime/plugin/plugin.ts";
export type {
  Handler,
  HandlerFor,
  HookCtx,
  Hooks,
  Plugin,
  PluginCtx,
  PluginHookApi,
  PluginManifest,
  SymbolEnv,
  SymbolFactory,
} from "./runtime/plugin/mod.ts";

// ---- hook points and their contexts -------------------------------------------------------

export { HOOK_POINTS, hookPoint } from "./runtime/plugin/mod.ts";
export type {
  CtxOf,
  HookKind,
  HookName,
  HookPoint,
  HookPoints,
  NamesOfKind,
  ValueOf,
} from "./runtime/plugin/kernel-api.ts";
export type {
  CtxField,
  CtxFields,
  KernelHookPoints,
  Of,
  TypeName,
} from "./runtime/kernel/hooks.ts";
export type {
  AttachCtx,
  FindDevDataCtx,
  GetDomainCtx,
  GetDomainResult,
  HookCaller,
  InitIommuOneCtx,
  KernelCtx,
  PprNotifierCtx,
  ProbeCtx,
  SetDteCtx,
} from "./runtime/kernel/hooks.ts";
export type { SafeParseResult, Schema, SchemaError, SchemaIssue } from "./runtime/kernel/schema.ts";

// ---- the kernel model (`ctx.k`) -----------------------------------------------------------

export { KernelPanic } from "./runtime/plugin/kernel-api.ts";
export type { Kernel } from "./runtime/plugin/kernel-api.ts";
export type { KernelConfig, KernelId, KernelMemory, PciDevInfo } from "./runtime/kernel/kernel.ts";
export type { CpuMemory } from "./runtime/kernel/sme.ts";
export type { Region, RegionKind } from "./runtime/hw/memory.ts";
export type { OwnerWho } from "./runtime/hw/owners.ts";
export type { Scheduled } from "./runtime/hw/clock.ts";
export type { PciIdentity } from "./runtime/hw/pci/device.ts";
export { LOGLEVEL } from "./runtime/kernel/printk.ts";
export type { Dmesg, LogLevel, LogLine, RateLimit } from "./runtime/kernel/printk.ts";
export type { PageAllocator, Zone } from "./runtime/kernel/alloc.ts";
export type { IvhdInfo, Ivrs, PciDev } from "./runtime/kernel/pci.ts";
export type { Driver, DriverFactory } from "./runtime/kernel/drivers/driver.ts";
export type { MadtIoApic } from "./runtime/kernel/io_apic.ts";
export type { CoherentBuf, DmaApi, DmaDir, DmaOps } from "./runtime/kernel/dma.ts";
export type { IommuCore, IommuGroup } from "./runtime/kernel/iommu_core.ts";
export type { IovaDomain } from "./runtime/kernel/iova.ts";

// ---- the AMD IOMMU driver (`ctx.k.amd`) ----------------------------------------------------

export type { AmdIommuDriver, InitState, RlookupTable } from "./runtime/kernel/amd_iommu/driver.ts";
export type {
  AmdIommuDev,
  DomainType,
  IommuDevData,
  ProtectionDomain,
} from "./runtime/kernel/amd_iommu/types.ts";
export type { CmdStats } from "./runtime/kernel/amd_iommu/cmd.ts";
export type { GetDomainCall } from "./runtime/kernel/amd_iommu/domain.ts";
export type { AmdDmaOps } from "./runtime/kernel/amd_iommu/dma_ops.ts";
export type { EventHandler, PrintedEvent } from "./runtime/kernel/amd_iommu/events.ts";
export type { IrqRemap, IrqRemapTable, MsiMessage } from "./runtime/kernel/amd_iommu/irq.ts";
export type { AmdIommuV2, PasidFaultHandler, PprFault } from "./runtime/kernel/amd_iommu/v2.ts";
export { getOrder, GFP } from "./runtime/kernel/alloc.ts";
export {
  build_completion_wait,
  build_inv_all,
  build_inv_dte,
  build_inv_iommu_pages,
  build_inv_irt,
} from "./runtime/kernel/amd_iommu/cmd.ts";
export type { IommuCmd } from "./runtime/kernel/amd_iommu/cmd.ts";
export { readDteWords } from "./runtime/kernel/amd_iommu/domain.ts";

// ---- series -------------------------------------------------------------------------------

export { Series } from "./runtime/plugin/mod.ts";
export type { Missing, Placement, Resolved } from "./runtime/plugin/series.ts";
export { SERIES, SERIES_IDS } from "./plugins/series/mod.ts";
export { DRIVER_PLUGINS } from "./plugins/drivers/mod.ts";

// ---- errors -------------------------------------------------------------------------------

export {
  ManifestError,
  MissingSymbolError,
  PluginError,
  SeriesError,
} from "./runtime/plugin/mod.ts";
