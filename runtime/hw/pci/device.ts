/**
 * PCI devices with DMA engines: the common part.
 *
 * A device has a DeviceID (BDF), a register window (BAR) the driver programs through
 * physical MMIO, DMA engines whose work comes from rings and blocks in memory at addresses
 * the driver programs (IOVAs when an IOMMU translates), an MSI, a declared policy for
 * aborted DMA reads and a reset that stops all DMA. Devices know nothing of kernels.
 *
 * Aborted DMA *writes* are posted: the device never learns of them (the IOMMU logs them).
 * Aborted DMA *reads* come back as an error completion, and the device's abort policy says
 * what it does next.
 *
 * @module
 */
import { joinQword } from "../bits.ts";
import { type EventOwner, PRIO, type Scheduled } from "../clock.ts";
import type { BusDevice, BusPort, DmaResult } from "../machine.ts";
import type { MmioHandler, PhysMem } from "../memory.ts";
import { PAGE_SIZE } from "../memory.ts";

/** What a device does when a DMA read it issued is aborted. */
export type AbortPolicy = "skip" | "halt" | "retry";

/**
 * What a function's PCI configuration space says it is: vendor and device ID and the
 * 24-bit class code (base class, subclass, programming interface). Firmware enumeration
 * reads it; drivers match on it.
 */
export interface PciIdentity {
  /** 16-bit vendor ID (0x14e4: Broadcom). */
  vendor: number;
  /** 16-bit device ID. */
  device: number;
  /** 24-bit class code: base class 23:16, subclass 15:8, programming interface 7:0. */
  classCode: number;
}

/** `vvvv:dddd`, as lspci -n and the kernel's enumeration lines print an identity. */
export function pciIdText(id: PciIdentity): string {
  const h = (n: number) => n.toString(16).padStart(4, "0");
  return `${h(id.vendor)}:${h(id.device)}`;
}

/** Common configuration of a DMA device. */
export interface DeviceConfig {
  /** 16-bit DeviceID: bus 15:8, device 7:3, function 2:0. */
  devid: number;
  name: string;
  /** Physical base of the register window (BAR0). */
  bar: number;
  abortPolicy?: AbortPolicy;
  /** Retries before giving up, for the `retry` policy (default 3). */
  retries?: number;
  /** Delay between retries, ns (default 10 µs). */
  retryNs?: number;
}

/** Counters every device keeps (read by the lab, never by kernels). */
export interface DeviceCounters {
  dmaWrites: number;
  dmaReads: number;
  writeAborts: number;
  readAborts: number;
  msis: number;
  resets: number;
}

/** Base class of DMA-capable PCI devices. */
export abstract class DmaDevice implements BusDevice, MmioHandler, EventOwner {
  readonly devid: number;
  readonly name: string;
  readonly bar: number;
  readonly policy: AbortPolicy;
  /** The function's identity in its configuration space. */
  abstract readonly id: PciIdentity;
  /** Size of the register window. */
  abstract readonly barSize: number;
  protected bus!: BusPort;
  protected mem!: PhysMem;
  /** Register storage, dword-indexed. */
  protected regs: Uint32Array;
  /** Set when the `halt` policy (or exhausted retries) stopped the engines. */
  halted = false;
  readonly counters: DeviceCounters = {
    dmaWrites: 0,
    dmaReads: 0,
    writeAborts: 0,
    readAborts: 0,
    msis: 0,
    resets: 0,
  };

  constructor(protected readonly cfg: DeviceConfig, regDwords: number) {
    this.devid = cfg.devid;
    this.name = cfg.name;
    this.bar = cfg.bar;
    this.policy = cfg.abortPolicy ?? "skip";
    this.regs = new Uint32Array(regDwords);
  }

  /** Attaches to the bus and maps the register window. */
  attach(bus: BusPort, mem: PhysMem): void {
    this.bus = bus;
    this.mem = mem;
    mem.mapMmio(this.bar, this.barSize, `${this.name} BAR0`, this);
    this.powerOn();
  }

  /** Called once attached: start whatever runs regardless of the host (links, media). */
  protected powerOn(): void {}

  /** MMIO read of a register. */
  read32(offset: number): number {
    return this.regs[offset >>> 2] ?? 0xffff_ffff;
  }

  /** MMIO write of a register. */
  abstract write32(offset: number, value: number): void;

  /** Stops all DMA and returns the registers to their reset values. */
  reset(): void {
    this.counters.resets++;
    this.bus.clock.cancelOwner(this);
    this.regs.fill(0);
    this.halted = false;
    this.onReset();
  }

