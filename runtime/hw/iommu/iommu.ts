/**
 * The AMD IOMMU unit.
 *
 * It knows nothing of Linux. Software talks to it through its MMIO registers (each 32-bit
 * write takes effect as it lands, so a 64-bit register is observable half-written); it
 * reads the device table, page tables, interrupt remapping tables and commands out of
 * physical memory, writes event-log and PPR-log entries and COMPLETION_WAIT stores into
 * memory, and caches DTEs and translations until commands invalidate them.
 *
 * DMA requests are decided by the table of reference §4, interrupts by §5.
 *
 * @module
 */
import type { EventClock } from "../clock.ts";
import type { CommandName } from "../layouts/command.ts";
import { DTE, DTE_BYTES } from "../layouts/dte.ts";
import {
  EVENT_CODES,
  EVENT_LAYOUTS,
  type EventName,
  PPR_ENTRY,
  PPR_FLAGS,
} from "../layouts/event.ts";
import { CONTROL, DEV_TAB_BASE, EFR, MMIO, MMIO_WINDOW } from "../layouts/mmio.ts";
import type { MmioHandler, PhysMem } from "../memory.ts";
import { DTE_BEYOND_TABLE, DTE_READ_FAILED, DteCache, Iotlb } from "./caches.ts";
import { DmaAnswer } from "./answer.ts";
import { CommandProcessor } from "./commands.ts";
import { appendToRing, type RingRegs } from "./eventlog.ts";
import { remapInterrupt } from "./intremap.ts";
import { RegisterFile } from "./regs.ts";
import { DmaTranslator } from "./translate.ts";
import { dwords } from "../dwords.ts";

const DEV_TAB_ADDR = DEV_TAB_BASE.field("DevTabBase");
const DEV_TAB_SIZE = DEV_TAB_BASE.field("Size");
const IOMMU_EN = CONTROL.field("IommuEn");
const DTE_PPR = DTE.field("PPR");

/** Static configuration of one IOMMU. */
export interface IommuConfig {
  /** Index as the kernel numbers IOMMUs (`IOMMU:%d`). */
  index: number;
  /** The IOMMU's own PCI DeviceID (e.g. 00:00.2 = 0x0002). */
  devid: number;
  /** Physical base of its 16 KiB MMIO window. */
  mmioBase: number;
  /** Extended Feature Register fields (by EFR field name). */
  efr: Partial<Record<string, number>>;
  /** DTE cache entries (default 64). */
  dteCacheEntries?: number;
  /** IOTLB entries (default 512). */
  iotlbEntries?: number;
  /** Time the command processor spends per command, ns (default 200). */
  commandNs?: number;
}

/** A DMA access as a device issues it (within one 4 KiB page). */
export interface DmaRequest {
  devid: number;
  /** IOVA (or GVA when `pasid` is set). */
  addr: number;
  len: number;
  write: boolean;
  /** PASID-tagged request (guest translation). */
  pasid?: number;
  /** ATS translation request: failures are returned, never logged (spec 2.1.3.2). */
  ats?: boolean;
}

/** What the IOMMU did with a DMA access. */
export type DmaOutcome =
  | { kind: "translated"; spa: number; domid: number; via: "iotlb" | "walk" }
  | { kind: "untranslated"; spa: number; why: "iommu-off" | "dte-invalid" | "mode-0" | "exclusion" }
  | {
    kind: "abort";
    why: string;
    event?: EventName;
    logged: boolean;
    guestFault?: boolean;
    /** Set when the event was not logged because of DTE.SA/SE, DTE.IG or IRTE.SupIOPF. */
    suppressedBy?: "SA" | "SE" | "IG" | "SupIOPF";
  };

/** An MSI as a device sends it. */
export interface MsiRequest {
  devid: number;
  /** Address in the 0xFEExxxxx window. */
  address: number;
  data: number;
}

/** What the IOMMU did with an interrupt. */
export type MsiOutcome =
  | { kind: "remapped" | "forwarded"; vector: number; dest: number }
  | { kind: "blocked"; why: string; event?: EventName; logged: boolean };

