/**
 * The AMD IOMMU driver as it was before the series (v4.13, amd_iommu_init.c): its globals,
 * the init state machine and the functions it runs on the way. Every place where the
 * series changes behaviour is a hook point (see ../hooks.ts); the defaults are 4.13's.
 *
 * Function names follow the kernel's, so `iommu_set_device_table` here is the one in
 * amd_iommu_init.c.
 *
 * @module
 */
import { CONTROL, EFR, MMIO, STATUS } from "../../hw/layouts/mmio.ts";
import { DTE, DTE_BYTES } from "../../hw/layouts/dte.ts";
import { getOrder, GFP, gfpText } from "../alloc.ts";
import { COST } from "../cost.ts";
import { type Kernel, machineOf } from "../kernel.ts";
import { pciName } from "../pci.ts";
import {
  build_inv_all,
  build_inv_dte,
  build_inv_iommu_pages,
  build_inv_irt,
  type CmdStats,
  iommu_completion_wait,
  iommu_queue_command,
} from "./cmd.ts";
import { type GetDomainCall, set_dev_entry_bits } from "./domain.ts";
import { AmdDmaOps } from "./dma_ops.ts";
import { EventHandler } from "./events.ts";
import { IrqRemap } from "./irq.ts";
import { AmdIommuV2 } from "./v2.ts";
import {
  type AmdIommuDev,
  BUFFER,
  type IommuDevData,
  LOOP_TIMEOUT,
  type ProtectionDomain,
} from "./types.ts";

/** GA_LOG_SIZE_512: the GA log length field Linux writes (8, bits 59:56). */
const GA_LOG_SIZE_512 = 8 * 2 ** 56;
import { dwordsOf } from "../../hw/dwords.ts";
import { giveBack, take } from "../../hw/memory/pool.ts";

/** IOAPIC_SB_DEVID: the southbridge I/O APIC's DeviceID, 00:14.0. */
const IOAPIC_SB_DEVID = 0x00a0;

/** The driver's init states (enum iommu_init_state). */
export type InitState =
  | "IOMMU_START_STATE"
  | "IOMMU_IVRS_DETECTED"
  | "IOMMU_ACPI_FINISHED"
  | "IOMMU_ENABLED"
  | "IOMMU_PCI_INIT"
  | "IOMMU_INTERRUPTS_EN"
  | "IOMMU_DMA_OPS"
  | "IOMMU_INITIALIZED"
  | "IOMMU_NOT_FOUND"
  | "IOMMU_INIT_ERROR"
  | "IOMMU_CMDLINE_DISABLED";

/** Control register bit numbers (CONTROL_* in amd_iommu_types.h), from the layout. */
export const CTRL = Object.fromEntries(CONTROL.fields.map((f) => [f.name, f.bit])) as Record<
  string,
  number
>;

/** amd_iommu_rlookup_table, stored as the DeviceID ranges set_iommu_for_device filled in. */
export class RlookupTable {
  private readonly ranges: { first: number; last: number; iommu: AmdIommuDev }[] = [];

  /** Points DeviceIDs first..last at `iommu` (later ranges win). */
  add(first: number, last: number, iommu: AmdIommuDev): void {
    this.ranges.unshift({ first, last, iommu });
  }

  /** The IOMMU of `devid`. */
  get(devid: number): AmdIommuDev | undefined {
    for (const r of this.ranges) if (devid >= r.first && devid <= r.last) return r.iommu;
    return undefined;
  }

  /** Whether an IOMMU covers `devid`. */
  has(devid: number): boolean {
    return this.get(devid) !== undefined;
  }
}

