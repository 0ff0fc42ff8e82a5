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
import type { Dwords } from "../bits.ts";
import { type EventClock, PRIO } from "../clock.ts";
import {
  COMMAND_BYTES,
  COMMAND_LAYOUTS,
  type CommandName,
  commandName,
  commandOpcode,
  decodeRange,
} from "../layouts/command.ts";
import { DTE, DTE_BYTES, INTCTL } from "../layouts/dte.ts";
import {
  EVENT_CODES,
  EVENT_LAYOUTS,
  type EventName,
  PPR_ENTRY,
  PPR_FLAGS,
} from "../layouts/event.ts";
import { IRTE, IRTE_GA } from "../layouts/irte.ts";
import { CONTROL, DEV_TAB_BASE, EFR, EXCL_BASE, MMIO, MMIO_WINDOW } from "../layouts/mmio.ts";
import type { MmioHandler, PhysMem } from "../memory.ts";
import { type CachedDte, DteCache, Iotlb } from "./caches.ts";
import { appendToRing, type RingPointers, type RingRegs, ringState } from "./eventlog.ts";
import { RegisterFile } from "./regs.ts";
import { type WalkFault, walkGuest, walkHost } from "./walk.ts";
import { dwords, dwordsOf } from "../dwords.ts";

/** Fields the DMA path reads on every request, compiled once from their layouts. */
const EFR_HATS = EFR.field("HATS");
const DEV_TAB_ADDR = DEV_TAB_BASE.field("DevTabBase");
const DEV_TAB_SIZE = DEV_TAB_BASE.field("Size");
const EXCL_EN = EXCL_BASE.field("ExEn");
const EXCL_ALLOW = EXCL_BASE.field("Allow");
const IOMMU_EN = CONTROL.field("IommuEn");
const DTE_V = DTE.field("V");
const DTE_TV = DTE.field("TV");
const DTE_IR = DTE.field("IR");
const DTE_IW = DTE.field("IW");
const DTE_MODE = DTE.field("Mode");
const DTE_DOMID = DTE.field("DomainID");
const DTE_PT_ROOT = DTE.field("PageTableRootPtr");

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

/** Interrupt lines of the IOMMU itself (its MSI, delivered to the CPU by the machine). */
export type IommuIrq = "event" | "ppr" | "comwait";

/** One AMD IOMMU. */
export class AmdIommu implements MmioHandler {
  readonly regs: RegisterFile = new RegisterFile();
  readonly dteCache: DteCache;
  readonly iotlb: Iotlb;
  readonly observers: IommuObserver[] = [];
  /** Raised when the IOMMU signals its own MSI (set by the machine). */
  irq: (line: IommuIrq) => void = () => {};
  /** Delivers a COMPLETE_PPR_REQUEST answer to the device (set by the machine). */
  pprResponse: (devid: number, pasid: number, tag: number, status: number) => void = () => {};
  private cmdStopped = false;
  private cmdScheduled = false;
  private readonly dteBuf = new Uint32Array(8);
  private readonly ctl = this.regs.dwordOffset(MMIO.CONTROL);
  private readonly efr = this.regs.dwordOffset(MMIO.EXT_FEATURES);
  private readonly devTab = this.regs.dwordOffset(MMIO.DEV_TABLE);
  private readonly exclBase = this.regs.dwordOffset(MMIO.EXCL_BASE);
  /** Counters by outcome, for statistics. */
  readonly counters = { dma: 0, translated: 0, untranslated: 0, aborted: 0, commands: 0, walks: 0 };

  constructor(readonly cfg: IommuConfig, readonly mem: PhysMem, readonly clock: EventClock) {
    this.dteCache = new DteCache(cfg.dteCacheEntries ?? 64);
    this.iotlb = new Iotlb(cfg.iotlbEntries ?? 512);
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
    this.cmdStopped = false;
  }

  /** Reads a Control bit by name. */
  control(name: string): number {
    return this.regs.field(MMIO.CONTROL, name);
  }

  /** Reads an EFR field by name. */
  feature(name: string): number {
    return this.regs.field(MMIO.EXT_FEATURES, name);
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
    if (offset === MMIO.CMD_TAIL) this.kickCommands();
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
      this.cmdStopped = false; // re-enabling restarts a stopped command processor
      this.kickCommands();
    }
    // Commands queued while IommuEn was 0 wait in the buffer; they run once it is set.
    if (!was(iommuEn) && is(iommuEn)) this.kickCommands();
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