/** Observers of one IOMMU (the lab's trace subscribes here). */
export interface IommuObserver {
  /** An entry was written to the event log (or dropped on a full/disabled log). */
  event?(name: EventName, words: Uint32Array, result: string): void;
  /** An IO_PAGE_FAULT that SA/SE/SupIOPF suppressed: the access aborted, nothing logged. */
  suppressed?(name: EventName, devid: number, addr: number, why: string): void;
  /** A command executed (or rejected). */
  command?(name: CommandName | "UNKNOWN", words: Uint32Array, addr: number, result: string): void;
  /** A 32-bit MMIO write landed. */
  mmioWrite?(offset: number, value: number): void;
}

/**
 * Registers whose writes the IOMMU ignores while SEV-SNP is enforced. Facts: the spec locks
 * the Device Table Base (§2.12.2.1, quoted in the 2025 SNP kdump series), and the completion
 * store range — the exclusion base and limit registers, re-purposed (§2.12.2.2/3, quoted in the
 * 2024 report: "IOMMU completion wait buffers (cwb) still locked"). That the command buffer and
 * event log bases are locked too is our reading (unsure) of the 2025 series, which has the
 * kdump kernel remap the old buffers instead of programming new ones. Easy to change here.
 */
export const SNP_LOCKED: ReadonlySet<number> = new Set([
  MMIO.DEV_TABLE,
  MMIO.CMD_BUF,
  MMIO.EVT_BUF,
  MMIO.EXCL_BASE,
  MMIO.EXCL_LIMIT,
]);

/** Interrupt lines of the IOMMU itself (its MSI, delivered to the CPU by the machine). */
export type IommuIrq = "event" | "ppr" | "comwait";

/**
 * One AMD IOMMU: its registers and how it reacts to each 32-bit MMIO write, its caches, and
 * its event and PPR logs. The DMA path (`translate.ts`), interrupt remapping (`intremap.ts`)
 * and the command processor (`commands.ts`) are modules of their own working on this unit.
 */
export class AmdIommu implements MmioHandler {
  readonly regs: RegisterFile = new RegisterFile();
  readonly dteCache: DteCache;
  readonly iotlb: Iotlb;
  readonly observers: IommuObserver[] = [];
  /** Raised when the IOMMU signals its own MSI (set by the machine). */
  irq: (line: IommuIrq) => void = () => {};
  /** Delivers a COMPLETE_PPR_REQUEST answer to the device (set by the machine). */
  pprResponse: (devid: number, pasid: number, tag: number, status: number) => void = () => {};
  /** Where the DTE fetch that failed last looked (see {@link fetchDte}). */
  dteFaultAddr = 0;
  /** SEV-SNP enforcement is on (see {@link enforceSnp}); only a cold reset turns it off. */
  snpEnforced = false;
  private readonly dteBuf = new Uint32Array(8);
  /** The answer {@link access} fills in (see DmaAnswer). */
  private readonly answer = new DmaAnswer();
  private readonly ctl = this.regs.dwordOffset(MMIO.CONTROL);
  private readonly devTab = this.regs.dwordOffset(MMIO.DEV_TABLE);
  private readonly dma: DmaTranslator;
  private readonly commands: CommandProcessor;
  /** Counters by outcome, for statistics. */
  readonly counters = { dma: 0, translated: 0, untranslated: 0, aborted: 0, commands: 0, walks: 0 };

  constructor(readonly cfg: IommuConfig, readonly mem: PhysMem, readonly clock: EventClock) {
    this.dteCache = new DteCache(cfg.dteCacheEntries ?? 64);
    this.iotlb = new Iotlb(cfg.iotlbEntries ?? 512);
    this.dma = new DmaTranslator(this);
    this.commands = new CommandProcessor(this);
    this.powerOn();
  }

  /** Power-on state: registers zero, EFR from the configuration, caches empty. */
  powerOn(): void {
    this.regs.words.fill(0);
    const efr = EFR.encode(this.cfg.efr);
    this.regs.put32(MMIO.EXT_FEATURES, efr[0]);
    this.regs.put32(MMIO.EXT_FEATURES + 4, efr[1]);
    this.dteCache.clear();
    this.iotlb.clear();
    this.commands.stopped = false;
    this.snpEnforced = false;
  }