/** The AMD IOMMU driver of one kernel. */
export class AmdIommuDriver {
  /** amd_iommus[]. */
  readonly iommus: AmdIommuDev[] = [];
  /** Physical address of amd_iommu_dev_table. */
  dev_table = 0;
  /** dev_table_size in bytes. */
  dev_table_size = 0;
  /** amd_iommu_last_bdf. */
  last_bdf = 0;
  /** amd_iommu_rlookup_table: DeviceID → IOMMU (kept as the IVHD ranges it is filled from). */
  readonly rlookup = new RlookupTable();
  /** amd_iommu_pd_alloc_bitmap (one byte per domain ID; bit 0 reserved). */
  readonly pd_alloc_bitmap: Uint8Array<ArrayBuffer> = take(Uint8Array, 65536);
  /** amd_iommu_irq_remap. */
  irq_remap = false;
  /** amd_iommu_disabled (amd_iommu=off). */
  readonly disabled: boolean;
  /** iommu=pt: identity default domains. */
  readonly passthrough: boolean;
  /** init_state: how far iommu_go_to_state() got (or how init failed). */
  init_state: InitState = "IOMMU_START_STATE";
  /** iommu_dev_data by DeviceID. */
  readonly dev_data: Map<number, IommuDevData> = new Map();
  /** Protection domains. */
  readonly domains: ProtectionDomain[] = [];
  /** IOVA ranges (pfns, inclusive) every DMA domain reserves. */
  reserved_iova_ranges: [number, number][] = [];
  /** Commands queued and completion waits, on all of the driver's IOMMUs. */
  readonly cmdStats: CmdStats = { queued: 0, waits: 0, timeouts: 0 };
  /** The event and PPR log handling (amd_iommu_int_thread, iommu_print_event). */
  readonly events: EventHandler;
  /** Interrupt remapping (amd_iommu_irq_remap's tables, the IOMMU's MSI). */
  readonly irq: IrqRemap;
  /** amd_iommu_dma_ops. */
  readonly dma_ops: AmdDmaOps;
  /** The amd_iommu_v2 module (loaded when an IOMMUv2 user needs it). */
  readonly v2: AmdIommuV2;
  /** get_domain()'s hook context and default, made on its first call (domain.ts). */
  getDomainCall?: GetDomainCall;

  /** The driver of kernel `k`, before any init (its state follows the command line). */
  constructor(readonly k: Kernel) {
    // Given back for the next kernel once the machine's run is over (Machine.dispose).
    machineOf(k).onDispose(() => giveBack(this.pd_alloc_bitmap));
    this.disabled = k.params.get("amd_iommu") === "off";
    this.passthrough = k.params.get("iommu") === "pt";
    this.events = new EventHandler(this);
    this.irq = new IrqRemap(this);
    this.dma_ops = new AmdDmaOps(this);
    this.v2 = new AmdIommuV2(this);
  }

  // ---- small helpers named as in the kernel ---------------------------------------------

  /** check_device(): the IOMMU handles this DeviceID. */
  check_device(devid: number): boolean {
    return this.init_state !== "IOMMU_CMDLINE_DISABLED" && devid <= this.last_bdf &&
      this.rlookup.has(devid);
  }

  /** iommu_feature_enable(): read-modify-write of the 64-bit control register. */
  iommu_feature_enable(iommu: AmdIommuDev, bit: number): void {
    this.controlRmw(iommu, bit, true);
  }

  /** iommu_feature_disable(). */
  iommu_feature_disable(iommu: AmdIommuDev, bit: number): void {
    this.controlRmw(iommu, bit, false);
  }

  /** Sets (`on`) or clears control register bit `bit`: two reads, then two writes. */
  private controlRmw(iommu: AmdIommuDev, bit: number, on: boolean): void {
    const k = this.k, at = iommu.mmio_base + MMIO.CONTROL;
    const lo = k.readl(at), hi = k.readl(at + 4);
    const w = dwordsOf([lo, hi]);
    const d = bit >>> 5, m = (1 << (bit & 31)) >>> 0;
    w[d] = on ? (w[d] | m) >>> 0 : (w[d] & ~m) >>> 0;
    k.writel(w[0], at);
    k.writel(w[1], at + 4);
  }

  /** iommu_disable(): command buffer, event log and interrupts, GA log, then the IOMMU. */
  iommu_disable(iommu: AmdIommuDev): void {
    this.iommu_feature_disable(iommu, CTRL.CmdBufEn);
    this.iommu_feature_disable(iommu, CTRL.EventIntEn);
    this.iommu_feature_disable(iommu, CTRL.EventLogEn);
    this.iommu_feature_disable(iommu, CTRL.GALogEn);
    this.iommu_feature_disable(iommu, CTRL.GAIntEn);
    this.iommu_feature_disable(iommu, CTRL.IommuEn);
  }

