/**
 * One kernel instance running on the machine: its memory (page allocator), its log, its
 * CPU time, interrupts and timers, the AMD IOMMU driver, the iommu core, the DMA API and
 * the device drivers. The lab runs two of them: the first kernel, then the kdump kernel
 * that kexec starts inside the crashkernel reservation.
 *
 * Kernel code "runs on the CPU": it spends simulated time with {@link Kernel.spend}, and
 * device events due meanwhile run first. Interrupt handlers run inside those events.
 *
 * @module
 */
import type { Scheduled } from "../hw/clock.ts";
import { PRIO } from "../hw/clock.ts";
import { joinQword, splitNumber } from "../hw/bits.ts";
import type { Machine } from "../hw/machine.ts";
import type { Region } from "../hw/memory.ts";
import { type CpuMemory, EncryptedDirectMap } from "./sme.ts";
import type { PciIdentity } from "../hw/pci/device.ts";
import { PageAllocator } from "./alloc.ts";
import { AmdIommuDriver } from "./amd_iommu/driver.ts";
import { COST } from "./cost.ts";
import { DmaApi } from "./dma.ts";
import type { Driver, DriverFactory } from "./drivers/driver.ts";
import { DEFAULT_HOOKS, type HookCaller } from "./hooks.ts";
import { IommuCore } from "./iommu_core.ts";
import { type Ivrs, type PciDev, pciName } from "./pci.ts";
import { Dmesg, type LogLevel } from "./printk.ts";
import type { MadtIoApic } from "./io_apic.ts";

/** Which kernel this is. */
export type KernelId = "kernel1" | "kernel2";

/** A PCI device as firmware enumeration presents it to a kernel. */
export interface PciDevInfo {
  /** 16-bit DeviceID (bus 15:8, device 7:3, function 2:0). */
  devid: number;
  /** Physical base of BAR0. */
  bar: number;
  /** Size of BAR0 in bytes. */
  barSize: number;
  /** Vendor, device and class code from the function's configuration space. */
  id: PciIdentity;
  /** The DeviceID of a function sharing its IOMMU group (multifunction without ACS). */
  sharesGroupWith?: number;
}

/** Everything a kernel needs to boot. */
export interface KernelConfig {
  /** Which kernel it is. */
  id: KernelId;
  /** Kernel command line (`elfcorehdr=` makes it a kdump kernel). */
  cmdline: string;
  /** Usable RAM (the e820 map as this kernel sees it). */
  memory: { base: number; size: number }[];
  /** The firmware's IVRS table (the IOMMUs and what they cover). */
  ivrs: Ivrs;
  /** The PCI devices firmware enumeration finds. */
  pci: PciDevInfo[];
  /** Drivers built into (or loaded by) this kernel. */
  drivers: DriverFactory[];
  /** The hook points' caller (default: every point's default, the pre-series kernel). */
  hooks?: HookCaller;
  /** Version string for the banner. */
  version?: string;
  /** The MADT's I/O APICs (none: the kernel runs without one, on the PIC). */
  madt?: { ioapics: MadtIoApic[] };
  /** The ACPI HPET table: where the HPET's registers are. */
  hpet?: { mmioBase: number };
  /**
   * Log2 of the interrupt remapping table's entries this kernel's AMD driver writes
   * (DTE IntTabLen): 8 (256 entries, MAX_IRQS_PER_TABLE of 4.x) unless the kernel is of a
   * later generation (9: 512 entries, as 5.10+ kernels write).
   */
  irqTableLen?: number;
  /**
   * The kernel runs an SEV-SNP host: after its IOMMUs are up it sets their completion store
   * ranges and initialises SNP (a Linux 6.x host's steps; see amd_iommu_snp_enable()).
   */
  snpHost?: boolean;
  /** The APIC ID of the CPU it runs on and sends its interrupts to (default 0, the BSP). */
  cpu?: number;
}

/**
 * Physical memory as kernel code reads and writes it (`k.mem`): what users' plugins may call
 * on it (runtime/plugin/kernel-view.ts lets nothing else through). Addresses are physical,
 * below 2^52; dword accesses must be 4-byte aligned. The owner tags, the panic snapshot and
 * the memory map's editing are the lab's instrumentation, not part of this interface.
 */
