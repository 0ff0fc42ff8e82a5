/**
 * Test kit for the kernel model: a small machine (one AMD IOMMU, RAM below 3 GiB, the PCI
 * hole, optionally RAM above 4 GiB, optionally a bnx2-like NIC, an NVMe-like disk and a
 * PASID-capable accelerator) and a
 * kernel on it with a given command line, memory, IVRS, PCI list and drivers — plus
 * observers that record what the kernel did to the hardware (MMIO writes, commands, DMA).
 *
 * Test-only. Everything the kernel does still goes through the model: MMIO, memory, the
 * IOMMU's command processor and translation.
 */
import type { CommandName } from "../../runtime/hw/layouts/command.ts";
import { COMMAND_LAYOUTS } from "../../runtime/hw/layouts/command.ts";
import type { AmdIommu } from "../../runtime/hw/iommu/iommu.ts";
import { type DmaRecord, Machine } from "../../runtime/hw/machine.ts";
import type { Region } from "../../runtime/hw/memory.ts";
import { Disk, type DiskConfig } from "../../runtime/hw/pci/disk.ts";
import { Nic, type NicConfig } from "../../runtime/hw/pci/nic.ts";
import { SvmDevice } from "../../runtime/hw/pci/svm.ts";
import { readDteWords } from "../../runtime/kernel/amd_iommu/domain.ts";
import { Bnx2Driver, type Bnx2Params } from "../../runtime/kernel/drivers/bnx2.ts";
import type { DriverFactory } from "../../runtime/kernel/drivers/driver.ts";
import { NvmeDriver } from "../../runtime/kernel/drivers/nvme.ts";
import { Tg3Driver } from "../../runtime/kernel/drivers/tg3.ts";
import { SvmDriver, type SvmParams } from "../../runtime/kernel/drivers/svm.ts";
import { DEFAULT_HOOKS, type HookCaller } from "../../runtime/kernel/hooks.ts";
import { Kernel, type KernelId, type PciDevInfo } from "../../runtime/kernel/kernel.ts";
import type { Ivrs } from "../../runtime/kernel/pci.ts";
import type { MadtIoApic } from "../../runtime/kernel/io_apic.ts";
import type { LogLevel } from "../../runtime/kernel/printk.ts";

/** Physical layout and DeviceIDs of the kit's machine. */
export const KIT = {
  IOMMU_MMIO: 0xfeb8_0000,
  IOMMU_DEVID: 0x0002,
  NIC: 0x0100,
  NIC_BAR: 0xf000_0000,
  DISK: 0x0200,
  DISK_BAR: 0xf010_0000,
  SVM: 0x0210,
  SVM_BAR: 0xf020_0000,
  /** The southbridge I/O APIC: APIC ID, IVRS DeviceID (00:14.0), registers; the HPET's. */
  IOAPIC: { apicId: 128, devid: 0x00a0, mmioBase: 0xfec0_0000 },
  HPET: 0xfed0_0000,
  /** A DeviceID inside the IVHD range with no PCI device behind it. */
  NODEV: 0x0108,
  /** Last DeviceID of the kit's IVHD range (amd_iommu_last_bdf). */
  LAST_BDF: 0x02ff,
  LOW_TOP: 0xc000_0000,
  HIGH_BASE: 0x1_0000_0000,
  HIGH_TOP: 0x1_4000_0000,
  /** The first kernel's memory: 256 MiB low, 256 MiB above 4 GiB. */
  K1_LOW: { base: 0x1000_0000, size: 0x1000_0000 },
  K1_HIGH: { base: 0x1_0000_0000, size: 0x1000_0000 },
  /** The crash kernel reservation (256 MiB at 640 MiB). */
  RESERVE: { base: 0x2800_0000, size: 0x1000_0000 },
  /** PCI windows the IOVA allocator keeps out (as the default scenario has them). */
  PCI_WINDOW: { base: 0xc000_0000, size: 0x3ec0_0000 },
} as const;

/** The kit's default Extended Feature Register. */
export const KIT_EFR = { IASup: 1, HATS: 0 } as const;

/** The bnx2 settings the kit uses unless a test overrides them. */
export const KIT_BNX2: Bnx2Params = {
  rxRingSize: 16,
  rxBufBytes: 2048,
  statsTicksUs: 0,
  coalTicksUs: 18,
  dmaMaskBits: 64,
};