  /** iommu_enable(). */
  iommu_enable(iommu: AmdIommuDev): void {
    this.iommu_feature_enable(iommu, CTRL.IommuEn);
  }

  /** disable_iommus(). */
  disable_iommus(): void {
    for (const iommu of this.iommus) this.iommu_disable(iommu);
  }

  /** iommu_init_flags(): HT tunnel, PassPW, ResPassPW, Isoc off; Coherent on; 1 s timeout. */
  iommu_init_flags(iommu: AmdIommuDev): void {
    this.iommu_feature_disable(iommu, CTRL.HtTunEn);
    this.iommu_feature_disable(iommu, CTRL.PassPW);
    this.iommu_feature_disable(iommu, CTRL.ResPassPW);
    this.iommu_feature_disable(iommu, CTRL.Isoc);
    this.iommu_feature_enable(iommu, CTRL.Coherent);
    // iommu_set_inv_tlb_timeout(iommu, CTRL_INV_TO_1S): InvTimeOut = 4 (low dword only).
    const k = this.k, at = iommu.mmio_base + MMIO.CONTROL;
    const w = dwordsOf([k.readl(at), 0]);
    CONTROL.set(w, "InvTimeOut", 4);
    k.writel(w[0], at);
  }

  /** iommu_set_device_table(): base | size field, one 64-bit register write. */
  iommu_set_device_table(iommu: AmdIommuDev): void {
    const entry = this.k.__sme_set(this.dev_table) + (this.dev_table_size / 4096 - 1);
    this.k.writeq(entry, iommu.mmio_base + MMIO.DEV_TABLE);
  }

  /** amd_iommu_reset_cmd_buffer(): CmdBufEn off, head = tail = 0, CmdBufEn on. */
  amd_iommu_reset_cmd_buffer(iommu: AmdIommuDev): void {
    this.iommu_feature_disable(iommu, CTRL.CmdBufEn);
    this.k.writel(0, iommu.mmio_base + MMIO.CMD_HEAD);
    this.k.writel(0, iommu.mmio_base + MMIO.CMD_TAIL);
    this.iommu_feature_enable(iommu, CTRL.CmdBufEn);
  }

  /** iommu_enable_command_buffer() (hook point). */
  iommu_enable_command_buffer(iommu: AmdIommuDev): void {
    const k = this.k;
    k.hooks.wrap("amd_iommu.iommu_enable_command_buffer", { k, iommu }, () => {
      k.writeq(
        k.__sme_set(iommu.cmd_buf) + BUFFER.LEN_512 * 2 ** 56,
        iommu.mmio_base + MMIO.CMD_BUF,
      );
      this.amd_iommu_reset_cmd_buffer(iommu);
    });
  }

  /** iommu_enable_event_buffer() (hook point). */
  iommu_enable_event_buffer(iommu: AmdIommuDev): void {
    const k = this.k;
    k.hooks.wrap("amd_iommu.iommu_enable_event_buffer", { k, iommu }, () => {
      k.writeq(
        k.__sme_set(iommu.evt_buf) + BUFFER.LEN_512 * 2 ** 56,
        iommu.mmio_base + MMIO.EVT_BUF,
      );
      this.iommu_start_event_buffer(iommu);
    });
  }

  /** The rest of iommu_enable_event_buffer() after the base: head = tail = 0, EventLogEn on. */
  iommu_start_event_buffer(iommu: AmdIommuDev): void {
    this.k.writel(0, iommu.mmio_base + MMIO.EVT_HEAD);
    this.k.writel(0, iommu.mmio_base + MMIO.EVT_TAIL);
    this.iommu_feature_enable(iommu, CTRL.EventLogEn);
  }

  /** iommu_set_exclusion_range(): the scenarios have no exclusion ranges (IVMD). */
  iommu_set_exclusion_range(_iommu: AmdIommuDev): void {}

