/**
 * Scenarios: the machine, its firmware tables, the two kernels' settings and the panic, as
 * zod-validated data. Addresses and sizes may be numbers, hex strings ("0xfeb80000") or
 * sizes with a unit ("256M", "16G") so scenario files read like firmware dumps.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import type { Schema } from "../kernel/schema.ts";
import { scenarioProblems } from "./scenario-checks.ts";
import { atMost, LIMITS as L, limitText, NIC_LINK_SPEEDS } from "./scenario-limits.ts";

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * A number as a scenario may write it: a number, `0x…` hex ("0xfeb80000"), decimal digits, or
 * a size with a K/M/G/T unit ("256M", "16G"; binary units). Parsed to a safe non-negative
 * integer.
 */
export type NumberInput = number | string;

/**
 * A PCI address as a scenario may write it: `BB:DD.F` (optionally `0000:BB:DD.F`), or the
 * 16-bit DeviceID itself (bus 15:8, device 7:3, function 2:0).
 */
export type BdfInput = string | number;

/** What a device does when one of its DMAs master-aborts: skip the buffer, halt, or retry it. */
export type AbortPolicy = "skip" | "halt" | "retry";

/** A physical address range (a crashkernel= reservation, a PCI window). */
export interface ScenarioRange {
  /** First byte's physical address. */
  base: number;
  /** Size in bytes. */
  size: number;
  /** A label for messages and reports (e.g. "crashkernel=256M"). */
  name?: string;
}

/** A {@link ScenarioRange} as written. */
export interface ScenarioRangeInput {
  /** First byte's physical address. */
  base: NumberInput;
  /** Size in bytes. */
  size: NumberInput;
  /** A label for messages and reports (e.g. "crashkernel=256M"). */
  name?: string;
}

/** One entry of the firmware's memory map (e820). */
export interface ScenarioRegion {
  /** First byte's physical address. */
  base: number;
  /** Size in bytes. */
  size: number;
  /** `ram`, `reserved` (RAM firmware keeps, e.g. ACPI tables) or `hole` (nothing there). */
  kind: "ram" | "reserved" | "hole";
  /** What the entry is, e.g. "System RAM", "ACPI Tables". */
  name: string;
}

/** A {@link ScenarioRegion} as written. */
export interface ScenarioRegionInput {
  /** First byte's physical address. */
  base: NumberInput;
  /** Size in bytes. */
  size: NumberInput;
  /** `ram`, `reserved` (RAM firmware keeps, e.g. ACPI tables) or `hole` (nothing there). */
  kind: "ram" | "reserved" | "hole";
  /** What the entry is, e.g. "System RAM", "ACPI Tables". */
  name: string;
}

/** An AMD IOMMU and what the IVRS says it covers. */
export interface ScenarioIommu {
  /** The IOMMU's own DeviceID. */
  devid: number;
  /** Physical base of its 16 KiB MMIO register window (16 KiB aligned). */
  mmioBase: number;
  /** Extended feature register fields by name (default IASup, PPRSup, GTSup, PreFSup = 1). */
  efr: Record<string, number>;
  /** DeviceIDs behind it: "all" (IVHD DEV_ALL, the default) or inclusive ranges. */
  devices: "all" | { first: number; last: number }[];
  /** Entries of its device table entry cache (default 64). */
  dteCacheEntries: number;
  /** Entries of its IOTLB (default 512). */
  iotlbEntries: number;
}

/** A {@link ScenarioIommu} as written (defaults may be left out). */
export interface ScenarioIommuInput {
  /** The IOMMU's own DeviceID. */
  devid: BdfInput;
  /** Physical base of its 16 KiB MMIO register window (16 KiB aligned). */
  mmioBase: NumberInput;
  /** Extended feature register fields by name (default IASup, PPRSup, GTSup, PreFSup = 1). */
  efr?: Record<string, number>;
  /** DeviceIDs behind it: "all" (IVHD DEV_ALL, the default) or inclusive ranges. */
  devices?: "all" | { first: BdfInput; last: BdfInput }[];
  /** Entries of its device table entry cache (default 64). */
  dteCacheEntries?: number;
  /** Entries of its IOTLB (default 512). */
  iotlbEntries?: number;
}

/** A burst of frames on a NIC's wire (a storm, a flood of small frames). */
export interface ScenarioNicBurst {
  /** Start, ms since power-on (may be fractional). */
  atMs: number;
  /** Duration, µs. */
  durationUs: number;
  /** Frames/s during the burst, at most the link's line rate. */
  framesPerSecond: number;
  /** Bytes per frame, 64–9022. */
  frameBytes: number;
}