  /**
   * Turns SEV-SNP enforcement on, as the platform does at the firmware's SNP_INIT (how the
   * firmware reaches the IOMMU is not in our sources; the machine calls this). Needs
   * EFR.SNPSup. From then on, until a cold reset, the IOMMU ignores writes to the registers in
   * {@link SNP_LOCKED}, and a COMPLETION_WAIT stores only inside the completion store range
   * (the exclusion base/limit registers, re-purposed; see commands.ts).
   *
   * @returns whether enforcement is on
   */
  enforceSnp(): boolean {
    if (this.feature("SNPSup") !== 1) return false;
    this.snpEnforced = true;
    return true;
  }

  /** Reads a Control bit by name. */
  control(name: string): number {
    return this.regs.field(MMIO.CONTROL, name);
  }

  /** Reads an EFR field by name. */
  feature(name: string): number {
    return this.regs.field(MMIO.EXT_FEATURES, name);
  }

  /** Whether `addr` is inside the completion store range (exclusion base..limit, SNP). */
  inCompletionStoreRange(addr: number): boolean {
    const base = this.regs.get64(MMIO.EXCL_BASE) - (this.regs.get64(MMIO.EXCL_BASE) % 4096);
    const limit = this.regs.get64(MMIO.EXCL_LIMIT) - (this.regs.get64(MMIO.EXCL_LIMIT) % 4096) +
      0xfff;
    return base !== 0 && addr >= base && addr + 8 - 1 <= limit;
  }

  /** The device table as the hardware sees it right now: [base, size in bytes]. */
  deviceTable(): [number, number] {
    return [this.devTableBase(), this.devTableBytes()];
  }

  private devTableBase(): number {
    return DEV_TAB_ADDR.get(this.regs.words, this.devTab) * 4096;
  }

  private devTableBytes(): number {
    return (DEV_TAB_SIZE.get(this.regs.words, this.devTab) + 1) * 4096;
  }

  // ---- MMIO -----------------------------------------------------------------------------

  /** MMIO read of the dword at `offset`. */
  read32(offset: number): number {
    if (offset >= MMIO_WINDOW) return 0xffff_ffff;
    if (offset === MMIO.EXCL_LIMIT) return this.regs.get32(offset) | 0xfff;
    if (offset === MMIO.STATUS) this.refreshRunBits();
    return this.regs.get32(offset);
  }

  /** MMIO write of the dword at `offset`: the unit reacts as each half lands. */
  write32(offset: number, value: number): void {
    if (offset >= MMIO_WINDOW || !this.regs.implements(offset)) return;
    for (const o of this.observers) o.mmioWrite?.(offset, value);
    if (this.snpEnforced && SNP_LOCKED.has(offset & ~7)) return; // ignored: locked by SNP
    // The GA log's base takes effect when the log starts: while it runs (GALogEn && IommuEn)
    // a write to it is ignored — our reading (unsure): software is to stop a log before it
    // moves it, and upstream's kdump fix stops the running GA log first for that reason.
    if ((offset & ~7) === MMIO.GA_LOG_BASE && this.gaLogRunning) return;
    if (offset === MMIO.CMD_HEAD || offset === MMIO.EVT_TAIL || offset === MMIO.PPR_TAIL) {
      // Written by hardware only while the ring runs; software may reset it while stopped.
      const running = offset === MMIO.CMD_HEAD
        ? this.commandsRunning
        : offset === MMIO.EVT_TAIL
        ? this.eventLogRunning
        : this.pprLogRunning;
      if (running) return;
    }
    const old = this.regs.write32(offset, value);
    if (offset === MMIO.CONTROL) this.controlChanged(old, value >>> 0);
    if (offset === MMIO.CMD_TAIL) this.commands.kick();
    // A new Device Table Base makes every cached DTE an entry of another table. Whether the
    // hardware drops them on the write is not in our sources (the spec leaves invalidation to
    // software, and Linux flushes all caches right after). The model drops them as each half
    // lands, so a DMA between the two halves fetches its DTE from the half-written address.
    if (offset === MMIO.DEV_TABLE || offset === MMIO.DEV_TABLE + 4) this.dteCache.clear();
  }