  /** iommu_enable_ga(): 128-bit IRTEs when the IOMMU supports guest vAPIC (legacy GA mode). */
  iommu_enable_ga(iommu: AmdIommuDev): void {
    if (this.irq_remap && iommu.features.ga) this.iommu_feature_enable(iommu, CTRL.GAEn);
  }

  // ---- flushing (amd_iommu.c) -------------------------------------------------------------

  /** Queues a command on `iommu` (sync: a completion wait will follow). */
  queue(iommu: AmdIommuDev, cmd: Uint32Array): boolean {
    return iommu_queue_command(this.k, iommu, cmd, this.cmdStats);
  }

  /** iommu_completion_wait(). */
  completion_wait(iommu: AmdIommuDev): boolean {
    return iommu_completion_wait(this.k, iommu, this.cmdStats);
  }

  /** amd_iommu_flush_all_caches(): INVALIDATE_IOMMU_ALL, or every DTE, IRT and domain. */
  iommu_flush_all_caches(iommu: AmdIommuDev): void {
    if (iommu.features.ia) {
      this.queue(iommu, build_inv_all());
      this.completion_wait(iommu);
      return;
    }
    for (let devid = 0; devid <= 0xffff; devid++) this.queue(iommu, build_inv_dte(devid));
    this.completion_wait(iommu);
    for (let devid = 0; devid <= 0xffff; devid++) this.queue(iommu, build_inv_irt(devid));
    this.completion_wait(iommu);
    for (let dom = 0; dom <= 0xffff; dom++) {
      this.queue(iommu, build_inv_iommu_pages(0, Infinity, dom, true));
    }
    this.completion_wait(iommu);
  }

  /** device_flush_dte(): INVALIDATE_DEVTAB_ENTRY + completion wait on the device's IOMMU. */
  device_flush_dte(devid: number): void {
    const iommu = this.rlookup.get(devid);
    if (!iommu) return;
    this.queue(iommu, build_inv_dte(devid));
    this.completion_wait(iommu);
  }

  /** domain_flush_tlb_pde(): INVALIDATE_IOMMU_PAGES (all, PDE) on every IOMMU, then wait. */
  domain_flush_tlb_pde(dom: ProtectionDomain): void {
    this.domain_flush_pages(dom, 0, Infinity, true);
  }

  /** __domain_flush_pages + domain_flush_complete. */
  domain_flush_pages(dom: ProtectionDomain, address: number, size: number, pde: boolean): void {
    for (const iommu of this.iommus) {
      this.queue(iommu, build_inv_iommu_pages(address, size, dom.id, pde));
    }
    for (const iommu of this.iommus) this.completion_wait(iommu);
  }

  // ---- init (amd_iommu_init.c) ----------------------------------------------------------------

  /** find_last_devid_from_ivhd() over every IVHD. */
  private lastBdf(): number {
    let last = 0;
    for (const h of this.k.ivrs.ivhds) {
      if (h.devices === "all") return 0xffff;
      for (const r of h.devices) last = Math.max(last, r.last);
    }
    return last;
  }