/** The traffic arriving at a NIC from the wire. */
export interface ScenarioNicTraffic {
  /**
   * Frames/s arriving, at most the link's line rate: linkMbps·10^6 / ((frameBytes + 20) · 8)
   * (13,858 at 9000 bytes, 1,488,095 at 64 bytes on 1 GbE).
   */
  framesPerSecond: number;
  /** Bytes per frame, 64–9022 (Ethernet, jumbo frames included). */
  frameBytes: number;
  /** The port's link speed, Mb/s: one its model supports (default 1000). */
  linkMbps: number;
  /** Bursts on top of the steady traffic, in machine time (default none). */
  bursts: ScenarioNicBurst[];
}

/** A {@link ScenarioNicTraffic} as written (defaults may be left out). */
export interface ScenarioNicTrafficInput {
  /** Frames/s arriving, at most the link's line rate. */
  framesPerSecond: number;
  /** Bytes per frame, 64–9022 (Ethernet, jumbo frames included). */
  frameBytes: number;
  /** The port's link speed, Mb/s: one its model supports (default 1000). */
  linkMbps?: number;
  /** Bursts on top of the steady traffic, in machine time (default none). */
  bursts?: ScenarioNicBurst[];
}

/** How the first kernel's NIC driver set the NIC up. */
export interface ScenarioNicDriver {
  /** RX ring entries, 2–4096. */
  rxRingSize: number;
  /** Bytes of each RX buffer, at most 16 KiB. */
  rxBufBytes: number;
  /** Statistics DMA period, µs: 256 to 0xffff00. */
  statsTicksUs: number;
  /** Host coalescing ticks, µs: at most 1023. */
  coalTicksUs: number;
  /** DMA address bits the driver set with dma_set_mask, 24–64. */
  dmaMaskBits: number;
}

/** A Broadcom NIC: a NetXtreme II BCM5709 (bnx2) or a NetXtreme BCM5720 (tg3). */
export interface ScenarioNic {
  /** The device's kind. */
  kind: "nic";
  /** Which controller (default bcm5709). */
  model: "bcm5709" | "bcm5720";
  /** Its PCI address as a DeviceID. */
  bdf: number;
  /** Physical base of BAR0. */
  bar: number;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy: AbortPolicy;
  /** RX buffer descriptors it fetches ahead (default 8). */
  prefetch: number;
  /** The traffic from the wire. */
  traffic: ScenarioNicTraffic;
  /** How the first kernel's driver set it up. */
  driver: ScenarioNicDriver;
  /** Whether the first kernel's userspace brings the interface up (default true). */
  up: boolean;
}

/** A {@link ScenarioNic} as written (defaults may be left out). */
export interface ScenarioNicInput {
  /** The device's kind. */
  kind: "nic";
  /** Which controller (default bcm5709). */
  model?: "bcm5709" | "bcm5720";
  /** Its PCI address. */
  bdf: BdfInput;
  /** Physical base of BAR0. */
  bar: NumberInput;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy?: AbortPolicy;
  /** RX buffer descriptors it fetches ahead (default 8). */
  prefetch?: number;
  /** The traffic from the wire. */
  traffic: ScenarioNicTrafficInput;
  /** How the first kernel's driver set it up. */
  driver: ScenarioNicDriver;
  /** Whether the first kernel's userspace brings the interface up (default true). */
  up?: boolean;
}

/** An NVMe disk: where the kdump kernel saves the vmcore. */
export interface ScenarioDisk {
  /** The device's kind. */
  kind: "disk";
  /** Its PCI address as a DeviceID. */
  bdf: number;
  /** Physical base of BAR0. */
  bar: number;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy: AbortPolicy;
}

/** A {@link ScenarioDisk} as written (defaults may be left out). */
export interface ScenarioDiskInput {
  /** The device's kind. */
  kind: "disk";
  /** Its PCI address. */
  bdf: BdfInput;
  /** Physical base of BAR0. */
  bar: NumberInput;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy?: AbortPolicy;
}

/** The process bound to an SVM accelerator in the first kernel (amd_iommu_bind_pasid). */
export interface ScenarioSvmDriver {
  /** The PASID the process is bound with, 1–511. */
  pasid: number;
  /** Page-aligned user address of the job buffer; the buffer ends below 2^47. */
  va: number;
  /** Pages of the job buffer (a 32-bit register). */
  pages: number;
  /** Pages present from the start (at most `pages`). */
  resident: number;
  /** Job period, µs (a 32-bit register). */
  intervalUs: number;
}