export interface KernelMemory {
  /** A 32-bit CPU read (aligned): holes read as all ones, MMIO windows go to their device. */
  read32(addr: number): number;
  /** A 32-bit CPU write (aligned): writes to holes are dropped, MMIO goes to the device. */
  write32(addr: number, value: number): void;
  /**
   * Reads the qword of RAM at `addr` into `out[at]` (low half) and `out[at + 1]` (a table
   * entry; no MMIO, outside RAM it reads as all ones).
   */
  readQword(addr: number, out: Uint32Array, at?: number): void;
  /**
   * Reads `n` dwords of RAM at `addr` into `out` from `outOff` (no MMIO; outside RAM they read
   * as all ones). Returns how many of them, from the first, may be non-zero (the rest read
   * as zero); with `sparse`, those zeros are not written into `out`.
   */
  readDwords(addr: number, n: number, out: Uint32Array, outOff?: number, sparse?: boolean): number;
  /**
   * Writes `n` dwords of `src` from `srcOff` (default: all of it) to RAM at `addr` (no MMIO;
   * what falls in a hole is dropped).
   */
  writeDwords(addr: number, src: ArrayLike<number>, srcOff?: number, n?: number): void;
  /**
   * ORs `mask` into dword `dword` of each of `count` records of `stride` bytes from `base`
   * (a CPU loop such as setting a bit in every DTE of a table).
   */
  orStrided(base: number, stride: number, count: number, dword: number, mask: number): void;
  /** Zeroes [addr, addr+len) (4-byte aligned). */
  zero(addr: number, len: number): void;
  /** Copies [src, src+len) to `dst`, RAM to RAM, as a CPU memcpy (4-byte aligned). */
  copy(dst: number, src: number, len: number): void;
  /** True if [addr, addr+len) is entirely RAM (`ram` or firmware-`reserved`). */
  isRam(addr: number, len?: number): boolean;
  /**
   * The stretch of the memory map containing `addr`, its `base`/`size` clipped to where that
   * kind of memory continues.
   */
  regionAt(addr: number): Region;
  /** The memory map as firmware declared it, in order. */
  memoryMap(): readonly Region[];
  /** True if the 4 KiB page holding `addr` has never been written (it reads as zero). */
  pageIsBlank(addr: number): boolean;
}

/** Raised inside kernel code when the kernel panics; unwinds to whoever booted it. */
export class KernelPanic extends Error {
  /** Makes the error of a panic; `reason` is panic()'s message (after "not syncing: "). */
  constructor(readonly reason: string) {
    super(`Kernel panic - not syncing: ${reason}`);
  }
}

/**
 * One running kernel. It owns the events it schedules (its labels start with its id, and they
 * die with it): the machine's clock sees it as their owner through `eventPrefix` and
 * `eventsRun`.
 */