/** The accelerator's bound process unless a test overrides it: 8 pages, 4 resident. */
export const KIT_SVM: SvmParams = {
  pasid: 1,
  va: 0x7f00_0000_0000,
  pages: 8,
  resident: 4,
  intervalUs: 100,
};

/** What the machine has. */
export interface MachineOptions {
  seed?: number;
  efr?: Partial<Record<string, number>>;
  /** RAM above 4 GiB (default true). */
  highRam?: boolean;
  /** A NIC at 01:00.0 (true, or config overrides). */
  nic?: boolean | Partial<NicConfig>;
  /** A disk at 02:00.0 (true, or config overrides). */
  disk?: boolean | Partial<DiskConfig>;
  /** A PASID-capable accelerator at 02:02.0. */
  svm?: boolean;
  /** DeviceIDs the IVHD covers (default 0..LAST_BDF). */
  devices?: "all" | { first: number; last: number }[];
  /** Time the IOMMU's command processor spends per command, ns. */
  commandNs?: number;
  /** The chipset's I/O APIC (00:14.0 in the IVRS) and HPET (default true). */
  chipset?: boolean;
}

/** The machine and what its firmware reports. */
export interface KitMachine {
  m: Machine;
  iommu: AmdIommu;
  nic?: Nic;
  disk?: Disk;
  svm?: SvmDevice;
  ivrs: Ivrs;
  pci: PciDevInfo[];
  /** The MADT's I/O APICs and the HPET table (absent without a chipset). */
  madt?: { ioapics: MadtIoApic[] };
  hpet?: { mmioBase: number };
}

/** Builds the kit's machine. */
export function makeMachine(o: MachineOptions = {}): KitMachine {
  const memoryMap: Region[] = [
    { base: 0, size: KIT.LOW_TOP, kind: "ram", name: "System RAM" },
    { base: KIT.LOW_TOP, size: KIT.HIGH_BASE - KIT.LOW_TOP, kind: "hole", name: "PCI MMIO" },
  ];
  if (o.highRam !== false) {
    memoryMap.push({
      base: KIT.HIGH_BASE,
      size: KIT.HIGH_TOP - KIT.HIGH_BASE,
      kind: "ram",
      name: "System RAM",
    });
  }
  const m = new Machine({
    seed: o.seed ?? 1,
    memoryMap,
    iommus: [{
      index: 0,
      devid: KIT.IOMMU_DEVID,
      mmioBase: KIT.IOMMU_MMIO,
      efr: o.efr ?? { ...KIT_EFR },
      commandNs: o.commandNs,
    }],
    chipset: o.chipset === false ? undefined : { ioapic: { ...KIT.IOAPIC }, hpetBase: KIT.HPET },
  });
  const pci: PciDevInfo[] = [];
  let nic: Nic | undefined, disk: Disk | undefined, svm: SvmDevice | undefined;
  if (o.nic) {
    nic = new Nic({
      devid: KIT.NIC,
      name: "nic",
      bar: KIT.NIC_BAR,
      traffic: { framesPerSecond: 0, frameBytes: 1500 },
      ...(o.nic === true ? {} : o.nic),
    });
    m.addDevice(nic);
    pci.push({ devid: nic.devid, bar: nic.bar, barSize: nic.barSize, id: nic.id });
  }
  if (o.disk) {
    disk = new Disk({
      devid: KIT.DISK,
      name: "disk",
      bar: KIT.DISK_BAR,
      ...(o.disk === true ? {} : o.disk),
    });
    m.addDevice(disk);
    pci.push({ devid: disk.devid, bar: disk.bar, barSize: disk.barSize, id: disk.id });
  }
  if (o.svm) {
    svm = new SvmDevice({ devid: KIT.SVM, name: "svm", bar: KIT.SVM_BAR });
    m.addDevice(svm);
    pci.push({ devid: svm.devid, bar: svm.bar, barSize: svm.barSize, id: svm.id });
  }
  const ivrs: Ivrs = {
    ivhds: [{
      devid: KIT.IOMMU_DEVID,
      mmioBase: KIT.IOMMU_MMIO,
      devices: o.devices ?? [{ first: 0, last: KIT.LAST_BDF }],
    }],
    pciWindows: [{ ...KIT.PCI_WINDOW }],
    ...(o.chipset === false
      ? {}
      : { ioapics: [{ apicId: KIT.IOAPIC.apicId, devid: KIT.IOAPIC.devid }] }),
  };
  const platform = o.chipset === false ? {} : {
    madt: { ioapics: [{ apicId: KIT.IOAPIC.apicId, mmioBase: KIT.IOAPIC.mmioBase, gsiBase: 0 }] },
    hpet: { mmioBase: KIT.HPET },
  };
  return { m, iommu: m.iommus[0], nic, disk, svm, ivrs, pci, ...platform };
}