/** A {@link ScenarioSvmDriver} as written. */
export interface ScenarioSvmDriverInput {
  /** The PASID the process is bound with, 1–511. */
  pasid: number;
  /** Page-aligned user address of the job buffer; the buffer ends below 2^47. */
  va: NumberInput;
  /** Pages of the job buffer (a 32-bit register). */
  pages: number;
  /** Pages present from the start (at most `pages`). */
  resident: number;
  /** Job period, µs (a 32-bit register). */
  intervalUs: number;
}

/** An accelerator using shared virtual memory (PASID, PRI page requests through the IOMMU). */
export interface ScenarioSvm {
  /** The device's kind. */
  kind: "svm";
  /** Its PCI address as a DeviceID. */
  bdf: number;
  /** Physical base of BAR0. */
  bar: number;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy: AbortPolicy;
  /** The process bound to the device in the first kernel. */
  driver: ScenarioSvmDriver;
}

/** A {@link ScenarioSvm} as written (defaults may be left out). */
export interface ScenarioSvmInput {
  /** The device's kind. */
  kind: "svm";
  /** Its PCI address. */
  bdf: BdfInput;
  /** Physical base of BAR0. */
  bar: NumberInput;
  /** What it does when a DMA master-aborts (default skip). */
  abortPolicy?: AbortPolicy;
  /** The process bound to the device in the first kernel. */
  driver: ScenarioSvmDriverInput;
}

/** A PCI device of the machine, by `kind`. */
export type ScenarioDevice = ScenarioNic | ScenarioDisk | ScenarioSvm;

/** A {@link ScenarioDevice} as written. */
export type ScenarioDeviceInput = ScenarioNicInput | ScenarioDiskInput | ScenarioSvmInput;

/** The chipset's (the FCH's) I/O APIC. */
export interface ScenarioIoApic {
  /** Its APIC ID, 0–255 (default 128). */
  apicId: number;
  /** The DeviceID the IVRS gives its interrupt messages (default 00:14.0). */
  devid: number;
  /** Physical base of its register window (default 0xfec00000). */
  mmioBase: number;
}

/** A {@link ScenarioIoApic} as written. */
export interface ScenarioIoApicInput {
  /** Its APIC ID, 0–255. */
  apicId: number;
  /** The DeviceID the IVRS gives its interrupt messages (00:14.0 on AMD). */
  devid: BdfInput;
  /** Physical base of its register window. */
  mmioBase: NumberInput;
}

/** The machine: memory map, IOMMUs, devices and the firmware's tables. */
export interface ScenarioMachine {
  /** The e820 memory map: 1 to 128 entries. */
  memoryMap: ScenarioRegion[];
  /** The IOMMUs: 1 to 32. */
  iommus: ScenarioIommu[];
  /** PCI BARs and bridge windows: the IOVA allocator keeps these out of DMA domains. */
  pciWindows: ScenarioRange[];
  /** The PCI devices (at least one). */
  devices: ScenarioDevice[];
  /** Pairs of DeviceIDs that share an IOMMU group (multifunction without ACS). */
  sharedGroups: [number, number][];
  /**
   * The chipset's I/O APIC: the system timer reaches the CPU through it — and through the
   * IOMMU's interrupt remapping.
   */
  ioapic: ScenarioIoApic;
  /** The HPET (physical base of its registers; default 0xfed00000): its timer drives ISA IRQ 0. */
  hpet: { mmioBase: number };
  /** CPUs (APIC IDs 0..cpus-1; default 1): the panic happens on one of them, chosen by the seed. */
  cpus: number;
  /**
   * AMD SME, supported and enabled by firmware: the C-bit's position (absent: none, the
   * default). A kernel with `mem_encrypt=on` then encrypts its memory.
   */
  memoryEncryption?: { cbit: number };
}

/** A {@link ScenarioMachine} as written (defaults may be left out). */
export interface ScenarioMachineInput {
  /** The e820 memory map: 1 to 128 entries. */
  memoryMap: ScenarioRegionInput[];
  /** The IOMMUs: 1 to 32. */
  iommus: ScenarioIommuInput[];
  /** PCI BARs and bridge windows (default none). */
  pciWindows?: ScenarioRangeInput[];
  /** The PCI devices (at least one). */
  devices: ScenarioDeviceInput[];
  /** Pairs of devices that share an IOMMU group (default none). */
  sharedGroups?: [BdfInput, BdfInput][];
  /** The chipset's I/O APIC (default APIC ID 128, DeviceID 00:14.0, at 0xfec00000). */
  ioapic?: ScenarioIoApicInput;
  /** The HPET (physical base of its registers; default 0xfed00000). */
  hpet?: { mmioBase: NumberInput };
  /** CPUs (default 1). */
  cpus?: number;
  /** AMD SME enabled by firmware: the C-bit's position (default: none). */
  memoryEncryption?: { cbit: number };
}