  /** Device-specific part of reset (after timers are cancelled and registers cleared). */
  protected onReset(): void {}

  /**
   * True while the DMA engines may issue requests. A retry that comes due while this is
   * false is abandoned: a stopped engine issues no DMA. Devices with a stop control override.
   */
  protected get engineRunning(): boolean {
    return !this.halted;
  }

  /** Labels of this device's events start with its name (EventOwner). */
  get eventPrefix(): string {
    return this.name;
  }

  /** A device's events always run (reset cancels them instead). */
  readonly eventsRun = true;

  /** Schedules device work that reset() cancels. */
  protected schedule(delayNs: number, fn: () => void, label: string): Scheduled {
    return this.bus.clock.after(delayNs, fn, label, PRIO.DEVICE, this);
  }

  /** Cancels one scheduled piece of work. */
  protected unschedule(s: Scheduled | undefined): void {
    this.bus.clock.cancel(s);
  }

  /** DMA-writes `data` at `addr`, split at page boundaries. Returns false if any part aborted. */
  protected dmaWrite(addr: number, data: ArrayLike<number>, pasid?: number): boolean {
    let ok = true;
    for (let i = 0; i < data.length;) {
      const a = addr + i * 4;
      const n = Math.min(data.length - i, (PAGE_SIZE - (a % PAGE_SIZE)) >>> 2);
      const chunk = n === data.length
        ? data
        : data instanceof Uint32Array
        ? data.subarray(i, i + n)
        : Array.from({ length: n }, (_, k) => data[i + k]);
      const r: DmaResult = this.bus.dmaWrite(this.devid, a, chunk, pasid);
      this.counters.dmaWrites++;
      if (!r.ok) {
        this.counters.writeAborts++;
        ok = false;
      }
      i += n;
    }
    return ok;
  }

  /** DMA-reads `out.length` dwords at `addr`, split at page boundaries. */
  protected dmaRead(addr: number, out: Uint32Array, pasid?: number): boolean {
    return this.dmaReadExtent(addr, out, pasid) >= 0;
  }

  /**
   * {@link dmaRead}, answering how many dwords of `out`, from the first, may be non-zero (the
   * rest read as zeros — with `sparse`, the rest may be left unwritten), or -1 if any part
   * aborted.
   */
  protected dmaReadExtent(addr: number, out: Uint32Array, pasid?: number, sparse = false): number {
    let ok = true, extent = 0;
    for (let i = 0; i < out.length;) {
      const a = addr + i * 4;
      const n = Math.min(out.length - i, (PAGE_SIZE - (a % PAGE_SIZE)) >>> 2);
      const chunk = n === out.length ? out : out.subarray(i, i + n);
      // Only the last piece may leave its zeros unwritten (they lie beyond the extent).
      const e = this.bus.dmaReadExtent(this.devid, a, chunk, pasid, sparse && i + n === out.length);
      this.counters.dmaReads++;
      if (e < 0) {
        this.counters.readAborts++;
        ok = false;
      } else if (e > 0) extent = i + e;
      i += n;
    }
    return ok ? extent : -1;
  }

  /**
   * Runs a DMA read under the device's abort policy: `skip` gives up on this piece of work,
   * `halt` stops the device until reset, `retry` tries again later (then halts).
   * `then(ok)` is called with the final outcome.
   */
  protected readWithPolicy(
    addr: number,
    out: Uint32Array,
    then: (ok: boolean) => void,
    attempt = 0,
  ): void {
    if (this.dmaRead(addr, out)) return then(true);
    if (this.policy === "halt") {
      this.halted = true;
      return then(false);
    }
    if (this.policy === "retry" && attempt < (this.cfg.retries ?? 3)) {
      this.schedule(this.cfg.retryNs ?? 10_000, () => {
        if (this.engineRunning) this.readWithPolicy(addr, out, then, attempt + 1);
      }, "retry");
      return;
    }
    if (this.policy === "retry") this.halted = true;
    then(false);
  }

  /** Sends the MSI programmed at the given register offsets (address, data), if any. */
  protected sendMsi(addrReg: number, dataReg: number): void {
    const address = this.regs[addrReg >>> 2];
    if (!address) return;
    this.counters.msis++;
    this.bus.msi(this.devid, address, this.regs[dataReg >>> 2]);
  }

  /** Reads a 64-bit address register pair (lo at `reg`, hi at `reg + 4`). */
  protected addr64(reg: number): number {
    return joinQword(this.regs[reg >>> 2], this.regs[(reg >>> 2) + 1]);
  }
}
