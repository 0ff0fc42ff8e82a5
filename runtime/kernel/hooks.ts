/**
 * Hook points: every stage where the "Fix kdump faults" series (or a user's experiment)
 * changes what the kernel does, named after the kernel function it models, with the
 * v4.13 behaviour as its default.
 *
 * The kernel declares the points and calls them through {@link HookCaller}; it imports
 * nothing from the plugin runtime, which implements that interface. Without plugins,
 * {@link DEFAULT_HOOKS} runs every default: the pre-series kernel.
 *
 * Kinds:
 * - `run-all`: every tapped handler runs, in series order (no return value).
 * - `bail`: handlers run in order until one returns a value other than `undefined`.
 * - `waterfall`: each handler receives the previous one's value and returns the next.
 * - `wrap`: handlers wrap the default action; each gets `next()` to call what is inside.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import type { Kernel } from "./kernel.ts";
import type { AmdIommuDev, IommuDevData, ProtectionDomain } from "./amd_iommu/types.ts";
import type { PciDev } from "./pci.ts";
import type { Schema } from "./schema.ts";

/** The four hook kinds. */
export type HookKind = "run-all" | "bail" | "waterfall" | "wrap";

/**
 * The name of a context field's type as `kdump-lab hooks` prints it. A field declaration's
 * `type` must be this name, so the printed type cannot drift from the TypeScript one.
 */
export type TypeName<T> = T extends AmdIommuDev ? "AmdIommuDev"
  : T extends IommuDevData ? "IommuDevData"
  : T extends ProtectionDomain ? "ProtectionDomain"
  : T extends PciDev ? "PciDev"
  : T extends Kernel ? "Kernel"
  : T extends number ? "number"
  : T extends string ? "string"
  : T extends boolean ? "boolean"
  : string;

/** One field of a hook context, as `kdump-lab hooks` shows it. */
export interface CtxField<T = unknown> {
  /** The field's TypeScript type ({@link TypeName}). */
  readonly type: TypeName<T>;
  /** What the field is. */
  readonly doc: string;
}

/**
 * A description of every field of context `C` but `k` (the kernel, in every context): the
 * declaration must name each field once, with its type's {@link TypeName}.
 */
export type CtxFields<C> = { readonly [F in Exclude<keyof C, "k">]-?: CtxField<C[F]> };

/** Declaration of one hook point: kind, documentation, what v4.13 does there. */
export interface HookPoint<K extends HookKind = HookKind, C = unknown, V = unknown> {
  /** How its handlers combine: run-all, bail, waterfall or wrap. */
  readonly kind: K;
  /** What the point is, for `kdump-lab hooks`. */
  readonly doc: string;
  /** The v4.13 behaviour (the default when no plugin taps the point). */
  readonly default413: string;
  /** The context's fields besides `k` (see {@link CtxFields}); absent when not described. */
  readonly fields?: { readonly [field: string]: { readonly type: string; readonly doc: string } };
  /**
   * The type of the values handlers give back (a bail answer, a waterfall value, a wrap's
   * result), checked by the plugin runtime on every return: a value that does not match is
   * the returning plugin's error. Absent: not checked (run-all points, void wraps).
   */
  readonly value?: Schema<unknown>;
  /** Phantom: the context type handlers receive. */
  readonly __ctx?: C;
  /** Phantom: the value type (bail result, waterfall value, wrap return). */
  readonly __value?: V;
}

/**
 * Declares a hook point (the context and value types ride along as phantoms); `fields`
 * describes the context's fields for `kdump-lab hooks`, checked against the context type;
 * `value` is the zod schema of the values handlers return, which the plugin runtime checks.
 */
export function hookPoint<K extends HookKind, C, V = void>(
  kind: K,
  doc: string,
  default413: string,
  fields?: CtxFields<C>,
  value?: Schema<V>,
): HookPoint<K, C, V> {
  return Object.freeze({
    kind,
    doc,
    default413,
    ...(fields ? { fields } : {}),
    ...(value ? { value } : {}),
  });
}

/** GFP flags: a whole number of the allocator's flag bits. */
const gfpFlags = z.number().int().nonnegative().max(2 ** 31);
/** DTE field names, as a waterfall over a field list passes them. */
const fieldNames = z.array(z.string().min(1));
/** A protection domain, as get_domain returns one (a domain the iommu core made). */
const domainSchema = z.looseObject({
  id: z.number().int().nonnegative(),
  type: z.enum(["dma", "identity", "unmanaged"]),
  mode: z.number().int().nonnegative(),
  pt_root: z.number().nonnegative(),
  devices: z.custom<Set<number>>((v) => v instanceof Set, "must be a Set of DeviceIDs"),
});

