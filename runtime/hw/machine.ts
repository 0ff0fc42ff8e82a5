/**
 * The machine: physical memory, the event clock, the IOMMUs and the PCI devices, and the
 * bus that connects them. Every device access goes through the IOMMU that covers its
 * DeviceID; what reaches memory is decided there and by the memory map.
 *
 * The machine knows nothing of kernels. A kernel installs the CPU's interrupt handler and
 * drives devices and IOMMUs through their MMIO windows in physical memory.
 *
 * @module
 */
import { EventClock } from "./clock.ts";
import type { DmaOutcome, MsiOutcome } from "./iommu/iommu.ts";
import { AmdIommu, type IommuConfig } from "./iommu/iommu.ts";
import { MMIO_WINDOW } from "./layouts/mmio.ts";
import { PhysMem, type Region } from "./memory.ts";
import { MSI_WINDOW } from "./msi.ts";
import { Chipset, type ChipsetConfig } from "./chipset.ts";

/** What a device learns about one of its DMA accesses. */
export type DmaResult =
  | { ok: true; spa: number }
  | { ok: false; why: "iommu-abort" | "master-abort"; detail: string };

/** A DMA access as the bus saw it (for observers). */
export interface DmaRecord {
  t: number;
  devid: number;
  iova: number;
  pasid?: number;
  len: number;
  write: boolean;
  outcome: DmaOutcome;
  /** Set when the IOMMU let the access through but it hit a hole (master abort). */
  masterAbort?: boolean;
  /**
   * With memory encryption: the address as the IOMMU sent it, C-bit set (`outcome.spa` is
   * then the RAM address without it); the data went through the memory controller's cipher.
   */
  encrypted?: number;
}

/** An interrupt as the bus saw it. */
export interface MsiRecord {
  t: number;
  devid: number;
  address: number;
  data: number;
  outcome: MsiOutcome | { kind: "not-msi" };
}

/** Observer of bus traffic. */
export interface BusObserver {
  dma?(r: DmaRecord): void;
  msi?(r: MsiRecord): void;
}

/** The part of the machine a device uses: its port onto the bus. */
export interface BusPort {
  readonly clock: EventClock;
  dmaWrite(devid: number, addr: number, data: ArrayLike<number>, pasid?: number): DmaResult;
  /**
   * A DMA read, answering how many dwords of `out`, from the first, may be non-zero (the rest
   * read as zeros; for devices that keep what they read sparsely — with `sparse`, they may
   * not even be written into `out`), or -1 when the read was aborted (`out` then holds all
   * ones).
   */
  dmaReadExtent(
    devid: number,
    addr: number,
    out: Uint32Array,
    pasid?: number,
    sparse?: boolean,
  ): number;
  /** ATS translation request (no event on failure); used by devices with PRI. */
  atsTranslate(devid: number, addr: number, write: boolean, pasid?: number): DmaOutcome;
  /** PCIe page request (PRI) through the device's IOMMU. */
  pageRequest(devid: number, pasid: number, addr: number, write: boolean, tag: number): boolean;
  msi(devid: number, address: number, data: number): void;
}

/** Something on the PCI bus. */
export interface BusDevice {
  readonly devid: number;
  readonly name: string;
  /** Attaches the device to the bus (called once by the machine). */
  attach(bus: BusPort, mem: PhysMem): void;
  /** Answer to a page request (COMPLETE_PPR_REQUEST). */
  pprResponse?(pasid: number, tag: number, status: number): void;
  /** Reset: stops all DMA, registers to their reset values. */
  reset?(): void;
  /** Gives storage back for the next machine (see {@link Machine.dispose}). */
  dispose?(): void;
}

/** Where device interrupts go once the IOMMU delivered them. */
export type CpuInterruptHandler = (
  vector: number,
  source: { devid?: number; iommu?: number },
) => void;

/** Machine configuration. */
export interface MachineConfig {
  seed: number;
  memoryMap: Region[];
  iommus: IommuConfig[];
  /** Which IOMMU (by index) covers each DeviceID; the rest fall to IOMMU 0. At least one. */
  iommuOf?: (devid: number) => number;
  /** The chipset's I/O APIC and HPET, if the machine has them. */
  chipset?: ChipsetConfig;
  /**
   * AMD Secure Memory Encryption, supported by the CPU and enabled by firmware: the C-bit's
   * position (CPUID 0x8000001F EBX[5:0]; 47 on EPYC 7001). The memory controller's key comes
   * from the seed's own stream (memory/sme.ts).
   */
  memoryEncryption?: { cbit: number };
}