/** How the kernel is set up. */
export interface KernelOptions {
  id?: KernelId;
  cmdline?: string;
  /** Usable RAM (default: K1_LOW, plus K1_HIGH when the machine has high RAM). */
  memory?: { base: number; size: number }[];
  drivers?: ("bnx2" | "tg3" | "nvme" | "svm-accel")[];
  /** The NIC driver's settings (bnx2 or tg3). */
  bnx2?: Partial<Bnx2Params>;
  /** The svm-accel driver's process (default KIT_SVM). */
  svmAccel?: Partial<SvmParams>;
  hooks?: HookCaller;
  /** Overrides the firmware's PCI list. */
  pci?: PciDevInfo[];
  /** Overrides the IVRS (e.g. no IVHD at all). */
  ivrs?: Ivrs;
  /** Log2 of the IRQ remapping table entries the kernel writes (default 8). */
  irqTableLen?: number;
}

/** Creates a kernel on the kit's machine (nothing runs yet). */
export function makeKernel(km: KitMachine, o: KernelOptions = {}): Kernel {
  const high = km.m.mem.isRam(KIT.HIGH_BASE);
  const drivers: DriverFactory[] = [];
  const names = o.drivers ?? [];
  if (names.includes("bnx2")) {
    drivers.push((k) => new Bnx2Driver(k, () => ({ ...KIT_BNX2, ...o.bnx2 })));
  }
  if (names.includes("tg3")) {
    drivers.push((k) => new Tg3Driver(k, () => ({ ...KIT_BNX2, ...o.bnx2 })));
  }
  if (names.includes("nvme")) drivers.push((k) => new NvmeDriver(k));
  if (names.includes("svm-accel")) {
    drivers.push((k) => new SvmDriver(k, { ...KIT_SVM, ...o.svmAccel }));
  }
  return new Kernel(km.m, {
    id: o.id ?? "kernel1",
    cmdline: o.cmdline ?? "root=/dev/nvme0n1p2 ro",
    memory: o.memory ?? (high ? [{ ...KIT.K1_LOW }, { ...KIT.K1_HIGH }] : [{ ...KIT.K1_LOW }]),
    ivrs: o.ivrs ?? km.ivrs,
    pci: o.pci ?? km.pci,
    madt: km.madt,
    hpet: km.hpet,
    drivers,
    hooks: o.hooks ?? DEFAULT_HOOKS,
    irqTableLen: o.irqTableLen,
  });
}

/** A machine and a kernel on it. */
export interface Kit extends KitMachine {
  k: Kernel;
}

/** Builds a machine and a kernel. */
export function makeKit(o: MachineOptions & KernelOptions = {}): Kit {
  const km = makeMachine(o);
  return { ...km, k: makeKernel(km, o) };
}

// ---- observers ----------------------------------------------------------------------------

/** A command the IOMMU's command processor executed (or rejected). */
export interface SeenCommand {
  t: number;
  name: CommandName | "UNKNOWN";
  fields: Record<string, number>;
  /** Physical address the command was read from. */
  addr: number;
  result: string;
}

/** Records every command the IOMMU processes from now on. */
export function commandLog(iommu: AmdIommu): SeenCommand[] {
  const out: SeenCommand[] = [];
  iommu.observers.push({
    command(name, words, addr, result) {
      out.push({
        t: iommu.clock.now,
        name,
        fields: name === "UNKNOWN" ? {} : COMMAND_LAYOUTS[name].decode(words),
        addr,
        result,
      });
    },
  });
  return out;
}

/** An MMIO write as it landed on the IOMMU. */
export interface SeenMmio {
  t: number;
  offset: number;
  value: number;
  /** Control.IommuEn just before the write landed. */
  iommuEn: number;
}