export class Kernel {
  /** Which kernel this is: the first kernel (the one that panics) or the second (kdump). */
  readonly id: KernelId;
  /** The command line it booted with. */
  readonly cmdline: string;
  /** The command line parsed: parameter → value ("" for a bare flag such as `nokaslr`). */
  readonly params: Map<string, string>;
  /**
   * The machine it runs on: the lab's instrumentation, not kernel API (users' plugins cannot
   * touch it). Lab code reaches it with {@link machineOf}.
   */
  private readonly machine: Machine;
  /** Physical memory (the machine's), through what kernel code does with memory. */
  readonly mem: KernelMemory;
  /**
   * The same memory with the 64-bit table accesses of the I/O page-table code (`k.mem` is
   * this object, typed for plugins).
   */
  readonly cpu: CpuMemory;
  /**
   * sme_me_mask: the C-bit's value when SME is active in this kernel (`mem_encrypt=on` on a
   * machine whose firmware enabled memory encryption), else 0. Its direct map then encrypts
   * its own RAM (runtime/kernel/sme.ts).
   */
  readonly sme_me_mask: number;
  /** The kernel's log buffer: what dmesg shows. */
  readonly dmesg: Dmesg;
  /** The page allocator over this kernel's usable RAM (the crashkernel range in a kdump kernel). */
  readonly alloc: PageAllocator;
  /** How kernel code calls hook points: the plugin runtime, or the defaults (no plugins). */
  readonly hooks: HookCaller;
  /** The PCI devices firmware enumeration presents, as this kernel's pci_dev list. */
  readonly pci: PciDev[];
  /** The drivers built into (or loaded by) this kernel, one instance each. */
  readonly drivers: Driver[];
  /** The firmware's IVRS table as this kernel read it. */
  readonly ivrs: Ivrs;
  /** The AMD IOMMU driver (amd_iommu_init.c, amd_iommu.c): its globals and functions. */
  readonly amd: AmdIommuDriver;
  /** The iommu core (drivers/iommu/iommu.c): IOMMU groups and their default domains. */
  readonly core: IommuCore;
  /** The DMA API drivers call (dma_map_single, dma_alloc_coherent, ...). */
  readonly dma: DmaApi;
  /** Machine time at which this kernel started. */
  readonly t0: number;
  /** Set once the kernel panicked (why). */
  panicked?: string;
  /** x86_platform: iommu_shutdown is installed by the AMD driver (disable_iommus). */
  readonly x86_platform: { iommu_shutdown?: () => void } = {};
  private readonly irqs = new Map<number, (vector: number) => void>();
  /** Device vectors are handed out above the ISA range (ISA IRQ n: vector 0x30 + n). */
  private nextVector = 0x41;
  /** jiffies: timer ticks (ISA IRQ 0) this kernel received. */
  jiffies = 0;
  /**
   * Interrupts that arrived with an illegal vector (below 0x10): the local APIC drops them
   * and flags "received illegal vector" in its error register, which Linux reports only at
   * apic=debug.
   */
  apicErrors = 0;
  private dead = false;
  /** Set by local_irq_disable(): no interrupt or deferred work runs on this CPU any more. */
  private irqsOff = false;
  /** Spurious interrupts (no handler for the vector). */
  spuriousIrqs = 0;

  /**
   * Sets a kernel up on `machine` from `cfg`: its allocator, log, drivers and the IOMMU
   * driver's state, and the machine's CPU interrupts routed to it. Nothing runs yet: the lab's
   * boot sequence (runtime/kernel/boot.ts) runs its init code.
   */
  constructor(machine: Machine, readonly cfg: KernelConfig) {
    this.id = cfg.id;
    this.machine = machine;
    this.params = parseCmdline(cfg.cmdline);
    this.sme_me_mask = this.params.get("mem_encrypt") === "on" ? machine.mem.cBit : 0;
    this.cpu = this.sme_me_mask === 0 ? machine.mem : new EncryptedDirectMap(
      machine.mem,
      this.sme_me_mask,
      this.is_kdump_kernel() ? cfg.memory : undefined, // a first kernel maps all RAM
    );
    this.mem = this.cpu;
    this.t0 = machine.clock.now;
    this.cmdline = cfg.cmdline;
    this.dmesg = new Dmesg(() => this.now());
    this.alloc = new PageAllocator(
      machine.mem,
      cfg.id,
      cfg.memory,
      this.is_kdump_kernel() ? "crashkernel" : "free",
    );
    this.hooks = cfg.hooks ?? DEFAULT_HOOKS;
    this.ivrs = cfg.ivrs;
    this.pci = cfg.pci.map((p) => ({
      devid: p.devid,
      name: pciName(p.devid),
      bar: p.bar,
      barSize: p.barSize,
      id: p.id,
      dmaMaskBits: 32,
      sharesGroupWith: p.sharesGroupWith,
    }));
    this.amd = new AmdIommuDriver(this);
    this.core = new IommuCore(this);
    this.dma = new DmaApi(this);
    this.drivers = cfg.drivers.map((f) => f(this));
    machine.cpuInterrupt = (vector, src) => this.interrupt(vector, src);
  }

  // ---- time ------------------------------------------------------------------------------

  /** Time since this kernel started, ns (dmesg timestamps). */
  now(): number {
    return this.machine.clock.now - this.t0;
  }

  /** Spends CPU time; device events and interrupts due meanwhile run first. */
  spend(ns: number): void {
    if (this.dead) throw new Error(`${this.id} is dead and cannot run`);
    this.machine.clock.advance(ns);
  }

  /** udelay(). */
  udelay(us: number): void {
    this.spend(us * 1000);
  }