export { MSI_WINDOW } from "./msi.ts";

/** A whole machine. */
export class Machine implements BusPort {
  readonly clock: EventClock;
  readonly mem: PhysMem;
  readonly iommus: AmdIommu[];
  readonly devices: Map<number, BusDevice> = new Map();
  readonly observers: BusObserver[] = [];
  /** The I/O APIC and HPET (absent on a bare test machine). */
  readonly chipset?: Chipset;
  /** The CPU's interrupt entry (installed by the running kernel). */
  cpuInterrupt: CpuInterruptHandler = () => {};
  /**
   * The CPUs (APIC IDs) still running, or undefined while every CPU runs. After a crash only
   * the CPU that panicked runs (the others were stopped by the crash NMI): an interrupt sent
   * to another CPU is lost (see {@link stopOtherCpus}).
   */
  liveCpus?: ReadonlySet<number>;
  private readonly iommuOf: (devid: number) => number;
  /** `iommuOf` answers, by DeviceID (the topology is fixed once the machine is built). */
  private readonly iommuByDevid = new Map<number, AmdIommu>();

  constructor(cfg: MachineConfig) {
    if (cfg.iommus.length === 0) throw new Error("a machine needs at least one IOMMU");
    this.clock = new EventClock(cfg.seed);
    this.mem = new PhysMem(cfg.memoryMap);
    if (cfg.memoryEncryption) {
      // The key the memory controller makes at power-on (a stream of its own: every other
      // stream of the seed stays as it was).
      const r = this.clock.rng.fork("sme-key");
      this.mem.enableEncryption(cfg.memoryEncryption.cbit, [
        r.int(0, 2 ** 32 - 1),
        r.int(0, 2 ** 32 - 1),
      ]);
    }
    this.iommuOf = cfg.iommuOf ?? (() => 0);
    this.iommus = cfg.iommus.map((c) => {
      const u = new AmdIommu(c, this.mem, this.clock);
      this.mem.mapMmio(c.mmioBase, MMIO_WINDOW, `AMD-Vi ${c.index} MMIO`, u);
      u.irq = () => this.cpuInterrupt(-1, { iommu: c.index });
      u.pprResponse = (devid, pasid, tag, status) =>
        this.devices.get(devid)?.pprResponse?.(pasid, tag, status);
      return u;
    });
    if (cfg.chipset) {
      this.chipset = new Chipset(cfg.chipset, this.clock, this.mem, (d) => this.addDevice(d));
    }
  }

  /**
   * Gives the machine's storage (memory contents, disk media) back for the next machine of
   * this thread (memory/pool.ts): `run()` does it once its report is made. The machine must
   * not be used afterwards (its memory throws when read).
   */
  dispose(): void {
    this.mem.dispose();
    for (const d of this.devices.values()) d.dispose?.();
    for (const fn of this.disposers.splice(0)) fn();
  }

  /** What {@link dispose} also runs (software that ran on the machine gives its storage back). */
  private readonly disposers: (() => void)[] = [];

  /** Adds `fn` to what {@link dispose} runs. */
  onDispose(fn: () => void): void {
    this.disposers.push(fn);
  }

  /** Plugs a device into the bus. */
  addDevice(d: BusDevice): void {
    if (this.devices.has(d.devid)) {
      throw new Error(`DeviceID 0x${d.devid.toString(16)} already present`);
    }
    this.devices.set(d.devid, d);
    d.attach(this, this.mem);
  }

  /** The IOMMU covering `devid`. */
  iommuFor(devid: number): AmdIommu {
    let u = this.iommuByDevid.get(devid);
    if (!u) {
      u = this.iommus[this.iommuOf(devid)] ?? this.iommus[0];
      this.iommuByDevid.set(devid, u);
    }
    return u;
  }

  /**
   * Resets the root complex of IOMMU `index`, as firmware-first error handling does: the
   * IOMMU returns to its power-on state and every device behind it is reset.
   */
  resetRootComplex(index: number): void {
    const u = this.iommus[index];
    u.powerOn();
    for (const d of this.devices.values()) if (this.iommuFor(d.devid) === u) d.reset?.();
  }

