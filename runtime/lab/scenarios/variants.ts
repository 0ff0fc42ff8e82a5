/**
 * Built-in scenarios derived from `default`, each showing where one patch of the series
 * changes what happens (see README.md, "What each patch changes").
 *
 * @module
 */
import type { ScenarioInput } from "../scenario.ts";
import { DEFAULT_SCENARIO } from "./default.ts";
import { derive } from "./derive.ts";

const D = DEFAULT_SCENARIO;

/**
 * `torn-devtab-write`'s sustained flood (64-byte frames a second, Poisson arrivals). After the
 * panic nobody refills the 4096-entry ring, so a faster flood would have used up the posted
 * buffers — and the NIC would have stopped writing — before the kdump kernel rewrites the
 * Device Table Base, about 71 ms after the panic: 4096 / 71 ms is about 57,700 frames/s.
 * This rate keeps buffers posted through that write on most seeds.
 */
const TORN_FLOOD_FPS = 56_000;

/** Two IOMMUs; a fatal error resets the second one, the kernel panics: one IOMMU is off. */
export const TWO_IOMMUS_ONE_OFF: ScenarioInput = derive(D, {
  name: "two-iommus-one-off",
  description:
    "Two IOMMUs (NIC behind the first, disk behind the second). A fatal PCIe error behind IOMMU 1 makes the firmware reset that root complex (IOMMU 1 and the disk back to power-on state) and the kernel panic: the kdump kernel finds only IOMMU 0 with translation on.",
  machine: {
    iommus: [
      {
        devid: "00:00.2",
        mmioBase: "0xfeb80000",
        efr: D.machine.iommus[0].efr,
        devices: [{ first: "00:00.0", last: "01:1f.7" }],
      },
      {
        devid: "02:1f.2",
        mmioBase: "0xfeb00000",
        efr: D.machine.iommus[0].efr,
        devices: [{ first: "02:00.0", last: "07:1f.7" }],
      },
    ],
  },
  firstKernel: { panic: { during: "fatal-error", resetIommus: [1] } },
});

/** The panicked kernel was a 4.13 build: its device table lies above 4 GiB. */
export const OLD_TABLE_ABOVE_4G: ScenarioInput = derive(D, {
  name: "old-table-above-4g",
  description:
    "The kernel that panicked is a 4.13 build: its device table was allocated with GFP_KERNEL and lies above 4 GiB. The kdump kernel has the series.",
  firstKernel: { build: "baseline" },
});

/** A device working in a process's address space through a PASID (GV=1). */
export const GUEST_TRANSLATION: ScenarioInput = derive(D, {
  name: "guest-translation",
  description:
    "An accelerator bound to a process through a PASID (IOMMUv2: DTE.GV=1, a GCR3 table, page requests) keeps streaming into the process's memory across the panic; the kdump kernel has no driver for it.",
  machine: {
    devices: [
      ...D.machine.devices,
      {
        kind: "svm",
        bdf: "03:00.0",
        bar: "0xf0200000",
        driver: { pasid: 1, va: "0x7f0000000000", pages: 64, resident: 32, intervalUs: 1000 },
      },
    ],
  },
});

/**
 * The same accelerator, and the kdump initramfs carries its driver: amd_iommu_v2 is loaded in
 * the kdump kernel, binds the device again and answers its page requests.
 */
export const GUEST_TRANSLATION_DRIVER: ScenarioInput = derive(GUEST_TRANSLATION, {
  name: "guest-translation-driver",
  description:
    "As guest-translation, but the kdump initramfs carries the accelerator's driver: amd_iommu_v2 is loaded in the kdump kernel, the driver binds the device and its process again, and page requests get answers.",
  second: { drivers: ["bnx2", "nvme", "svm-accel"] },
});

/**
 * The NIC is a dual-port NetXtreme BCM5720 (tg3), the LOM of AMD EPYC servers and the NIC of
 * the 2019 "Flush old domains in kdump kernel" report.
 */
export const TG3_NIC: ScenarioInput = derive(D, {
  name: "tg3-nic",
  description:
    "The NIC is a dual-port NetXtreme BCM5720 driven by tg3 (the NIC of the 2019 'flush old domains' report). tg3 has no kdump-specific wait: its probe halts a chip it finds running, as it would one an option ROM left running, before its first DMA-API call.",
  machine: {
    devices: [
      { ...(D.machine.devices[0] as object), model: "bcm5720" },
      { ...(D.machine.devices[1] as object), model: "bcm5720" },
      D.machine.devices[2],
    ],
  },
  second: { drivers: ["tg3", "nvme"] },
});

/** The panicked kernel used 512-entry interrupt remapping tables (a 5.10+ kernel). */
export const OLD_IRQ_TABLEN: ScenarioInput = derive(D, {
  name: "old-irq-tablen",
  description:
    "The kernel that panicked is of a later generation: its DTEs carry IntTabLen 9 (512 interrupt remapping entries); the kdump kernel writes and expects 8.",
  firstKernel: { irqTableEntries: 512 },
});

/** amd_iommu=off on the kdump kernel's command line. */
export const AMD_IOMMU_OFF: ScenarioInput = derive(D, {
  name: "amd-iommu-off",
  description: "The kdump kernel is booted with amd_iommu=off.",
  second: { cmdline: `${D.second!.cmdline} amd_iommu=off` },
});