  /**
   * Polls `cond` every `stepNs` up to `maxSteps` times (like a udelay loop), returning the
   * number of steps taken, or -1 on timeout. Exact but fast: it jumps from event to event,
   * since `cond` can only change when an event runs.
   */
  pollWait(cond: () => boolean, stepNs: number, maxSteps: number): number {
    const start = this.machine.clock.now;
    const deadline = start + stepNs * maxSteps;
    for (;;) {
      if (cond()) return Math.round((this.machine.clock.now - start) / stepNs);
      const now = this.machine.clock.now;
      if (now >= deadline) return -1;
      const next = Math.min(this.machine.clock.nextEventAt(), deadline);
      const steps = Math.max(1, Math.ceil((next - now) / stepNs));
      this.spend(Math.min(steps * stepNs, deadline - now));
    }
  }

  /** Schedules kernel work (a timer, a threaded IRQ, NAPI) that dies with the kernel. */
  schedule(delayNs: number, fn: () => void, label: string): Scheduled {
    return this.machine.clock.after(delayNs, fn, label, PRIO.KERNEL, this);
  }

  /** Labels of this kernel's events start with its id (EventOwner). */
  get eventPrefix(): string {
    return this.id;
  }

  /** Whether this kernel's work runs when it comes due: not once it stopped or disabled irqs. */
  get eventsRun(): boolean {
    return !this.dead && !this.irqsOff;
  }

  /**
   * local_irq_disable() on the way out (panic, kexec): from here on no interrupt handler,
   * timer or softirq (NAPI, the IOMMU's thread) of this kernel runs; the code that is running
   * goes on, spending time.
   */
  local_irq_disable(): void {
    this.irqsOff = true;
  }

  /** Stops everything this kernel runs (panic or kexec): timers, interrupts. */
  stop(): void {
    this.dead = true;
    this.machine.clock.cancelOwner(this);
    this.machine.cpuInterrupt = () => {};
  }

  /** True while the kernel runs. */
  get alive(): boolean {
    return !this.dead;
  }

  // ---- command line and identity ------------------------------------------------------------

  /** sme_active(): memory encryption is on in this kernel. */
  sme_active(): boolean {
    return this.sme_me_mask !== 0;
  }

  /** __sme_set(): `pa` with the C-bit when SME is active (what the IOMMU is given). */
  __sme_set(pa: number): number {
    const c = this.sme_me_mask;
    return c === 0 || Math.floor(pa / c) % 2 === 1 ? pa : pa + c;
  }

  /** __sme_clr(): `value` without the C-bit of this kernel's SME, if it has it. */
  __sme_clr(value: number): number {
    const c = this.sme_me_mask;
    return c !== 0 && Math.floor(value / c) % 2 === 1 ? value - c : value;
  }

  /**
   * ioremap_encrypted(): maps RAM that is not this kernel's own (the crashed kernel's) through
   * the C-bit, so reads decrypt it. The model's mapping is the address with the bit set; as
   * plain ioremap() without SME.
   */
  ioremap_encrypted(pa: number, _size: number): number {
    return this.__sme_set(pa);
  }

  /** is_kdump_kernel(): booted with an ELF core header address. */
  is_kdump_kernel(): boolean {
    return this.params.has("elfcorehdr");
  }

  // ---- printk ----------------------------------------------------------------------------

  /** printk at a level. */
  printk(level: LogLevel, text: string): void {
    this.dmesg.printk(level, text);
  }

  /** pr_info(). */
  pr_info(text: string): void {
    this.printk("info", text);
  }

  /** pr_warn(). */
  pr_warn(text: string): void {
    this.printk("warn", text);
  }

  /** pr_err(). */
  pr_err(text: string): void {
    this.printk("err", text);
  }

  /** pr_alert(). */
  pr_alert(text: string): void {
    this.printk("alert", text);
  }

  /** dev_err(): prefixed with the driver (or bus) name and the device name. */
  dev_err(dev: PciDev, text: string): void {
    this.printk("err", `${dev.driver?.name ?? "pci"} ${dev.name}: ${text}`);
  }

  /** dev_info(). */
  dev_info(dev: PciDev, text: string): void {
    this.printk("info", `${dev.driver?.name ?? "pci"} ${dev.name}: ${text}`);
  }