/**
 * How the first kernel dies: a crash while running (sysrq), or a fatal hardware error whose
 * firmware-first handling reset the IOMMUs listed (by index) and the devices behind them
 * before the OS panicked.
 */
export type ScenarioPanic = { during: "running" } | {
  during: "fatal-error";
  resetIommus: number[];
};

/** The first kernel: the one that panics. */
export interface ScenarioFirstKernel {
  /** Its command line. */
  cmdline: string;
  /** Share of its RAM in use by kind, each 0–1, adding up to at most 1 (the rest is free). */
  memoryUse: { slab: number; pagecache: number; user: number };
  /** Time from the end of boot to the panic, ms (at most 300,000). */
  uptimeMs: number;
  /** Which build panicked: the same as the kdump kernel, or the 4.13 baseline (default same). */
  build: "same" | "baseline";
  /** Interrupt remapping table entries its AMD driver uses: 256 (4.x, default) or 512 (5.10+). */
  irqTableEntries: 256 | 512;
  /** It is an SEV-SNP host: SNP is initialised after its IOMMUs are up (default false). */
  snpHost: boolean;
  /** How it dies (default: a crash while running). */
  panic: ScenarioPanic;
}

/** A {@link ScenarioFirstKernel} as written (defaults may be left out). */
export interface ScenarioFirstKernelInput {
  /** Its command line. */
  cmdline: string;
  /** Share of its RAM in use by kind, each 0–1, adding up to at most 1 (the rest is free). */
  memoryUse: { slab: number; pagecache: number; user: number };
  /** Time from the end of boot to the panic, ms (at most 300,000). */
  uptimeMs: number;
  /** Which build panicked (default same). */
  build?: "same" | "baseline";
  /** Interrupt remapping table entries its AMD driver uses (default 256). */
  irqTableEntries?: 256 | 512;
  /** It is an SEV-SNP host (default false). */
  snpHost?: boolean;
  /** How it dies (default: a crash while running). */
  panic?: ScenarioPanic;
}

/** The second kernel: the kdump kernel after the panic, or a plain kexec reboot. */
export interface ScenarioSecondKernel {
  /** kdump after a panic, or a plain kexec reboot (default kdump). */
  mode: "kdump" | "kexec";
  /** Its command line. */
  cmdline: string;
  /** From the panic (or reboot) to its start, ms (default 40, at most 60,000). */
  kexecDelayMs: number;
  /** Plain kexec only: whether the first kernel shuts the IOMMU down first (default true). */
  iommuShutdown: boolean;
  /** The drivers it has (its kdump initramfs; default bnx2 and nvme). */
  drivers: ("bnx2" | "tg3" | "nvme" | "svm-accel")[];
  /** From the end of its driver probes to the kdump service starting the capture, ms (default 1500). */
  serviceDelayMs: number;
  /** The capture's deadline after the panic, s (default 120, at most 600): then the verdict is hang. */
  deadlineS: number;
}

/** A {@link ScenarioSecondKernel} as written (defaults may be left out). */
export interface ScenarioSecondKernelInput {
  /** kdump after a panic, or a plain kexec reboot (default kdump). */
  mode?: "kdump" | "kexec";
  /** Its command line. */
  cmdline: string;
  /** From the panic (or reboot) to its start, ms (default 40). */
  kexecDelayMs?: number;
  /** Plain kexec only: whether the first kernel shuts the IOMMU down first (default true). */
  iommuShutdown?: boolean;
  /** The drivers it has (default bnx2 and nvme). */
  drivers?: ("bnx2" | "tg3" | "nvme" | "svm-accel")[];
  /** From its driver probes to the kdump service starting the capture, ms (default 1500). */
  serviceDelayMs?: number;
  /** The capture's deadline after the panic, s (default 120). */
  deadlineS?: number;
}

/** A validated scenario: numbers parsed, PCI addresses as DeviceIDs, defaults filled in. */
export interface Scenario {
  /** Its name: lower-case letters, digits and dashes. */
  name: string;
  /** What it shows, in a sentence or two. */
  description: string;
  /** The seed of its pseudo-random choices (default 1). */
  seed: number;
  /** The machine. */
  machine: ScenarioMachine;
  /** The crashkernel= reservation(s) (at least one). */
  crashkernel: ScenarioRange[];
  /** The first kernel and how it panics. */
  firstKernel: ScenarioFirstKernel;
  /** The second kernel. */
  second: ScenarioSecondKernel;
}