  /**
   * init_iommu_one(): struct amd_iommu, MMIO, command and event buffers; then the hook
   * point; then the IVHD entries (DeviceIDs → this IOMMU).
   */
  private init_iommu_one(index: number): AmdIommuDev | undefined {
    const k = this.k, h = k.ivrs.ivhds[index];
    const struct = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "struct amd_iommu");
    const cmd = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, getOrder(BUFFER.CMD), "iommu-cmd-buf");
    const evt = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, getOrder(BUFFER.EVT), "iommu-evt-log");
    if (struct === undefined || cmd === undefined || evt === undefined) return undefined;
    const iommu: AmdIommuDev = {
      index,
      devid: h.devid,
      mmio_base: h.mmioBase,
      cmd_buf: cmd,
      evt_buf: evt,
      cmd_sem: struct + 0x100,
      need_sync: false,
      int_enabled: false,
      features: { ia: false, ppr: false, gt: false, ga: false },
    };
    this.iommus.push(iommu);
    k.hooks.runAll("amd_iommu.init_iommu_one", { k, iommu });
    // init_iommu_from_acpi(): DeviceIDs behind this IOMMU (IVHD flags are 0 in our IVRS, so
    // no DTE bits are set from ACPI here).
    const ranges = h.devices === "all" ? [{ first: 0, last: 0xffff }] : h.devices;
    const first = Math.min(...ranges.map((r) => r.first));
    const last = Math.max(...ranges.map((r) => r.last));
    for (const r of ranges) this.rlookup.add(r.first, r.last, iommu);
    k.spend(COST.devidLoop * (last - first + 1));
    // Features from the EFR (its low dword).
    const efr = dwordsOf([k.readl(iommu.mmio_base + MMIO.EXT_FEATURES), 0]);
    iommu.features = {
      ia: EFR.get(efr, "IASup") === 1,
      ppr: EFR.get(efr, "PPRSup") === 1,
      gt: EFR.get(efr, "GTSup") === 1,
      ga: EFR.get(efr, "GASup") === 1,
    };
    return iommu;
  }

  /** early_amd_iommu_init(). */
  private early_amd_iommu_init(): boolean {
    const k = this.k;
    this.last_bdf = this.lastBdf();
    this.dev_table_size = 4096 * 2 ** getOrder((this.last_bdf + 1) * DTE_BYTES);
    const gfp = k.hooks.waterfall(
      "amd_iommu.early_amd_iommu_init.dev_table_gfp",
      GFP.KERNEL | GFP.ZERO,
      { k },
    );
    const table = k.alloc.allocPages(gfp, getOrder(this.dev_table_size), "amd_iommu_dev_table");
    if (table === undefined) {
      k.pr_err(`AMD-Vi: Failed to allocate the device table (${gfpText(gfp)})`);
      return false;
    }
    this.dev_table = table;
    k.spend(COST.pageCopy * (this.dev_table_size / 4096));
    // Alias and rlookup tables: allocated (owner tags), contents not modelled.
    k.alloc.allocPages(
      GFP.KERNEL | GFP.ZERO,
      getOrder((this.last_bdf + 1) * 2),
      "amd_iommu_alias_table",
    );
    k.alloc.allocPages(
      GFP.KERNEL | GFP.ZERO,
      getOrder((this.last_bdf + 1) * 8),
      "amd_iommu_rlookup_table",
    );
    this.pd_alloc_bitmap[0] = 1; // domain ID 0 is reserved
    for (let i = 0; i < k.ivrs.ivhds.length; i++) {
      if (!this.init_iommu_one(i)) return false;
    }
    // "Disable any previously enabled IOMMUs".
    if (k.hooks.waterfall("amd_iommu.early_amd_iommu_init.disable_iommus", true, { k })) {
      this.disable_iommus();
    }
    this.irq_remap = k.params.get("intremap") !== "off" && this.check_ioapic_information();
    if (this.irq_remap) this.init_device_table();
    this.reserved_iova_ranges = this.init_reserved_iova_ranges();
    return true;
  }

  /**
   * check_ioapic_information(): interrupt remapping needs every I/O APIC of the MADT in the
   * IVRS, the southbridge's (DeviceID 00:14.0, which the system timer is wired to) among them.
   */
  private check_ioapic_information(): boolean {
    const k = this.k;
    let ret = false, hasSb = false;
    for (const io of k.cfg.madt?.ioapics ?? []) {
      const devid = k.ivrs.ioapics?.find((x) => x.apicId === io.apicId)?.devid;
      if (devid === undefined) {
        k.pr_err(`[Firmware Bug]: AMD-Vi: IOAPIC[${io.apicId}] not in IVRS table`);
        ret = false;
      } else if (devid === IOAPIC_SB_DEVID) {
        hasSb = true;
        ret = true;
      }
    }
    if (!hasSb) k.pr_err("[Firmware Bug]: AMD-Vi: No southbridge IOAPIC found");
    if (!ret) k.pr_err("AMD-Vi: Disabling interrupt remapping");
    return ret;
  }

  /** init_device_table(): IV for every DeviceID (interrupts blocked until a table is set). */
  private init_device_table(): void {
    set_dev_entry_bits(this, [DTE.field("IV").bit]);
  }

  /** init_reserved_iova_ranges(): MSI window, HyperTransport range, PCI windows (as pfns). */
  private init_reserved_iova_ranges(): [number, number][] {
    const r: [number, number][] = [
      [0xfee00, 0xfeeff], // MSI_RANGE_START..END
      [0xfd_0000_0, 0xff_ffff_f], // HT_RANGE_START..END
    ];
    for (const w of this.k.ivrs.pciWindows) {
      r.push([Math.floor(w.base / 4096), Math.floor((w.base + w.size - 1) / 4096)]);
    }
    return r;
  }

  /**
   * The body of 4.13's early_enable_iommus() loop for one IOMMU (the helper-functions patch
   * makes it the function early_enable_iommu()).
   */
  early_enable_iommu(iommu: AmdIommuDev): void {
    this.iommu_disable(iommu);
    this.iommu_init_flags(iommu);
    this.iommu_set_device_table(iommu);
    this.iommu_enable_command_buffer(iommu);
    this.iommu_enable_event_buffer(iommu);
    this.iommu_set_exclusion_range(iommu);
    this.iommu_enable_ga(iommu);
    this.iommu_enable(iommu);
    this.iommu_flush_all_caches(iommu);
  }

  /** The default (4.13) body of early_enable_iommus(). */
  early_enable_iommus_413(): void {
    for (const iommu of this.iommus) this.early_enable_iommu(iommu);
  }

  /** early_enable_iommus() (hook point). */
  early_enable_iommus(): void {
    const k = this.k;
    k.hooks.wrap("amd_iommu.early_enable_iommus", { k }, () => this.early_enable_iommus_413());
  }

  /** init_device_table_dma(): the hook's DTE bits on every DeviceID 0..last_bdf. */
  private init_device_table_dma(): void {
    const k = this.k;
    const defaults = k.is_kdump_kernel() ? ["V", "TV", "SA"] : ["V", "TV"];
    const bits = k.hooks.waterfall("amd_iommu.init_device_table_dma.bits", defaults, { k });
    set_dev_entry_bits(this, bits.map((b) => DTE.field(b as "V").bit));
  }

  /**
   * Guest vAPIC interrupt mode (AMD_IOMMU_GUEST_IR_VAPIC): interrupt remapping with GA
   * support and the vAPIC mode in the EFR (GASup, GAMSup bit 0).
   */
  guest_ir_vapic(iommu: AmdIommuDev): boolean {
    if (!this.irq_remap || !iommu.features.ga) return false;
    return (this.check_feature(iommu, "GAMSup") & 1) === 1;
  }

  /** check_feature(): an EFR field, read from the register (both halves, low first). */
  check_feature(iommu: AmdIommuDev, name: Parameters<typeof EFR.get>[1]): number {
    const k = this.k, at = iommu.mmio_base + MMIO.EXT_FEATURES;
    return EFR.get(dwordsOf([k.readl(at), k.readl(at + 4)]), name);
  }

  /**
   * iommu_init_ga_log() (4.x): in vAPIC mode, allocate the GA log and its tail pointer and
   * write both addresses into the IOMMU (the log starts later, in iommu_ga_log_enable()).
   */
  private iommu_init_ga_log(iommu: AmdIommuDev): void {
    if (!this.guest_ir_vapic(iommu)) return;
    const k = this.k;
    iommu.ga_log = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "iommu-ga-log");
    iommu.ga_log_tail = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "iommu-ga-log-tail");
    if (iommu.ga_log === undefined || iommu.ga_log_tail === undefined) return;
    k.writeq(k.__sme_set(iommu.ga_log) + GA_LOG_SIZE_512, iommu.mmio_base + MMIO.GA_LOG_BASE);
    k.writeq(k.__sme_set(iommu.ga_log_tail), iommu.mmio_base + MMIO.GA_LOG_TAIL);
  }

  /** iommu_ga_log_enable() (hook point; 4.x: silently leaves a running log as it is). */
  iommu_ga_log_enable(iommu: AmdIommuDev): void {
    const k = this.k;
    k.hooks.wrap("amd_iommu.iommu_ga_log_enable", { k, iommu }, () => {
      if (iommu.ga_log === undefined) return;
      if (this.ga_log_running(iommu)) return; // "Check if already running"
      this.iommu_feature_enable(iommu, CTRL.GAIntEn);
      this.iommu_feature_enable(iommu, CTRL.GALogEn);
      k.pollWait(() => this.ga_log_running(iommu), 1000, LOOP_TIMEOUT);
    });
  }

  /** Status.GALogRun. */
  ga_log_running(iommu: AmdIommuDev): boolean {
    const status = this.k.readl(iommu.mmio_base + MMIO.STATUS);
    return STATUS.get(dwordsOf([status, 0]), "GALogRun") === 1;
  }

  /** iommu_init_pci(): the PPR log for IOMMUs with PPR support. */
  private iommu_init_pci(iommu: AmdIommuDev): void {
    this.iommu_init_ga_log(iommu);
    if (iommu.features.ppr) {
      iommu.ppr_log = this.k.alloc.allocPages(
        GFP.KERNEL | GFP.ZERO,
        getOrder(BUFFER.PPR),
        "iommu-ppr-log",
      );
    }
  }

  /** iommu_enable_ppr_log() (from enable_iommus_v2). */
  private iommu_enable_ppr_log(iommu: AmdIommuDev): void {
    if (iommu.ppr_log === undefined) return;
    this.k.writeq(
      this.k.__sme_set(iommu.ppr_log) + BUFFER.LEN_512 * 2 ** 56,
      iommu.mmio_base + MMIO.PPR_LOG,
    );
    this.k.writel(0, iommu.mmio_base + MMIO.PPR_HEAD);
    this.k.writel(0, iommu.mmio_base + MMIO.PPR_TAIL);
    this.iommu_feature_enable(iommu, CTRL.PPRLogEn);
    this.iommu_feature_enable(iommu, CTRL.PPREn);
  }

  /** amd_iommu_init_pci(): add devices (attach), init_device_table_dma, flush, info. */
  private amd_iommu_init_pci(): void {
    for (const iommu of this.iommus) this.iommu_init_pci(iommu);
    this.k.core.amd_iommu_init_api();
    this.init_device_table_dma();
    for (const iommu of this.iommus) this.iommu_flush_all_caches(iommu);
    this.print_iommu_info();
  }

  /**
   * print_iommu_info(): per IOMMU, where it was found, then "Extended features (%#llx):" with
   * the whole 64-bit EFR and the names of the low ten feature bits (and GA_vAPIC) as pr_cont
   * text — which, after a record that ended in a newline, becomes a record of its own at the
   * default level.
   */
  private print_iommu_info(): void {
    const names = ["PreF", "PPR", "X2APIC", "NX", "GT", "[5]", "IA", "GA", "HE", "PC"];
    for (const iommu of this.iommus) {
      this.k.pr_info(`AMD-Vi: Found IOMMU at ${pciName(iommu.devid)} cap 0x40`);
      const at = iommu.mmio_base + MMIO.EXT_FEATURES;
      const lo = this.k.mem.read32(at), hi = this.k.mem.read32(at + 4);
      const efr = (BigInt(hi) << 32n) | BigInt(lo);
      this.k.pr_info(`AMD-Vi: Extended features (${efr ? `0x${efr.toString(16)}` : "0"}):`);
      const feats = names.filter((_, i) => (lo >>> i) & 1).map((n) => ` ${n}`);
      if (EFR.get(dwordsOf([lo, hi]), "GAMSup") & 1) feats.push(" GA_vAPIC");
      this.k.printk("warn", feats.join(""));
    }
    if (this.irq_remap) this.k.pr_info("AMD-Vi: Interrupt remapping enabled");
  }

  /** amd_iommu_enable_interrupts(): the IOMMU's MSI, EventIntEn (and PPRIntEn). */
  private amd_iommu_enable_interrupts(): void {
    for (const iommu of this.iommus) {
      iommu.int_enabled = true;
      this.iommu_feature_enable(iommu, CTRL.EventIntEn);
      if (iommu.ppr_log !== undefined) this.iommu_feature_enable(iommu, CTRL.PPRIntEn);
      this.iommu_ga_log_enable(iommu);
    }
  }

  // ---- the state machine --------------------------------------------------------------------

  /** iommu_go_to_state() up to (and including) `target`. */
  go_to_state(target: InitState): void {
    const order: InitState[] = [
      "IOMMU_START_STATE",
      "IOMMU_IVRS_DETECTED",
      "IOMMU_ACPI_FINISHED",
      "IOMMU_ENABLED",
      "IOMMU_PCI_INIT",
      "IOMMU_INTERRUPTS_EN",
      "IOMMU_DMA_OPS",
      "IOMMU_INITIALIZED",
    ];
    const k = this.k;
    while (
      order.indexOf(this.init_state) >= 0 && order.indexOf(this.init_state) < order.indexOf(target)
    ) {
      switch (this.init_state) {
        case "IOMMU_START_STATE":
          this.init_state = k.ivrs.ivhds.length ? "IOMMU_IVRS_DETECTED" : "IOMMU_NOT_FOUND";
          break;
        case "IOMMU_IVRS_DETECTED":
          if (!this.early_amd_iommu_init()) {
            this.init_state = "IOMMU_INIT_ERROR";
            break;
          }
          this.init_state = "IOMMU_ACPI_FINISHED";
          if (this.disabled) {
            k.pr_info("AMD-Vi: AMD IOMMU disabled on kernel command-line");
            this.irq_remap = false;
            this.init_state = "IOMMU_CMDLINE_DISABLED";
          }
          break;
        case "IOMMU_ACPI_FINISHED":
          this.early_enable_iommus();
          k.x86_platform.iommu_shutdown = () => this.disable_iommus();
          this.init_state = "IOMMU_ENABLED";
          break;
        case "IOMMU_ENABLED":
          this.amd_iommu_init_pci();
          for (const iommu of this.iommus) this.iommu_enable_ppr_log(iommu);
          this.init_state = "IOMMU_PCI_INIT";
          break;
        case "IOMMU_PCI_INIT":
          this.amd_iommu_enable_interrupts();
          this.init_state = "IOMMU_INTERRUPTS_EN";
          break;
        case "IOMMU_INTERRUPTS_EN":
          k.pr_info("AMD-Vi: Lazy IO/TLB flushing enabled");
          this.init_state = "IOMMU_DMA_OPS";
          break;
        case "IOMMU_DMA_OPS":
          this.init_state = "IOMMU_INITIALIZED";
          if (k.cfg.snpHost) this.amd_iommu_snp_enable();
          break;
      }
    }
  }

  /**
   * amd_iommu_snp_enable() with what an SEV-SNP host kernel (Linux 6.x) does around it: each
   * IOMMU's completion store range is set to its completion-wait semaphore's page
   * (iommu_set_cwwb_range(): the exclusion base and limit registers, re-purposed), then the
   * firmware's SNP_INIT turns SNP enforcement on (see {@link Kernel.sev_snp_init}). Needs
   * every IOMMU to report SNPSup; otherwise nothing changes.
   */
  amd_iommu_snp_enable(): void {
    const k = this.k;
    for (const iommu of this.iommus) if (this.check_feature(iommu, "SNPSup") !== 1) return;
    for (const iommu of this.iommus) {
      const page = iommu.cmd_sem - (iommu.cmd_sem % 4096);
      k.writeq(page + 1, iommu.mmio_base + MMIO.EXCL_BASE); // | ExEn
      k.writeq(page, iommu.mmio_base + MMIO.EXCL_LIMIT);
    }
    if (k.sev_snp_init()) k.pr_info("AMD-Vi: IOMMU SNP support enabled.");
  }

  /** The IOMMU's MSI arrived (the machine routes it here). */
  iommuInterrupt(index: number): void {
    const iommu = this.iommus[index];
    if (!iommu?.int_enabled) return;
    this.events.interrupt(iommu);
  }
}