/** Every context carries the kernel whose code is running. */
export interface KernelCtx {
  /** The kernel whose code is running (the first kernel or the kdump kernel). */
  k: Kernel;
}

/** Context at amd_iommu.init_iommu_one. */
export interface InitIommuOneCtx extends KernelCtx {
  /** The IOMMU being initialised (amd_iommu). */
  iommu: AmdIommuDev;
}

/** Context at iommu.__iommu_attach_device. */
export interface AttachCtx extends KernelCtx {
  /** The device being attached. */
  dev: PciDev;
  /** The domain it is attached to. */
  domain: ProtectionDomain;
}

/** Context at amd_iommu.find_dev_data (a dev_data was just allocated). */
export interface FindDevDataCtx extends KernelCtx {
  /** The iommu_dev_data just allocated. */
  devData: IommuDevData;
  /** The IOMMU that handles the device. */
  iommu: AmdIommuDev;
}

/** Context at amd_iommu.get_domain. */
export interface GetDomainCtx extends KernelCtx {
  /** The device of the DMA-API call. */
  dev: PciDev;
  /** Its iommu_dev_data. */
  devData: IommuDevData;
}

/** get_domain's result: the domain, or an errno as the kernel's ERR_PTR carries it. */
export type GetDomainResult = { domain: ProtectionDomain } | { err: "EINVAL" | "EBUSY" };

/** Context at amd_iommu.set_dte_entry. */
export interface SetDteCtx extends KernelCtx {
  /** The DeviceID whose DTE is written. */
  devid: number;
  /** The domain it is attached to. */
  domain: ProtectionDomain;
}

/** Context at amd_iommu_v2.ppr_notifier: a page request from the PPR log. */
export interface PprNotifierCtx extends KernelCtx {
  /** The device that sent the page request. */
  dev: PciDev;
  /** Its iommu_dev_data. */
  devData: IommuDevData;
  /** The IOMMU the request came through. */
  iommu: AmdIommuDev;
  /** The PASID of the request. */
  pasid: number;
  /** The address it asks for. */
  address: number;
}

/** Context at a driver's probe. */
export interface ProbeCtx extends KernelCtx {
  /** The device being probed. */
  dev: PciDev;
}

/** The kernel's hook points and their types (see {@link HOOK_POINTS}). */
export interface KernelHookPoints {
  /** init_iommu_one(): after the IOMMU's MMIO is mapped and its command and event buffers are allocated, before its IVHD entries are parsed. */
  readonly "amd_iommu.init_iommu_one": HookPoint<"run-all", InitIommuOneCtx, void>;
  /** GFP flags of the device table allocation in early_amd_iommu_init() (also used for any other device-table-sized allocation made on the way, e.g. a copy). */
  readonly "amd_iommu.early_amd_iommu_init.dev_table_gfp": HookPoint<
    "waterfall",
    KernelCtx,
    number
  >;
  /** Whether early_amd_iommu_init() calls disable_iommus() ('Disable any previously enabled IOMMUs'). */
  readonly "amd_iommu.early_amd_iommu_init.disable_iommus": HookPoint<
    "waterfall",
    KernelCtx,
    boolean
  >;
  /** early_enable_iommus(): bring every IOMMU up with this kernel's device table, buffers and flags. */
  readonly "amd_iommu.early_enable_iommus": HookPoint<"wrap", KernelCtx, void>;
  /** iommu_ga_log_enable(): start the IOMMU's GA (guest vAPIC) log. */
  readonly "amd_iommu.iommu_ga_log_enable": HookPoint<"wrap", InitIommuOneCtx, void>;
  /** iommu_enable_command_buffer(): point the IOMMU at the command buffer and start it. */
  readonly "amd_iommu.iommu_enable_command_buffer": HookPoint<"wrap", InitIommuOneCtx, void>;
  /** iommu_enable_event_buffer(): point the IOMMU at the event log and start it. */
  readonly "amd_iommu.iommu_enable_event_buffer": HookPoint<"wrap", InitIommuOneCtx, void>;
  /** DTE bits init_device_table_dma() sets on every DeviceID 0..last_bdf (after the iommu core attached the devices). */
  readonly "amd_iommu.init_device_table_dma.bits": HookPoint<"waterfall", KernelCtx, string[]>;
  /** DTE q1 fields set_dte_entry() clears before OR-ing in the new domain ID. */
  readonly "amd_iommu.set_dte_entry.q1_clear": HookPoint<"waterfall", SetDteCtx, string[]>;
  /** set_dte_entry(): write a device's DTE for a protection domain (q1 then q0, each as two 32-bit stores). */
  readonly "amd_iommu.set_dte_entry": HookPoint<"wrap", SetDteCtx, void>;
  /** find_dev_data(): called when a new iommu_dev_data was allocated for a DeviceID. */
  readonly "amd_iommu.find_dev_data": HookPoint<"run-all", FindDevDataCtx, void>;
  /** get_domain(): the protection domain every AMD DMA-API entry point (map_page, unmap_page, map_sg, alloc_coherent, ...) uses. */
  readonly "amd_iommu.get_domain": HookPoint<"wrap", GetDomainCtx, GetDomainResult>;
  /** __iommu_attach_device(): return true to skip ops->attach_dev and report success. */
  readonly "iommu.__iommu_attach_device": HookPoint<"bail", AttachCtx, boolean>;
  /** bnx2_init_one(): right after bnx2_init_board() (which already allocated the statistics block with dma_alloc_coherent), wait for the crashed kernel's in-flight DMA in a kdump kernel. */
  readonly "bnx2.bnx2_init_one.wait_dma": HookPoint<"wrap", ProbeCtx, void>;
  /** bnx2_init_one(): the NIC driver's probe, after bnx2_init_board() and the kdump wait, before the net device is registered. */
  readonly "bnx2.bnx2_init_one": HookPoint<"run-all", ProbeCtx, void>;
  /** tg3_init_one(): the NetXtreme driver's probe, after a running chip was halted and the DMA self test's buffer allocated and freed (its first DMA-API calls), before the net device is registered. */
  readonly "tg3.tg3_init_one": HookPoint<"run-all", ProbeCtx, void>;
  /** ppr_notifier() in amd_iommu_v2: a page request (PCIe PRI) from the PPR log, before the device's state is looked up; returning a PRI status (0 success, 1 invalid, 15 failure) answers it at once. */
  readonly "amd_iommu_v2.ppr_notifier": HookPoint<"bail", PprNotifierCtx, number>;
  /** native_machine_crash_shutdown(): what the panicking kernel does before jumping to the crash kernel. */
  readonly "kernel.machine_crash_shutdown": HookPoint<"run-all", KernelCtx, void>;
}