  private get pprLogRunning(): boolean {
    return this.control("PPRLogEn") === 1 && IOMMU_EN.get(this.regs.words, this.ctl) === 1;
  }

  private refreshRunBits(): void {
    this.regs.setField(MMIO.STATUS, "EventLogRun", this.eventLogRunning ? 1 : 0);
    this.regs.setField(MMIO.STATUS, "CmdBufRun", this.commandsRunning ? 1 : 0);
    this.regs.setField(MMIO.STATUS, "PprLogRun", this.pprLogRunning ? 1 : 0);
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

  // ---- DMA ------------------------------------------------------------------------------

  /** Fetches the DTE of `devid` (DTE cache, then memory). */
  private fetchDte(devid: number): CachedDte | { error: EventName; addr: number } {
    const c = this.dteCache.get(devid);
    if (c) return c;
    const base = this.devTableBase();
    if (devid * DTE_BYTES + DTE_BYTES > this.devTableBytes()) {
      return { error: "IO_PAGE_FAULT", addr: base + devid * DTE_BYTES };
    }
    const addr = base + devid * DTE_BYTES;
    if (!this.mem.isRam(addr, DTE_BYTES)) return { error: "DEV_TAB_HARDWARE_ERROR", addr };
    this.mem.readDwords(addr, 8, this.dteBuf);
    return this.dteCache.put(devid, dwordsOf(this.dteBuf));
  }

  /** Reads the DTE the hardware would use for `devid` right now, without caching it. */
  peekDte(devid: number): Uint32Array {
    const [base] = this.deviceTable();
    const w = dwords(8);
    this.mem.readDwords(base + devid * DTE_BYTES, 8, w);
    return w;
  }

  private pageFault(
    req: DmaRequest,
    dte: Uint32Array | undefined,
    cached: { faultLogged: boolean } | undefined,
    f: { pr: boolean; rz: boolean; pe: boolean; why: string },
    interrupt = false,
  ): DmaOutcome {
    const domid = dte ? DTE.get(dte, "DomainID") : 0;
    if (req.ats) {
      return {
        kind: "abort",
        why: f.why,
        event: "IO_PAGE_FAULT",
        logged: false,
        guestFault: req.pasid !== undefined,
      };
    }
    let suppressedBy: "SA" | "SE" | "" = "";
    if (dte && DTE.get(dte, "V") && DTE.get(dte, "SA")) suppressedBy = "SA";
    else if (dte && DTE.get(dte, "SE") && cached?.faultLogged) suppressedBy = "SE";
    if (suppressedBy) {
      for (const o of this.observers) {
        o.suppressed?.("IO_PAGE_FAULT", req.devid, req.addr, suppressedBy);
      }
      return {
        kind: "abort",
        why: f.why,
        event: "IO_PAGE_FAULT",
        logged: false,
        guestFault: req.pasid !== undefined,
        suppressedBy,
      };
    }
    if (cached) cached.faultLogged = true;
    const logged = this.logEvent("IO_PAGE_FAULT", {
      DeviceID: req.devid,
      DomainID: req.pasid !== undefined ? req.pasid & 0xffff : domid,
      PASIDHi: req.pasid !== undefined ? (req.pasid >>> 16) & 0xf : 0,
      GN: req.pasid !== undefined ? 1 : 0,
      I: interrupt ? 1 : 0,
      PR: f.pr ? 1 : 0,
      RW: req.write ? 1 : 0,
      PE: f.pe ? 1 : 0,
      RZ: f.rz ? 1 : 0,
      Address: req.addr,
    });
    return {
      kind: "abort",
      why: f.why,
      event: "IO_PAGE_FAULT",
      logged,
      guestFault: req.pasid !== undefined,
    };
  }

  private walkFault(
    req: DmaRequest,
    dte: Uint32Array,
    cached: { faultLogged: boolean },
    wf: WalkFault,
  ): DmaOutcome {
    if (wf.kind === "IO_PAGE_FAULT") return this.pageFault(req, dte, cached, wf);
    if (req.ats) return { kind: "abort", why: wf.why, event: wf.kind, logged: false };
    const logged = this.logEvent("PAGE_TAB_HARDWARE_ERROR", {
      DeviceID: req.devid,
      DomainID: DTE.get(dte, "DomainID"),
      RW: req.write ? 1 : 0,
      Type: 1,
      Address: wf.entryAddr,
    });
    return { kind: "abort", why: wf.why, event: "PAGE_TAB_HARDWARE_ERROR", logged };
  }

  /** Decides a DMA access (reference §4). */
  translate(req: DmaRequest): DmaOutcome {
    this.counters.dma++;
    const out = this.decide(req);
    if (out.kind === "translated") this.counters.translated++;
    else if (out.kind === "untranslated") this.counters.untranslated++;
    else this.counters.aborted++;
    return out;
  }

  private decide(req: DmaRequest): DmaOutcome {
    // 1. Translation disabled: the request goes through untranslated.
    if (!IOMMU_EN.get(this.regs.words, this.ctl)) {
      return { kind: "untranslated", spa: req.addr, why: "iommu-off" };
    }
    // 2./3. DTE lookup.
    const d = this.fetchDte(req.devid);
    if ("error" in d) {
      if (d.error === "DEV_TAB_HARDWARE_ERROR") {
        const logged = this.logEvent("DEV_TAB_HARDWARE_ERROR", {
          DeviceID: req.devid,
          RW: req.write ? 1 : 0,
          Type: 1,
          Address: d.addr,
        });
        return { kind: "abort", why: "DTE read failed", event: "DEV_TAB_HARDWARE_ERROR", logged };
      }
      // DeviceID beyond the table's size: treated as an invalid DeviceID, as VirtualBox does
      // (reference §4 row 2, unsure against the spec).
      return this.pageFault(req, undefined, undefined, {
        pr: false,
        rz: false,
        pe: false,
        why: "DeviceID beyond device table",
      });
    }
    const dte = d.words;
    // 4. V=0: untranslated, no checks.
    if (!DTE_V.get(dte)) return { kind: "untranslated", spa: req.addr, why: "dte-invalid" };
    // 5. Reserved bits in q0/q1.
    if (DTE.reservedBitsSet(dte, 0, 0, 4)) {
      const logged = this.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
        DeviceID: req.devid,
        RW: req.write ? 1 : 0,
        RZ: 1,
        Address: req.addr,
      });
      return {
        kind: "abort",
        why: "DTE reserved bits set",
        event: "ILLEGAL_DEV_TABLE_ENTRY",
        logged,
      };
    }
    // 6. TV=0: VirtualBox's reading (abort + IO_PAGE_FAULT, PR=0); QEMU aborts silently.
    // The spec text is ambiguous (reference §4 row 6); we log, so the kernel can see it.
    if (!DTE_TV.get(dte)) {
      return this.pageFault(req, dte, d, {
        pr: false,
        rz: false,
        pe: false,
        why: "DTE.TV=0",
      });
    }
    // PASID-tagged requests go through the guest tables.
    if (req.pasid !== undefined) return this.decideGuest(req, dte, d);
    // 7. DTE permissions, checked before Mode.
    const ir = DTE_IR.get(dte), iw = DTE_IW.get(dte);
    if (req.write ? !iw : !ir) {
      return this.pageFault(req, dte, d, {
        pr: true,
        rz: false,
        pe: true,
        why: "DTE permission",
      });
    }
    const mode = DTE_MODE.get(dte);
    // 8. Mode 0: no translation.
    if (mode === 0) return { kind: "untranslated", spa: req.addr, why: "mode-0" };
    // 9. Mode beyond what the unit implements (HATS: 0 → 4 levels ... 2 → 6 levels).
    const hats = EFR_HATS.get(this.regs.words, this.efr);
    const maxLevels = hats === 3 ? 0 : 4 + hats;
    if (mode === 7 || mode > maxLevels) {
      return this.pageFault(req, dte, d, {
        pr: true,
        rz: true,
        pe: false,
        why: `DTE.Mode ${mode} not supported`,
      });
    }
    // 10. Exclusion range.
    if (this.excluded(req.addr, dte)) {
      return { kind: "untranslated", spa: req.addr, why: "exclusion" };
    }
    // IOTLB, then a walk.
    const domid = DTE_DOMID.get(dte);
    const page = Math.floor(req.addr / 4096);
    const hit = this.iotlb.lookup(domid, page);
    if (hit) {
      if (req.write ? !hit.iw : !hit.ir) {
        return this.pageFault(req, dte, d, {
          pr: true,
          rz: false,
          pe: true,
          why: "permission (IOTLB)",
        });
      }
      return { kind: "translated", spa: hit.spaPage + (req.addr % 4096), domid, via: "iotlb" };
    }
    this.counters.walks++;
    const root = DTE_PT_ROOT.get(dte) * 4096;
    const w = walkHost(this.mem, root, mode, req.addr, req.write);
    if (!w.ok) return this.walkFault(req, dte, d, w.fault);
    const spaPage = w.spa - (req.addr % 4096);
    this.iotlb.insert(domid, page, { spaPage, ir: w.ir, iw: w.iw });
    return { kind: "translated", spa: w.spa, domid, via: "walk" };
  }

  private decideGuest(
    req: DmaRequest,
    dte: Uint32Array,
    cached: { faultLogged: boolean },
  ): DmaOutcome {
    // A PASID-tagged request needs guest translation. With GV=0 there is nothing to translate
    // it with: we abort with a GN=1 IO_PAGE_FAULT (not present). The spec's exact event for
    // this case is not in our sources; this is the most plausible reading.
    if (!DTE.get(dte, "GV")) {
      return this.pageFault(req, dte, cached, {
        pr: false,
        rz: false,
        pe: false,
        why: "PASID request with DTE.GV=0",
      });
    }
    const gcr3 = DTE.value(dte, "GCR3TableRootPtr");
    const g = walkGuest(this.mem, gcr3, DTE.get(dte, "GLX"), req.pasid!, req.addr, req.write);
    if (!g.ok) return this.walkFault(req, dte, cached, g.fault);
    const mode = DTE.get(dte, "Mode");
    if (mode === 0) {
      return { kind: "translated", spa: g.spa, domid: DTE.get(dte, "DomainID"), via: "walk" };
    }
    const h = walkHost(this.mem, DTE.get(dte, "PageTableRootPtr") * 4096, mode, g.spa, req.write);
    if (!h.ok) return this.walkFault(req, dte, cached, h.fault);
    return { kind: "translated", spa: h.spa, domid: DTE.get(dte, "DomainID"), via: "walk" };
  }

  private excluded(addr: number, dte: Uint32Array): boolean {
    if (!EXCL_EN.get(this.regs.words, this.exclBase)) return false;
    const allow = EXCL_ALLOW.get(this.regs.words, this.exclBase);
    const lo = this.regs.field(MMIO.EXCL_BASE, "ExclBase") * 4096;
    const hi = this.regs.field(MMIO.EXCL_LIMIT, "ExclLimit") * 4096 + 0xfff;
    return addr >= lo && addr <= hi && (allow === 1 || DTE.get(dte, "EX") === 1);
  }

  // ---- interrupts -----------------------------------------------------------------------

  /** Decides an MSI from a device (reference §5). */
  remapInterrupt(req: MsiRequest): MsiOutcome {
    const forward = (): MsiOutcome => ({
      kind: "forwarded",
      vector: req.data & 0xff,
      dest: Math.floor(req.address / 4096) & 0xff,
    });
    if (!IOMMU_EN.get(this.regs.words, this.ctl)) return forward();
    const d = this.fetchDte(req.devid);
    if ("error" in d) {
      if (d.error === "DEV_TAB_HARDWARE_ERROR") {
        const logged = this.logEvent("DEV_TAB_HARDWARE_ERROR", {
          DeviceID: req.devid,
          I: 1,
          RW: 1,
          Type: 1,
          Address: d.addr,
        });
        return { kind: "blocked", why: "DTE read failed", event: "DEV_TAB_HARDWARE_ERROR", logged };
      }
      return forward();
    }
    const dte = d.words;
    if (!DTE.get(dte, "IV")) return forward();
    if (DTE.reservedBitsSet(dte, 0, 4, 8)) {
      const logged = this.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
        DeviceID: req.devid,
        I: 1,
        RW: 1,
        RZ: 1,
        Address: req.address,
      });
      return {
        kind: "blocked",
        why: "DTE reserved bits (interrupt part)",
        event: "ILLEGAL_DEV_TABLE_ENTRY",
        logged,
      };
    }
    const deliveryMode = (req.data >>> 8) & 7;
    const block = (why: string): MsiOutcome => ({ kind: "blocked", why, logged: false });
    if (deliveryMode === 4) return DTE.get(dte, "NMIPass") ? forward() : block("NMI not passed");
    if (deliveryMode === 5) return DTE.get(dte, "InitPass") ? forward() : block("INIT not passed");
    if (deliveryMode === 7) {
      return DTE.get(dte, "EIntPass") ? forward() : block("ExtInt not passed");
    }
    if (deliveryMode === 2) return forward(); // SMI: SysMgt filtering is not modelled
    if (deliveryMode > 1) return block(`delivery mode ${deliveryMode}`);
    const intctl = DTE.get(dte, "IntCtl");
    if (intctl === INTCTL.ABORT) return block("IntCtl=0 (target abort)");
    if (intctl === INTCTL.FORWARD) return forward();
    if (intctl === 3) {
      const logged = this.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
        DeviceID: req.devid,
        I: 1,
        RW: 1,
        RZ: 1,
        Address: req.address,
      });
      return { kind: "blocked", why: "IntCtl=3", event: "ILLEGAL_DEV_TABLE_ENTRY", logged };
    }
    const len = DTE.get(dte, "IntTabLen");
    if (len >= 12) {
      const logged = this.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
        DeviceID: req.devid,
        I: 1,
        RW: 1,
        Address: req.address,
      });
      return {
        kind: "blocked",
        why: `IntTabLen ${len} reserved`,
        event: "ILLEGAL_DEV_TABLE_ENTRY",
        logged,
      };
    }
    const index = req.data & 0x7ff;
    const intFault = (pr: boolean, rz: boolean, why: string, irte?: number): MsiOutcome => {
      if (DTE.get(dte, "IG") || irte) {
        for (const o of this.observers) {
          o.suppressed?.(
            "IO_PAGE_FAULT",
            req.devid,
            req.address,
            DTE.get(dte, "IG") ? "IG" : "SupIOPF",
          );
        }
        return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged: false };
      }
      const logged = this.logEvent("IO_PAGE_FAULT", {
        DeviceID: req.devid,
        DomainID: DTE.get(dte, "DomainID"),
        I: 1,
        PR: pr ? 1 : 0,
        RZ: rz ? 1 : 0,
        RW: 1,
        Address: req.address,
      });
      return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged };
    };
    if (index >= 2 ** len) {
      return intFault(false, false, `IRTE index ${index} beyond table of ${2 ** len}`);
    }
    const root = DTE.get(dte, "InterruptTableRootPtr") * 64;
    const ga = this.control("GAEn") === 1;
    const entryBytes = ga ? 16 : 4;
    const addr = root + index * entryBytes;
    const w = dwords(entryBytes / 4);
    this.mem.readDwords(addr, w.length, w);
    const layout = ga ? IRTE_GA : IRTE;
    const sup = layout.get(w, "SupIOPF");
    if (!layout.get(w, "RemapEn")) return intFault(false, false, `IRTE ${index} not enabled`, sup);
    if (!ga && layout.get(w, "GuestMode")) {
      return intFault(false, true, `IRTE ${index} GuestMode in legacy format`, sup);
    }
    if (layout.get(w, "IntType") > 1) return intFault(true, true, `IRTE ${index} IntType`, sup);
    return {
      kind: "remapped",
      vector: layout.get(w, "Vector"),
      dest: ga ? IRTE_GA.value(w, "Destination") : IRTE.get(w, "Destination"),
    };
  }

  // ---- peripheral page requests -----------------------------------------------------------

  /**
   * A device's page request (PCIe PRI) for a faulting guest address. Logged in the PPR log
   * when PPRLogEn and PPREn are set and the device's DTE has PPR=1; otherwise the request is
   * refused with an INVALID_PPR_REQUEST event and the device gets no answer.
   */
  pageRequest(devid: number, pasid: number, addr: number, write: boolean, tag: number): boolean {
    const d = this.fetchDte(devid);
    const pprOk = !("error" in d) && DTE.get(d.words, "PPR") === 1 && this.control("PPREn") === 1;
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

  private static readonly CMD_RING: RingPointers = {
    base: MMIO.CMD_BUF,
    head: MMIO.CMD_HEAD,
    tail: MMIO.CMD_TAIL,
    lenField: "ComLen",
  };

  private kickCommands(): void {
    if (this.cmdScheduled || !this.commandsRunning) return;
    this.cmdScheduled = true;
    this.clock.after(
      this.cfg.commandNs ?? 200,
      () => this.processOne(),
      `iommu${this.cfg.index}:cmd`,
      PRIO.HW,
    );
  }

  private processOne(): void {
    this.cmdScheduled = false;
    if (!this.commandsRunning) return;
    const { base, size, head, tail } = ringState(this.regs, AmdIommu.CMD_RING);
    if (head === tail) return;
    const addr = base + head;
    if (!this.mem.isRam(addr, COMMAND_BYTES)) {
      this.logEvent("COMMAND_HARDWARE_ERROR", { Type: 1, Address: addr });
      for (const o of this.observers) {
        o.command?.("UNKNOWN", dwords(4), addr, "read failed");
      }
      this.cmdStopped = true;
      return;
    }
    const w = dwords(4);
    this.mem.readDwords(addr, 4, w);
    const name = commandName(commandOpcode(w));
    this.counters.commands++;
    if (!name || COMMAND_LAYOUTS[name].reservedBitsSet(w)) {
      this.logEvent("ILLEGAL_COMMAND_ERROR", { Address: addr });
      for (const o of this.observers) o.command?.(name ?? "UNKNOWN", w, addr, "illegal");
      this.cmdStopped = true; // the processor stops; CmdBufRun reads 0 until re-enabled
      return;
    }
    const result = this.execute(name, w, addr);
    for (const o of this.observers) o.command?.(name, w, addr, result);
    if (result === "stopped") {
      this.cmdStopped = true;
      return;
    }
    this.regs.setField(MMIO.CMD_HEAD, "Ptr", ((head + COMMAND_BYTES) % size) / 16);
    this.kickCommands();
  }

  private execute(name: CommandName, w: Dwords, addr: number): string {
    const L = COMMAND_LAYOUTS[name];
    switch (name) {
      case "COMPLETION_WAIT": {
        if (L.get(w, "S")) {
          const at = L.get(w, "StoreAddress") * 8;
          if (!this.mem.isRam(at, 8)) {
            this.logEvent("COMMAND_HARDWARE_ERROR", { Type: 1, Address: at });
            return "stopped";
          }
          this.mem.write32(at, w[2]);
          this.mem.write32(at + 4, w[3]);
        }
        if (L.get(w, "I")) {
          this.regs.setField(MMIO.STATUS, "ComWaitInt", 1);
          if (this.control("ComWaitIntEn")) this.irq("comwait");
        }
        return "ok";
      }
      case "INVALIDATE_DEVTAB_ENTRY":
        this.dteCache.invalidate(L.get(w, "DeviceID"));
        return "ok";
      case "INVALIDATE_IOMMU_PAGES": {
        const [first, size] = decodeRange(w[2], w[3], L.get(w, "S"));
        const n = this.iotlb.invalidateRange(L.get(w, "DomainID"), first, size);
        return `ok (${n} entries)`;
      }
      case "INVALIDATE_IOTLB_PAGES":
        return "ok (no remote IOTLBs modelled)";
      case "INVALIDATE_INTERRUPT_TABLE":
        return "ok"; // no IRTE cache: the table is re-read on every interrupt
      case "PREFETCH_IOMMU_PAGES":
        return "ok (ignored)";
      case "COMPLETE_PPR_REQUEST":
        this.pprResponse(
          L.get(w, "DeviceID"),
          L.get(w, "PASID"),
          L.get(w, "CompletionTag"),
          L.get(w, "Status"),
        );
        return "ok";
      case "INVALIDATE_IOMMU_ALL":
        if (!this.feature("IASup")) {
          this.logEvent("ILLEGAL_COMMAND_ERROR", { Address: addr });
          return "stopped";
        }
        this.dteCache.clear();
        this.iotlb.clear();
        return "ok";
    }
  }

  /**
   * True while the command processor runs (Status.CmdBufRun): CmdBufEn && IommuEn (see
   * {@link eventLogRunning}) and not stopped by an illegal command or an unreadable buffer.
   */
  get commandsRunning(): boolean {
    return this.control("CmdBufEn") === 1 && IOMMU_EN.get(this.regs.words, this.ctl) === 1 &&
      !this.cmdStopped;
  }
}