  private controlChanged(old: number, now: number): void {
    const was = (bit: number) => (old >>> bit) & 1;
    const is = (bit: number) => (now >>> bit) & 1;
    const cmdBufEn = CONTROL.field("CmdBufEn").bit, iommuEn = IOMMU_EN.bit;
    if (!was(cmdBufEn) && is(cmdBufEn)) {
      this.commands.stopped = false; // re-enabling restarts a stopped command processor
      this.commands.kick();
    }
    // Commands queued while IommuEn was 0 wait in the buffer; they run once it is set.
    if (!was(iommuEn) && is(iommuEn)) this.commands.kick();
  }

  /**
   * The rings run only while the IOMMU is enabled: VirtualBox sets Status.CmdBufRun from
   * CmdBufEn && IommuEn and Status.EventLogRun from EventLogEn && IommuEn, and QEMU gates both
   * the same way (reference: corrections §1). For the PPR log neither source says it in so many
   * words; the model gates it alike (PPRLogEn && IommuEn), the most plausible reading.
   */
  private get eventLogRunning(): boolean {
    return this.control("EventLogEn") === 1 && IOMMU_EN.get(this.regs.words, this.ctl) === 1;
  }

  private get gaLogRunning(): boolean {
    return this.control("GALogEn") === 1 && IOMMU_EN.get(this.regs.words, this.ctl) === 1;
  }

  private get pprLogRunning(): boolean {
    return this.control("PPRLogEn") === 1 && IOMMU_EN.get(this.regs.words, this.ctl) === 1;
  }

  private refreshRunBits(): void {
    this.regs.setField(MMIO.STATUS, "EventLogRun", this.eventLogRunning ? 1 : 0);
    this.regs.setField(MMIO.STATUS, "CmdBufRun", this.commandsRunning ? 1 : 0);
    this.regs.setField(MMIO.STATUS, "PprLogRun", this.pprLogRunning ? 1 : 0);
    // The GA log runs like the other logs: GALogEn && IommuEn (the same reading as the PPR log's).
    this.regs.setField(MMIO.STATUS, "GALogRun", this.gaLogRunning ? 1 : 0);
  }

  // ---- event log ------------------------------------------------------------------------

  private static readonly EVT_RING: RingRegs = {
    base: MMIO.EVT_BUF,
    head: MMIO.EVT_HEAD,
    tail: MMIO.EVT_TAIL,
    lenField: "EventLen",
    enableBit: "EventLogEn",
    overflowBit: "EventOverflow",
    intBit: "EventLogInt",
  };

  private static readonly PPR_RING: RingRegs = {
    base: MMIO.PPR_LOG,
    head: MMIO.PPR_HEAD,
    tail: MMIO.PPR_TAIL,
    lenField: "PPRLogLen",
    enableBit: "PPRLogEn",
    overflowBit: "PprOverflow",
    intBit: "PprInt",
  };

  /** Writes an event into the event log (if enabled and not overflowed). */
  logEvent(name: EventName, fields: Record<string, number>): boolean {
    const layout = EVENT_LAYOUTS[name];
    const words = layout.encode({ ...fields, EventCode: EVENT_CODES[name] });
    const result = !this.eventLogRunning ? "disabled" : appendToRing(
      this.mem,
      this.regs,
      AmdIommu.EVT_RING,
      words,
      MMIO.CONTROL,
      MMIO.STATUS,
    );
    for (const o of this.observers) o.event?.(name, words, result);
    if ((result === "written" || result === "overflow") && this.control("EventIntEn")) {
      this.irq("event");
    }
    return result === "written";
  }

  // ---- DTEs -----------------------------------------------------------------------------