  /**
   * Decides one DMA access — the IOMMU's outcome, then the memory map (a translated access
   * into a hole or MMIO window master-aborts) — and shows the record to the observers, before
   * memory changes.
   */
  private access(
    devid: number,
    addr: number,
    len: number,
    write: boolean,
    pasid?: number,
  ): DmaRecord {
    let outcome = this.iommuFor(devid).access(devid, addr, write, pasid, false).outcome();
    let bus: number | undefined;
    if (outcome.kind !== "abort" && outcome.spa >= 2 ** 32) {
      // With memory encryption, what the access reached is the address without the C-bit;
      // memory is written through the address as sent (encrypted when the bit is set).
      const pa = this.mem.physical(outcome.spa);
      if (pa !== outcome.spa) bus = outcome.spa, outcome = { ...outcome, spa: pa };
    }
    const rec: DmaRecord = { t: this.clock.now, devid, iova: addr, pasid, len, write, outcome };
    if (bus !== undefined) rec.encrypted = bus;
    if (outcome.kind !== "abort" && this.mem.dmaTarget(outcome.spa, len) === "abort") {
      rec.masterAbort = true;
    }
    for (const o of this.observers) o.dma?.(rec);
    return rec;
  }

  /** The physical address an access reached memory at, or undefined if it aborted. */
  private static landed(rec: DmaRecord): number | undefined {
    if (rec.outcome.kind === "abort" || rec.masterAbort) return undefined;
    return rec.encrypted ?? rec.outcome.spa;
  }

  /** What the device learns of an access: where it landed, or why it aborted. */
  private static result(rec: DmaRecord): DmaResult {
    const o = rec.outcome;
    if (o.kind === "abort") return { ok: false, why: "iommu-abort", detail: o.why };
    if (rec.masterAbort) {
      return { ok: false, why: "master-abort", detail: `no RAM at 0x${o.spa.toString(16)}` };
    }
    return { ok: true, spa: o.spa };
  }

  /** A device's DMA write (within one page). Observers see it before memory changes. */
  dmaWrite(devid: number, addr: number, data: ArrayLike<number>, pasid?: number): DmaResult {
    const rec = this.access(devid, addr, data.length * 4, true, pasid);
    const spa = Machine.landed(rec);
    if (spa !== undefined) this.mem.writeDwords(spa, data);
    return Machine.result(rec);
  }

  /** Reads what the access `rec` reached into `out` (all ones if it aborted); see BusPort. */
  private readInto(rec: DmaRecord, out: Uint32Array, sparse = false): number {
    const spa = Machine.landed(rec);
    if (spa !== undefined) return this.mem.readDwords(spa, out.length, out, 0, sparse);
    out.fill(0xffff_ffff);
    return -1;
  }

  /** A device's DMA read (within one page), answering the extent of what it read (see BusPort). */
  dmaReadExtent(
    devid: number,
    addr: number,
    out: Uint32Array,
    pasid?: number,
    sparse = false,
  ): number {
    return this.readInto(this.access(devid, addr, out.length * 4, false, pasid), out, sparse);
  }

  /**
   * The same DMA read, answering where it landed or why it aborted (for tests and scripts;
   * devices use {@link dmaReadExtent}). Aborted reads return all ones.
   */
  dmaRead(devid: number, addr: number, out: Uint32Array, pasid?: number): DmaResult {
    const rec = this.access(devid, addr, out.length * 4, false, pasid);
    this.readInto(rec, out);
    return Machine.result(rec);
  }

  /** ATS translation request. */
  atsTranslate(devid: number, addr: number, write: boolean, pasid?: number): DmaOutcome {
    return this.iommuFor(devid).access(devid, addr, write, pasid, true).outcome();
  }

  /** PCIe page request through the device's IOMMU. */
  pageRequest(devid: number, pasid: number, addr: number, write: boolean, tag: number): boolean {
    return this.iommuFor(devid).pageRequest(devid, pasid, addr, write, tag);
  }

  /** A device's MSI: remapped by its IOMMU, then delivered to the CPU. */
  msi(devid: number, address: number, data: number): void {
    const t = this.clock.now;
    if (address < MSI_WINDOW.base || address >= MSI_WINDOW.base + MSI_WINDOW.size) {
      for (const o of this.observers) {
        o.msi?.({ t, devid, address, data, outcome: { kind: "not-msi" } });
      }
      return;
    }
    const outcome = this.iommuFor(devid).remapInterrupt({ devid, address, data });
    for (const o of this.observers) o.msi?.({ t, devid, address, data, outcome });
    if (outcome.kind === "blocked") return;
    // Physical destination mode: an interrupt for a stopped CPU reaches no one.
    if (this.liveCpus && !this.liveCpus.has(outcome.dest)) return;
    this.cpuInterrupt(outcome.vector, { devid });
  }

  /** The crash NMI: every CPU but `keep` stops (until the machine is powered off). */
  stopOtherCpus(keep: number): void {
    this.liveCpus = new Set([keep]);
  }
}