  /** netdev_info(): the device prefix, then the interface name (`bnx2 0000:01:00.0 eth0: …`). */
  netdev_info(dev: PciDev, ifname: string, text: string): void {
    this.printk("info", `${dev.driver?.name ?? "pci"} ${dev.name} ${ifname}: ${text}`);
  }

  /** panic(): prints and unwinds to the caller that booted this kernel. */
  panic(reason: string): never {
    this.printk("emerg", `Kernel panic - not syncing: ${reason}`);
    this.panicked = reason;
    throw new KernelPanic(reason);
  }

  /**
   * The SEV firmware's SNP_INIT, through the PSP (its mailbox is not modelled): the platform
   * turns SNP enforcement on in every IOMMU, which then locks registers (hw/iommu/iommu.ts).
   *
   * @returns whether every IOMMU enforces SNP now
   */
  sev_snp_init(): boolean {
    return this.machine.iommus.map((u) => u.enforceSnp()).every(Boolean);
  }

  // ---- MMIO --------------------------------------------------------------------------------

  /** readl(). */
  readl(addr: number): number {
    this.spend(COST.mmioRead);
    return this.mem.read32(addr);
  }

  /** writel(). */
  writel(value: number, addr: number): void {
    this.mem.write32(addr, value >>> 0);
    this.spend(COST.mmioWrite);
  }

  /**
   * A 64-bit register write as the hardware sees it: two 32-bit writes, low half first,
   * with CPU time between them (memcpy_toio of 8 bytes).
   */
  writeq(value: number, addr: number): void {
    const [lo, hi] = splitNumber(value);
    this.writel(lo, addr);
    this.writel(hi, addr + 4);
  }

  /** 64-bit read (two 32-bit reads). */
  readq(addr: number): number {
    const lo = this.readl(addr), hi = this.readl(addr + 4);
    return joinQword(lo, hi);
  }

  // ---- interrupts ------------------------------------------------------------------------

  /** request_irq(): allocates a vector and installs the handler. */
  request_irq(handler: (vector: number) => void): number {
    const v = this.nextVector++;
    this.irqs.set(v, handler);
    return v;
  }

  /** Installs the handler of ISA IRQ `irq` at its fixed vector, ISA_IRQ_VECTOR(irq). */
  request_isa_irq(irq: number, handler: (vector: number) => void): number {
    const v = 0x30 + irq;
    this.irqs.set(v, handler);
    return v;
  }

  /** Frees a vector. */
  free_irq(vector: number): void {
    this.irqs.delete(vector);
  }

  /**
   * An interrupt reaching the CPU: an IOMMU's to the AMD driver, an illegal vector counted
   * as an APIC error, else the handler of its vector (or a spurious interrupt).
   */
  private interrupt(vector: number, src: { devid?: number; iommu?: number }): void {
    if (this.dead || this.irqsOff) return;
    if (src.iommu !== undefined) return this.amd.iommuInterrupt(src.iommu);
    if (vector < 0x10) {
      this.apicErrors++;
      return;
    }
    const h = this.irqs.get(vector);
    if (!h) {
      this.spuriousIrqs++;
      if (this.dmesg.ratelimit()) {
        this.printk("emerg", `do_IRQ: 0.${vector} No irq handler for vector`);
      }
      return;
    }
    h(vector);
  }

  // ---- devices -----------------------------------------------------------------------------

  /** The PCI device with this DeviceID. */
  pciDev(devid: number): PciDev | undefined {
    return this.pci.find((d) => d.devid === devid);
  }
}

/**
 * The machine a kernel runs on: for the lab's own code (the boot phases, the dump capture,
 * tests), never handed to plugins. The kernel keeps it private so that the kernel's public
 * type is the kernel API.
 */
export function machineOf(k: Kernel): Machine {
  return k["machine"];
}

/** Parses `a=b c d=e` into a map (flags map to ""). */
export function parseCmdline(cmdline: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const tok of cmdline.split(/\s+/).filter(Boolean)) {
    const i = tok.indexOf("=");
    if (i < 0) m.set(tok, "");
    else m.set(tok.slice(0, i), tok.slice(i + 1));
  }
  return m;
}