/** The hook points the kernel model calls (frozen: users' code cannot redeclare one). */
export const HOOK_POINTS: KernelHookPoints = Object.freeze({
  "amd_iommu.init_iommu_one": hookPoint<"run-all", InitIommuOneCtx>(
    "run-all",
    "init_iommu_one(): after the IOMMU's MMIO is mapped and its command and event buffers are allocated, before its IVHD entries are parsed.",
    "Nothing: 4.13 never looks at the control register here.",
    { iommu: { type: "AmdIommuDev", doc: "the IOMMU being initialised (amd_iommu)" } },
  ),
  "amd_iommu.early_amd_iommu_init.dev_table_gfp": hookPoint<"waterfall", KernelCtx, number>(
    "waterfall",
    "GFP flags of the device table allocation in early_amd_iommu_init() (also used for any other device-table-sized allocation made on the way, e.g. a copy).",
    "GFP_KERNEL|__GFP_ZERO: the table may land above 4 GiB.",
    {},
    gfpFlags,
  ),
  "amd_iommu.early_amd_iommu_init.disable_iommus": hookPoint<"waterfall", KernelCtx, boolean>(
    "waterfall",
    "Whether early_amd_iommu_init() calls disable_iommus() ('Disable any previously enabled IOMMUs').",
    "true: always, in a kdump kernel too.",
    {},
    z.boolean(),
  ),
  "amd_iommu.early_enable_iommus": hookPoint<"wrap", KernelCtx, void>(
    "wrap",
    "early_enable_iommus(): bring every IOMMU up with this kernel's device table, buffers and flags.",
    "Per IOMMU: iommu_disable, iommu_init_flags, iommu_set_device_table, enable command buffer and event log, exclusion range, GA, iommu_enable, flush all caches.",
    {},
  ),
  "amd_iommu.iommu_ga_log_enable": hookPoint<"wrap", InitIommuOneCtx, void>(
    "wrap",
    "iommu_ga_log_enable(): start the IOMMU's GA (guest vAPIC) log (vAPIC interrupt mode only).",
    "If Status.GALogRun is already set, return (the log runs); else GAIntEn and GALogEn on, then poll GALogRun (the base and tail address were written at PCI init).",
    { iommu: { type: "AmdIommuDev", doc: "the IOMMU whose GA log is started" } },
  ),
  "amd_iommu.iommu_enable_command_buffer": hookPoint<"wrap", InitIommuOneCtx, void>(
    "wrap",
    "iommu_enable_command_buffer(): point the IOMMU at the command buffer and start it.",
    "Write the Command Buffer Base register (iommu_virt_to_phys(cmd_buf) | 512 entries), then amd_iommu_reset_cmd_buffer(): CmdBufEn off, head = tail = 0, CmdBufEn on.",
    { iommu: { type: "AmdIommuDev", doc: "the IOMMU whose command buffer is enabled" } },
  ),
  "amd_iommu.iommu_enable_event_buffer": hookPoint<"wrap", InitIommuOneCtx, void>(
    "wrap",
    "iommu_enable_event_buffer(): point the IOMMU at the event log and start it.",
    "Write the Event Log Base register (iommu_virt_to_phys(evt_buf) | 512 entries), head = tail = 0, EventLogEn on.",
    { iommu: { type: "AmdIommuDev", doc: "the IOMMU whose event log is enabled" } },
  ),
  "amd_iommu.init_device_table_dma.bits": hookPoint<"waterfall", KernelCtx, string[]>(
    "waterfall",
    "DTE bits init_device_table_dma() sets on every DeviceID 0..last_bdf (after the iommu core attached the devices).",
    "V and TV; in a kdump kernel also SA (DEV_ENTRY_NO_PAGE_FAULT), the 'Suppress IO_PAGE_FAULTs in kdump kernel' patch.",
    {},
    fieldNames,
  ),
  "amd_iommu.set_dte_entry.q1_clear": hookPoint<"waterfall", SetDteCtx, string[]>(
    "waterfall",
    "DTE q1 fields set_dte_entry() clears before OR-ing in the new domain ID.",
    "SA and DomainID (flags &= ~(DTE_FLAG_SA | 0xffff)).",
    {
      devid: { type: "number", doc: "the DeviceID whose DTE is written" },
      domain: { type: "ProtectionDomain", doc: "the domain it is attached to" },
    },
    fieldNames,
  ),
  "amd_iommu.set_dte_entry": hookPoint<"wrap", SetDteCtx, void>(
    "wrap",
    "set_dte_entry(): write a device's DTE for a protection domain (q1 then q0, each as two 32-bit stores).",
    "root | Mode<<9 | IR | IW | V | TV in q0; previous q1 with SA and DomainID cleared, new DomainID.",
    {
      devid: { type: "number", doc: "the DeviceID whose DTE is written" },
      domain: { type: "ProtectionDomain", doc: "the domain it is attached to" },
    },
  ),
  "amd_iommu.find_dev_data": hookPoint<"run-all", FindDevDataCtx>(
    "run-all",
    "find_dev_data(): called when a new iommu_dev_data was allocated for a DeviceID.",
    "Nothing beyond the allocation.",
    {
      devData: { type: "IommuDevData", doc: "the iommu_dev_data just allocated" },
      iommu: { type: "AmdIommuDev", doc: "the IOMMU that handles the device" },
    },
  ),
  "amd_iommu.get_domain": hookPoint<"wrap", GetDomainCtx, GetDomainResult>(
    "wrap",
    "get_domain(): the protection domain every AMD DMA-API entry point (map_page, unmap_page, map_sg, alloc_coherent, ...) uses.",
    "-EINVAL if the IOMMU does not handle the device; the attached domain; -EBUSY if it is not a DMA-ops domain (a NULL domain is dereferenced: oops).",
    {
      dev: { type: "PciDev", doc: "the device of the DMA-API call" },
      devData: { type: "IommuDevData", doc: "its iommu_dev_data" },
    },
    z.union([
      z.strictObject({ domain: domainSchema }),
      z.strictObject({ err: z.enum(["EINVAL", "EBUSY"]) }),
    ]),
  ),
  "iommu.__iommu_attach_device": hookPoint<"bail", AttachCtx, boolean>(
    "bail",
    "__iommu_attach_device(): return true to skip ops->attach_dev and report success.",
    "Never skipped: attach_dev always runs.",
    {
      dev: { type: "PciDev", doc: "the device being attached" },
      domain: { type: "ProtectionDomain", doc: "the domain it is attached to" },
    },
    z.boolean(),
  ),
  "bnx2.bnx2_init_one.wait_dma": hookPoint<"wrap", ProbeCtx, void>(
    "wrap",
    "bnx2_init_one(): right after bnx2_init_board() (which already allocated the statistics block with dma_alloc_coherent), wait for the crashed kernel's in-flight DMA in a kdump kernel.",
    "if (is_kdump_kernel()) bnx2_wait_dma_complete(): stop the DMA engines, then poll every 1 ms (up to 100 times) until no transaction is pending.",
    { dev: { type: "PciDev", doc: "the NIC function being probed" } },
  ),
  "bnx2.bnx2_init_one": hookPoint<"run-all", ProbeCtx>(
    "run-all",
    "bnx2_init_one(): the NIC driver's probe, after bnx2_init_board() and the kdump wait, before the net device is registered.",
    "Nothing more: the chip is not reset until the interface is opened.",
    { dev: { type: "PciDev", doc: "the NIC function being probed" } },
  ),
  "tg3.tg3_init_one": hookPoint<"run-all", ProbeCtx>(
    "run-all",
    "tg3_init_one(): the NetXtreme driver's probe, after a running chip was halted and the DMA self test's buffer allocated and freed (its first DMA-API calls), before the net device is registered.",
    "Nothing more: the chip stays halted until the interface is opened.",
    { dev: { type: "PciDev", doc: "the NIC function being probed" } },
  ),
  "amd_iommu_v2.ppr_notifier": hookPoint<"bail", PprNotifierCtx, number>(
    "bail",
    "ppr_notifier() in amd_iommu_v2: a page request (PCIe PRI) from the PPR log, before the device's state is looked up; returning a PRI status (0 success, 1 invalid, 15 failure) answers it at once.",
    "No early answer: the device's state decides (no state: no answer; PASID not bound: invalid; else the process's fault handler).",
    {
      dev: { type: "PciDev", doc: "the device that sent the page request" },
      devData: { type: "IommuDevData", doc: "its iommu_dev_data" },
      iommu: { type: "AmdIommuDev", doc: "the IOMMU the request came through" },
      pasid: { type: "number", doc: "the PASID of the request" },
      address: { type: "number", doc: "the address it asks for" },
    },
    z.union([z.literal(0), z.literal(1), z.literal(15)]),
  ),
  "kernel.machine_crash_shutdown": hookPoint<"run-all", KernelCtx>(
    "run-all",
    "native_machine_crash_shutdown(): what the panicking kernel does before jumping to the crash kernel.",
    "Stops CPUs, disables the IO-APIC/LAPIC; the IOMMU is left as it is.",
    {},
  ),
});