/** A scenario as written (before defaults and unit parsing). */
export interface ScenarioInput {
  /** Its name: lower-case letters, digits and dashes. */
  name: string;
  /** What it shows, in a sentence or two. */
  description: string;
  /** The seed of its pseudo-random choices (default 1). */
  seed?: number;
  /** The machine. */
  machine: ScenarioMachineInput;
  /** The crashkernel= reservation(s) (at least one). */
  crashkernel: ScenarioRangeInput[];
  /** The first kernel and how it panics. */
  firstKernel: ScenarioFirstKernelInput;
  /** The second kernel. */
  second: ScenarioSecondKernelInput;
}

/** A number given as a number, `0x…` hex, or a size with K/M/G/T. */
export const Num: z.ZodType<number, NumberInput> = z.union([z.number(), z.string()]).transform((
  v,
  ctx,
) => {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) {
      ctx.addIssue({ code: "custom", message: `expected a non-negative integer, got ${v}` });
      return z.NEVER;
    }
    return v;
  }
  const s = v.trim();
  let n: number | undefined;
  let m = /^0x([0-9a-f]+)$/i.exec(s);
  if (m) n = parseInt(m[1], 16);
  else if ((m = /^(\d+)\s*([KMGT])i?B?$/i.exec(s))) n = Number(m[1]) * UNITS[m[2].toUpperCase()];
  else if (/^\d+$/.test(s)) n = Number(s);
  if (n === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a number, 0x… hex value or size like 256M`,
    });
    return z.NEVER;
  }
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: `"${v}" is above 2^53 (not exact as a number)` });
    return z.NEVER;
  }
  return n;
});

/** A PCI address `BB:DD.F` → 16-bit DeviceID. */
export const Bdf: z.ZodType<number, BdfInput> = z.union([
  z.string(),
  z.number().int().min(0).max(0xffff),
]).transform(
  (v, ctx) => {
    if (typeof v === "number") return v; // already a DeviceID (a parsed scenario parses again)
    const m = /^(?:0000:)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a PCI address like 01:00.0` });
      return z.NEVER;
    }
    const dev = parseInt(m[2], 16);
    if (dev > 0x1f) {
      ctx.addIssue({ code: "custom", message: `device number 0x${m[2]} in "${v}" is above 0x1f` });
      return z.NEVER;
    }
    return (parseInt(m[1], 16) << 8) | (dev << 3) | parseInt(m[3], 10);
  },
);

/** Ethernet frame bytes: 64 to a 9000-byte-MTU jumbo frame. */
const Bytes = z.number().int().min(L.frameBytesMin.value, {
  message: `at least ${limitText(L.frameBytesMin)}`,
})
  .max(L.frameBytesMax.value, atMost(L.frameBytesMax)).describe(
    `frame bytes, ${L.frameBytesMin.value}–${L.frameBytesMax.value} (Ethernet, jumbo frames included)`,
  );

const Range = z.object({ base: Num, size: Num, name: z.string().optional() }).strict();

const Region = z.object({
  base: Num,
  size: Num,
  kind: z.enum(["ram", "reserved", "hole"]),
  name: z.string(),
}).strict();

const Efr = z.record(z.string(), z.number().int().nonnegative());

const Iommu = z.object({
  devid: Bdf,
  mmioBase: Num,
  efr: Efr.default({ IASup: 1, PPRSup: 1, GTSup: 1, PreFSup: 1 }),
  devices: z.union([z.literal("all"), z.array(z.object({ first: Bdf, last: Bdf }).strict())])
    .default("all"),
  dteCacheEntries: z.number().int().positive().default(64),
  iotlbEntries: z.number().int().positive().default(512),
}).strict();

const AbortPolicyEnum = z.enum(["skip", "halt", "retry"]);