  /**
   * The DTE cache slot holding `devid`'s DTE, fetched from the device table in memory on a
   * miss; or {@link DTE_BEYOND_TABLE} / {@link DTE_READ_FAILED}, with the address tried in
   * {@link dteFaultAddr}. (Used by the DMA path, interrupt remapping and page requests.)
   */
  fetchDte(devid: number): number {
    const c = this.dteCache.find(devid);
    if (c >= 0) return c;
    const addr = this.devTableBase() + devid * DTE_BYTES;
    if (devid * DTE_BYTES + DTE_BYTES > this.devTableBytes()) {
      this.dteFaultAddr = addr;
      return DTE_BEYOND_TABLE;
    }
    if (!this.mem.isRam(addr, DTE_BYTES)) {
      this.dteFaultAddr = addr;
      return DTE_READ_FAILED;
    }
    this.mem.readDwords(addr, 8, this.dteBuf);
    return this.dteCache.store(devid, this.dteBuf);
  }

  /** Reads the DTE the hardware would use for `devid` right now, without caching it. */
  peekDte(devid: number): Uint32Array {
    const [base] = this.deviceTable();
    const w = dwords(8);
    this.mem.readDwords(base + devid * DTE_BYTES, 8, w);
    return w;
  }

  // ---- DMA and interrupts -----------------------------------------------------------------

  /** Decides a DMA access (reference §4). */
  translate(req: DmaRequest): DmaOutcome {
    return this.access(req.devid, req.addr, req.write, req.pasid, req.ats === true).outcome();
  }

  /**
   * {@link translate} with the request's fields as arguments and its answer in this IOMMU's
   * reused {@link DmaAnswer} (the bus's path: no request object, and no outcome object unless
   * the access aborts). The answer is valid until the next access through this IOMMU.
   */
  access(
    devid: number,
    addr: number,
    write: boolean,
    pasid: number | undefined,
    ats: boolean,
  ): DmaAnswer {
    this.counters.dma++;
    const out = this.dma.decide(devid, addr, write, pasid, ats, this.answer);
    if (out.kind === "translated") this.counters.translated++;
    else if (out.kind === "untranslated") this.counters.untranslated++;
    else this.counters.aborted++;
    return out;
  }

  /** Decides an MSI from a device (reference §5). */
  remapInterrupt(req: MsiRequest): MsiOutcome {
    return remapInterrupt(this, req);
  }

  // ---- peripheral page requests -----------------------------------------------------------

  /**
   * A device's page request (PCIe PRI) for a faulting guest address. Logged in the PPR log
   * when PPRLogEn and PPREn are set and the device's DTE has PPR=1; otherwise the request is
   * refused with an INVALID_PPR_REQUEST event and the device gets no answer.
   */
  pageRequest(devid: number, pasid: number, addr: number, write: boolean, tag: number): boolean {
    const slot = this.fetchDte(devid);
    const pprOk = slot >= 0 && DTE_PPR.get(this.dteCache.view(slot)) === 1 &&
      this.control("PPREn") === 1;
    if (!pprOk) {
      this.logEvent("INVALID_PPR_REQUEST", {
        DeviceID: devid,
        PASID: pasid & 0xffff,
        PASIDHi: pasid >>> 16,
        Tag: tag,
        Address: addr,
      });
      return false;
    }
    const e = PPR_ENTRY.encode({
      DeviceID: devid,
      PASID: pasid & 0xffff,
      PASIDHi: pasid >>> 16,
      Tag: tag,
      Flags: (write ? PPR_FLAGS.WRITE : PPR_FLAGS.READ) | PPR_FLAGS.GN,
      Type: 1,
      Address: addr,
    });
    const r = !this.pprLogRunning
      ? "disabled"
      : appendToRing(this.mem, this.regs, AmdIommu.PPR_RING, e, MMIO.CONTROL, MMIO.STATUS);
    if ((r === "written" || r === "overflow") && this.control("PPRIntEn")) this.irq("ppr");
    return r === "written";
  }

  // ---- command processor ----------------------------------------------------------------

  /**
   * True while the command processor runs (Status.CmdBufRun): CmdBufEn && IommuEn (see
   * {@link eventLogRunning}) and not stopped by an illegal command or an unreadable buffer.
   */
  get commandsRunning(): boolean {
    return this.commands.running;
  }
}