/** The declared hook points. */
export type HookPoints = typeof HOOK_POINTS;
/** A declared hook point name. */
export type HookName = keyof HookPoints;

/** The kind, context and value types of a hook point. */
export type Of<P> = P extends HookPoint<infer K, infer C, infer V> ? { kind: K; ctx: C; value: V }
  : never;
/** Context type of a hook point. */
export type CtxOf<P> = Of<P>["ctx"];
/** Value type of a hook point. */
export type ValueOf<P> = Of<P>["value"];
/** Names of hook points of kind `K` in the map `M`. */
export type NamesOfKind<M, K extends HookKind> = {
  [N in keyof M]: M[N] extends HookPoint<K, unknown, unknown> ? N : never;
}[keyof M];

/** How kernel code calls hook points (implemented by the plugin runtime). */
export interface HookCaller {
  /** Runs every handler of run-all point `name`, in series order. */
  runAll<N extends NamesOfKind<HookPoints, "run-all">>(name: N, ctx: CtxOf<HookPoints[N]>): void;
  /** Runs bail point `name`'s handlers until one answers: that answer, or undefined. */
  bail<N extends NamesOfKind<HookPoints, "bail">>(
    name: N,
    ctx: CtxOf<HookPoints[N]>,
  ): ValueOf<HookPoints[N]> | undefined;
  /** Passes `value` through waterfall point `name`'s handlers in order: the last one's value. */
  waterfall<N extends NamesOfKind<HookPoints, "waterfall">>(
    name: N,
    value: ValueOf<HookPoints[N]>,
    ctx: CtxOf<HookPoints[N]>,
  ): ValueOf<HookPoints[N]>;
  /** Runs `def` (the default action) inside wrap point `name`'s handlers (the last outermost). */
  wrap<N extends NamesOfKind<HookPoints, "wrap">>(
    name: N,
    ctx: CtxOf<HookPoints[N]>,
    def: () => ValueOf<HookPoints[N]>,
  ): ValueOf<HookPoints[N]>;
}

/** The pre-series kernel: every hook point runs its default. */
export const DEFAULT_HOOKS: HookCaller = {
  runAll() {},
  bail() {
    return undefined;
  },
  waterfall(_name, value) {
    return value;
  },
  wrap(_name, _ctx, def) {
    return def();
  },
};