/** Records every 32-bit MMIO write to the IOMMU from now on. */
export function mmioLog(iommu: AmdIommu): SeenMmio[] {
  const out: SeenMmio[] = [];
  iommu.observers.push({
    mmioWrite(offset, value) {
      out.push({ t: iommu.clock.now, offset, value, iommuEn: iommu.control("IommuEn") });
    },
  });
  return out;
}

/** Records every DMA access on the bus from now on. */
export function dmaLog(m: Machine): DmaRecord[] {
  const out: DmaRecord[] = [];
  m.observers.push({ dma: (r) => out.push(r) });
  return out;
}

/** Records every event the IOMMU writes to its event log, by name. */
export function eventLog(iommu: AmdIommu): { name: string; result: string }[] {
  const out: { name: string; result: string }[] = [];
  iommu.observers.push({ event: (name, _w, result) => out.push({ name, result }) });
  return out;
}

// ---- kernel helpers -----------------------------------------------------------------------

/** dmesg texts (optionally only those at `level`). */
export function texts(k: Kernel, level?: LogLevel): string[] {
  return k.dmesg.lines.filter((l) => !level || l.level === level).map((l) => l.text);
}

/** dmesg lines printed since index `from`, as [level, text]. */
export function linesSince(k: Kernel, from: number): [LogLevel, string][] {
  return k.dmesg.lines.slice(from).map((l) => [l.level, l.text]);
}

/** The DTE of `devid` in the kernel's device table (eight dwords). */
export function dteOf(k: Kernel, devid: number): Uint32Array {
  return readDteWords(k.amd, devid);
}

/** The bnx2 driver of a kernel. */
export function bnx2Of(k: Kernel): Bnx2Driver {
  const d = k.drivers.find((x) => x instanceof Bnx2Driver);
  if (!d) throw new Error("no bnx2 driver");
  return d as Bnx2Driver;
}

/** The svm-accel driver of a kernel. */
export function svmOf(k: Kernel): SvmDriver {
  const d = k.drivers.find((x) => x instanceof SvmDriver);
  if (!d) throw new Error("no svm-accel driver");
  return d as SvmDriver;
}

/** The tg3 driver of a kernel. */
export function tg3Of(k: Kernel): Tg3Driver {
  const d = k.drivers.find((x) => x instanceof Tg3Driver);
  if (!d) throw new Error("no tg3 driver");
  return d as Tg3Driver;
}

/** The nvme driver of a kernel. */
export function nvmeOf(k: Kernel): NvmeDriver {
  const d = k.drivers.find((x) => x instanceof NvmeDriver);
  if (!d) throw new Error("no nvme driver");
  return d as NvmeDriver;
}

// ---- hooks ----------------------------------------------------------------------------------

/** Handlers a test puts on hook points (by name); points without one run their default. */
export interface HookOverrides {
  waterfall?: Record<string, (value: unknown, ctx: unknown) => unknown>;
  bail?: Record<string, (ctx: unknown) => unknown>;
  runAll?: Record<string, (ctx: unknown) => void>;
  /** Wrap handlers: given the context and `next` (the default action). */
  wrap?: Record<string, (ctx: unknown, next: () => unknown) => unknown>;
}

/** A hook call as the kernel made it (waterfalls with the value the kernel passed in). */
export interface HookCall {
  kind: "run-all" | "bail" | "waterfall" | "wrap";
  name: string;
  value?: unknown;
}

/** A HookCaller that records every call into `calls` and applies `o`. */
export function hooksWith(o: HookOverrides, calls: HookCall[] = []): HookCaller {
  return {
    runAll(name, ctx) {
      calls.push({ kind: "run-all", name });
      o.runAll?.[name]?.(ctx);
    },
    bail(name, ctx) {
      calls.push({ kind: "bail", name });
      return o.bail?.[name]?.(ctx) as never;
    },
    waterfall(name, value, ctx) {
      calls.push({ kind: "waterfall", name, value });
      const f = o.waterfall?.[name];
      return (f ? f(value, ctx) : value) as never;
    },
    wrap(name, ctx, def) {
      calls.push({ kind: "wrap", name });
      const f = o.wrap?.[name];
      return (f ? f(ctx, def) : def()) as never;
    },
  };
}