const Nic = z.object({
  kind: z.literal("nic"),
  /**
   * Which Broadcom controller: a NetXtreme II BCM5709 (driven by bnx2) or a NetXtreme BCM5720
   * (driven by tg3).
   */
  model: z.enum(["bcm5709", "bcm5720"]).default("bcm5709"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicyEnum.default("skip"),
  prefetch: z.number().int().positive().default(8),
  traffic: z.object({
    framesPerSecond: z.number().nonnegative().describe(
      "frames/s arriving from the wire; at most the link's line rate, " +
        "linkMbps·10^6 / ((frameBytes + 20) · 8) (8 bytes preamble and 12 bytes inter-frame gap " +
        "per frame): 13,858 at 9000 bytes and 1,488,095 at 64 bytes on 1 GbE",
    ),
    frameBytes: Bytes,
    /**
     * The port's link speed, Mb/s: one a NIC of its model supports (bnx2, the NetXtreme II
     * family: 10, 100, 1000, 2500 or 10000; default 1000, the BCM5709's 1000Base-T).
     */
    linkMbps: z.number().int().positive().default(1000).describe(
      `link speed in Mb/s, one the NIC model supports (${
        Object.entries(NIC_LINK_SPEEDS).map(([m, v]) => `${m}: ${v.join(", ")}`).join("; ")
      }); default 1000`,
    ),
    /** Bursts on the wire (a storm, a flood of small frames), in machine time. */
    bursts: z.array(
      z.object({
        /** Start, ms since power-on (may be fractional). */
        atMs: z.number().nonnegative().max(L.burstAtMs.value, atMost(L.burstAtMs, " ms")).describe(
          `ms since power-on, at most ${limitText(L.burstAtMs)}`,
        ),
        durationUs: z.number().positive().max(L.burstUs.value, atMost(L.burstUs, " µs")).describe(
          `µs, at most ${limitText(L.burstUs)}`,
        ),
        framesPerSecond: z.number().positive().describe("at most the link's line rate"),
        frameBytes: Bytes,
      }).strict(),
    ).default([]),
  }).strict(),
  driver: z.object({
    rxRingSize: z.number().int().min(2).max(4096),
    rxBufBytes: z.number().int().positive().max(L.rxBufBytes.value, atMost(L.rxBufBytes, " bytes"))
      .describe(
        `bytes, at most ${limitText(L.rxBufBytes)}`,
      ),
    statsTicksUs: z.number().int().min(L.statsTicksMin.value, {
      message: `at least ${limitText(L.statsTicksMin, " µs")}`,
    }).max(L.statsTicksMax.value, atMost(L.statsTicksMax, " µs"))
      .describe(`statistics DMA period, µs: ${L.statsTicksMin.value}–${L.statsTicksMax.value}`),
    coalTicksUs: z.number().int().positive().max(
      L.coalTicksMax.value,
      atMost(L.coalTicksMax, " µs"),
    ).describe(
      `host coalescing, µs: at most ${limitText(L.coalTicksMax)}`,
    ),
    dmaMaskBits: z.number().int().min(24).max(64),
  }).strict(),
  /** Whether the first kernel's userspace brings the interface up. */
  up: z.boolean().default(true),
}).strict();

const Disk = z.object({
  kind: z.literal("disk"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicyEnum.default("skip"),
}).strict();

const Svm = z.object({
  kind: z.literal("svm"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicyEnum.default("skip"),
  /** The process bound to the device in the first kernel (amd_iommu_bind_pasid). */
  driver: z.object({
    pasid: z.number().int().min(1).max(511),
    va: Num.describe("page-aligned user address of the buffer; it ends below 2^47"),
    pages: z.number().int().positive().max(L.reg32.value, atMost(L.reg32)).describe(
      "pages of the job buffer (a 32-bit register)",
    ),
    resident: z.number().int().nonnegative().describe("pages present from the start (≤ pages)"),
    intervalUs: z.number().int().positive().max(L.reg32.value, atMost(L.reg32)).describe(
      "job period, µs (a 32-bit register)",
    ),
  }).strict(),
}).strict();

const Device = z.discriminatedUnion("kind", [Nic, Disk, Svm]);

/** The scenario's shape (what the physics checks read). */
const ScenarioShape = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
  description: z.string(),
  seed: z.number().int().nonnegative().default(1),
  machine: z.object({
    memoryMap: z.array(Region).min(1).max(
      L.memoryMapEntries.value,
      atMost(L.memoryMapEntries, " entries"),
    ),
    iommus: z.array(Iommu).min(1).max(L.iommus.value, atMost(L.iommus)),
    /** PCI BARs and bridge windows: the IOVA allocator keeps these out of DMA domains. */
    pciWindows: z.array(Range).default([]),
    devices: z.array(Device).min(1),
    /** DeviceIDs that share an IOMMU group (multifunction without ACS). */
    sharedGroups: z.array(z.tuple([Bdf, Bdf])).default([]),
    /**
     * The chipset's I/O APIC (the FCH's): its APIC ID, the DeviceID the IVRS gives its
     * interrupt messages (00:14.0 on AMD) and its register window. The system timer reaches
     * the CPU through it — and through the IOMMU's interrupt remapping.
     */
    ioapic: z.object({
      apicId: z.number().int().min(0).max(255),
      devid: Bdf,
      mmioBase: Num,
    }).strict().default({ apicId: 128, devid: 0x00a0, mmioBase: 0xfec0_0000 }),
    /** The HPET, whose legacy-replacement timer drives ISA IRQ 0 (I/O APIC pin 2). */
    hpet: z.object({ mmioBase: Num }).strict().default({ mmioBase: 0xfed0_0000 }),
    /**
     * CPUs, APIC IDs 0..cpus-1. The first kernel sends its interrupts to CPU 0; the panic
     * happens on a CPU the seed picks, and the kdump kernel runs there alone (nr_cpus=1).
     */
    cpus: z.number().int().min(1).max(256).default(1),
    /**
     * AMD Secure Memory Encryption, supported by the CPU and enabled by firmware (SYSCFG
     * MemEncryptionModeEn): the C-bit's position, CPUID 0x8000001F EBX[5:0] (47 on EPYC
     * 7001). A kernel booted with mem_encrypt=on then encrypts its memory. Absent: no SME.
     */
    memoryEncryption: z.object({ cbit: z.number().int().min(32).max(51) }).strict().optional(),
  }).strict(),
  /** crashkernel= reservation(s). */
  crashkernel: z.array(Range).min(1),
  firstKernel: z.object({
    cmdline: z.string(),
    /** Share of the first kernel's RAM in use, by kind (the rest is free). */
    memoryUse: z.object({
      slab: z.number().min(0).max(1),
      pagecache: z.number().min(0).max(1),
      user: z.number().min(0).max(1),
    }).strict().refine(
      (u) => u.slab + u.pagecache + u.user <= 1,
      "memoryUse shares add up to more than 1",
    ),
    /** Time from the end of boot to the panic, ms. */
    uptimeMs: z.number().positive().max(L.uptimeMs.value, atMost(L.uptimeMs, " ms")).describe(
      `ms from the end of boot to the panic, at most ${limitText(L.uptimeMs)}`,
    ),
    /** Which kernel build panicked: the same one as the kdump kernel, or the 4.13 baseline. */
    build: z.enum(["same", "baseline"]).default("same"),
    /**
     * Interrupt remapping table entries the first kernel's AMD driver uses: 256 (4.x) or 512
     * (a first kernel of a later generation, 5.10+).
     */
    irqTableEntries: z.union([z.literal(256), z.literal(512)]).default(256),
    /**
     * An SEV-SNP host: once its IOMMUs are up it sets their completion store ranges and
     * initialises SNP, which locks IOMMU registers until a cold reset. Needs EFR.SNPSup.
     */
    snpHost: z.boolean().default(false),
    /**
     * How the first kernel dies: a crash while running (sysrq), or a fatal hardware error
     * whose firmware-first handling reset the IOMMUs listed (by index) and the devices behind
     * them before the OS panicked.
     */
    panic: z.discriminatedUnion("during", [
      z.object({ during: z.literal("running") }).strict(),
      z.object({
        during: z.literal("fatal-error"),
        resetIommus: z.array(z.number().int().nonnegative()).min(1),
      }).strict(),
    ]).default({ during: "running" }),
  }).strict(),
  second: z.object({
    /** kdump after a panic, or a plain kexec reboot. */
    mode: z.enum(["kdump", "kexec"]).default("kdump"),
    cmdline: z.string(),
    /** Time between the panic (or reboot) and the second kernel's start, ms. */
    kexecDelayMs: z.number().nonnegative().max(L.kexecDelayMs.value, atMost(L.kexecDelayMs, " ms"))
      .default(40).describe(
        `ms, at most ${limitText(L.kexecDelayMs)}`,
      ),
    /** Plain kexec only: whether the first kernel shuts the IOMMU down before jumping. */
    iommuShutdown: z.boolean().default(true),
    /** Drivers the second kernel has (kdump initramfs). */
    drivers: z.array(z.enum(["bnx2", "tg3", "nvme", "svm-accel"])).default(["bnx2", "nvme"]),
    /** From the end of the driver probes to the kdump service starting the capture, ms. */
    serviceDelayMs: z.number().nonnegative().max(
      L.serviceDelayMs.value,
      atMost(L.serviceDelayMs, " ms"),
    ).default(1500).describe(
      `ms, at most ${limitText(L.serviceDelayMs)}`,
    ),
    /** Give up (verdict hang) if the capture has not finished this long after the panic, s. */
    deadlineS: z.number().positive().max(L.deadlineS.value, atMost(L.deadlineS, " s")).default(120)
      .describe(
        `s after the panic, at most ${limitText(L.deadlineS)}`,
      ),
  }).strict(),
}).strict().describe(
  "A kdump-lab scenario: the machine, its firmware tables, the two kernels and the panic. " +
    "Besides each field's bounds, a scenario must describe a machine that can exist (no " +
    "overlapping RAM, crashkernel inside RAM, BARs aligned and inside the PCI windows, one " +
    "function per BDF, frame rates within the line rate, ...) and a run of at most " +
    `${limitText(L.work)}: NIC frames before the panic, RX buffers, statistics DMAs and ` +
    "accelerator jobs up to the capture's deadline.",
);

/**
 * The scenario schema as zod (for the lab's JSON Schema and its error messages): its shape,
 * then what no machine can be (see scenario-checks.ts).
 */
export const scenarioSchema: z.ZodType<Scenario, ScenarioInput> = ScenarioShape.superRefine(
  (s, ctx) => {
    // What no machine can be (overlapping RAM, a BAR in RAM, a frame rate above the line
    // rate, ...): checked once the file is well-formed, every problem with its path.
    for (const p of scenarioProblems(s)) {
      ctx.addIssue({ code: "custom", path: p.path, message: p.message });
    }
  },
);

/**
 * The scenario schema: parses a {@link ScenarioInput} into a {@link Scenario}, checking each
 * field's bounds and then what no machine can be (overlapping RAM, a BAR in RAM, ...).
 */
export const ScenarioSchema: Schema<Scenario> = scenarioSchema;

/** True when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
/** Compiles only while the interfaces above are exactly what the schema parses from and to. */
const _schemaMatches: [
  Same<z.output<typeof ScenarioShape>, Scenario>,
  Same<z.input<typeof ScenarioShape>, ScenarioInput>,
] = [true, true];
void _schemaMatches;

/** Scenarios made by {@link parseScenario}: validated, frozen, safe to use again as they are. */
const PARSED = new WeakSet<object>();

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Raw inputs parsed before, with the fingerprint they had then: a sweep, a bisect or a bench
 * runs the same input object many times, and gets the scenario parsed the first time back as
 * long as the object still holds the same data.
 */
const PARSED_FROM = new WeakMap<object, { key: string; scenario: Scenario }>();

/**
 * A fingerprint of plain data — objects with the plain prototype (or none) whose properties
 * are ordinary enumerable data properties, arrays, strings, numbers (NaN, ±Infinity and -0 told
 * apart), booleans, null, undefined — equal for two inputs exactly when every value the
 * schema could read is the same. Undefined for anything else (a class instance, a getter, a
 * function, a cycle): such an input is parsed every time.
 */
export function dataFingerprint(v: unknown, depth = 0): string | undefined {
  if (v === null) return "n";
  switch (typeof v) {
    case "undefined":
      return "u";
    case "boolean":
      return v ? "T" : "F";
    case "number":
      return Object.is(v, -0) ? "#-0" : `#${v}`;
    case "string":
      return JSON.stringify(v);
    case "object":
      break;
    default:
      return undefined;
  }
  if (depth > 32) return undefined;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o)) {
    let out = "[";
    for (let i = 0; i < o.length; i++) {
      const x = dataFingerprint(o[i], depth + 1);
      if (x === undefined) return undefined;
      out += x + ",";
    }
    return out + "]";
  }
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return undefined;
  let out = "{";
  for (const k of Object.getOwnPropertyNames(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k)!;
    if (!("value" in d) || !d.enumerable) return undefined;
    const x = dataFingerprint(d.value, depth + 1);
    if (x === undefined) return undefined;
    out += JSON.stringify(k) + ":" + x + ",";
  }
  return out + "}";
}

/**
 * Validates a scenario once: the result is frozen and recognised by later calls, which return
 * it as it is (so a matrix worker or a sweep parses its scenario once, not once per run). A
 * raw input is parsed with {@link ScenarioSchema} (throws its ZodError) — once per input
 * object while it holds the same plain data (see {@link dataFingerprint}).
 */
export function parseScenario(input: ScenarioInput | Scenario): Scenario {
  if (typeof input !== "object" || input === null) return scenarioSchema.parse(input) as never;
  if (PARSED.has(input)) return input as Scenario;
  const key = dataFingerprint(input);
  if (key !== undefined) {
    const hit = PARSED_FROM.get(input);
    if (hit && hit.key === key) return hit.scenario;
  }
  const s = deepFreeze(scenarioSchema.parse(input));
  PARSED.add(s);
  if (key !== undefined) PARSED_FROM.set(input, { key, scenario: s });
  return s;
}