/** A plain kexec reboot that leaves translation on. */
export const KEXEC_IOMMU_ON: ScenarioInput = derive(D, {
  name: "kexec-iommu-on",
  description:
    "A plain kexec reboot (not kdump) by a kernel that does not shut its IOMMU down: the new kernel finds translation on.",
  second: {
    mode: "kexec",
    iommuShutdown: false,
    cmdline: "BOOT_IMAGE=/vmlinuz-4.13.0 root=/dev/nvme0n1p2 ro",
  },
});

/** The kdump initramfs has no NIC driver: nothing ever uses the DMA API for the NIC. */
export const NO_DMA_API_DRIVER: ScenarioInput = derive(D, {
  name: "no-dma-api-driver",
  description:
    "The kdump initramfs only has the disk driver: the NIC, still receiving, is never probed, so no driver ever makes a DMA-API call for it.",
  second: { drivers: ["nvme"] },
});

/**
 * The crash kernel's memory is mostly above 4 GiB, below the first kernel's device table:
 * without the below-4G patch the copy's address has another high half, and a sustained flood
 * of small frames on a 10 GbE port keeps DMA going while the kdump kernel rewrites the
 * register. Whether a frame falls between the two 32-bit halves (~150 ns) is up to the seed.
 */
export const TORN_DEVTAB_WRITE: ScenarioInput = derive(D, {
  name: "torn-devtab-write",
  description:
    "Constructed: crashkernel=512M@12G (plus 256M low): the kdump kernel's memory lies above 4 GiB, below the first kernel's device table. Port 1 is a 10 GbE port with a 4096-entry ring under a sustained flood of 64-byte frames (56,000 a second, as many as the ring can take without running dry before the kdump kernel rewrites the Device Table Base with translation on).",
  machine: {
    devices: [
      D.machine.devices[0],
      {
        ...(D.machine.devices[1] as object),
        traffic: {
          framesPerSecond: TORN_FLOOD_FPS,
          frameBytes: 64,
          linkMbps: 10000,
          bursts: [],
        },
        driver: {
          rxRingSize: 4096,
          rxBufBytes: 9216,
          statsTicksUs: 1_000_000,
          coalTicksUs: 18,
          dmaMaskBits: 64,
        },
      },
      D.machine.devices[2],
    ],
  },
  crashkernel: [
    { base: "0x28000000", size: "256M", name: "crashkernel=256M,low" },
    { base: "0x300000000", size: "512M", name: "crashkernel=512M@12G" },
  ],
  second: {
    cmdline: "BOOT_IMAGE=/vmlinuz-4.13.0 irqpoll nr_cpus=1 reset_devices elfcorehdr=0x31fff0000",
  },
});

/**
 * An SEV-SNP host: the IOMMU supports SNP and the first kernel initialises it, which locks
 * the IOMMU's table and buffer registers and confines completion-wait stores to the first
 * kernel's completion store range — until a cold reset, so across the kexec into the kdump
 * kernel too (the failure reported in 2023 and 2024, fixed by the 2025 reuse series).
 */
export const SNP_HOST: ScenarioInput = derive(D, {
  name: "snp-host",
  description:
    "An SEV-SNP host with 32 CPUs: the IOMMU supports SNP (EFR.SNPSup) and the first kernel initialises SNP, which locks the IOMMU's Device Table Base, command buffer, event log and completion store range registers until a cold reset — the kdump kernel boots with them locked, on the CPU that panicked.",
  machine: {
    iommus: [{
      ...(D.machine.iommus[0] as object),
      efr: { ...D.machine.iommus[0].efr, SNPSup: 1 },
    }],
    cpus: 32,
  },
  firstKernel: { snpHost: true },
});

/**
 * AVIC: the IOMMU supports guest vAPIC interrupts (GASup, GAMSup vAPIC), so both kernels run
 * interrupt remapping in vAPIC mode, and the first kernel's GA log is running at the panic.
 */
export const AVIC_GA_LOG: ScenarioInput = derive(D, {
  name: "avic-ga-log",
  description:
    "A KVM host with AVIC: the IOMMU supports guest vAPIC interrupt posting (EFR GASup, GAMSup vAPIC mode), so the kernels remap interrupts in vAPIC mode and the first kernel's GA log is running when it panics.",
  machine: {
    iommus: [{
      ...(D.machine.iommus[0] as object),
      efr: { ...D.machine.iommus[0].efr, GASup: 1, GAMSup: 1 },
    }],
  },
});

/**
 * SME: firmware enabled memory encryption (C-bit 47, EPYC 7001) and both kernels boot with
 * mem_encrypt=on — SME on in both, the one pairing the 4.19 SME kdump series supports. The
 * first kernel gives its IOMMU addresses with the C-bit set and keeps its memory encrypted.
 */
export const SME_HOST: ScenarioInput = derive(D, {
  name: "sme-host",
  description:
    "An AMD EPYC host with SME (Secure Memory Encryption) on: firmware enabled memory encryption (C-bit 47), and both kernels boot with mem_encrypt=on, so the first kernel's memory is encrypted and the addresses it gives the IOMMU (Device Table Base, page tables, interrupt tables) carry the C-bit.",
  machine: { memoryEncryption: { cbit: 47 } },
  firstKernel: { cmdline: `${D.firstKernel.cmdline} mem_encrypt=on` },
  second: { cmdline: `${D.second.cmdline} mem_encrypt=on` },
});
