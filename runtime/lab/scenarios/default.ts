/**
 * The built-in `default` scenario: a 2017-era single-socket AMD server with one IOMMU, a
 * dual-port Broadcom-NetXtreme-II-like NIC (both functions in one IOMMU group: a
 * multifunction device without ACS) running jumbo frames, port 0 with its RX ring grown to
 * the bnx2 maximum and port 1 receiving traffic when the kernel panics, and an NVMe-like
 * disk for the dump. Why each number is what it is: README.md, "The default scenario".
 *
 * @module
 */
import type { ScenarioInput } from "../scenario.ts";

/** The default scenario. */
export const DEFAULT_SCENARIO: ScenarioInput = {
  name: "default",
  description:
    "One AMD IOMMU; a bnx2-like NIC under jumbo-frame traffic keeps DMA in flight across the panic; an NVMe-like disk takes the dump.",
  seed: 1,
  machine: {
    memoryMap: [
      { base: "0x0", size: "0x9f000", kind: "ram", name: "System RAM" },
      { base: "0x9f000", size: "0x61000", kind: "reserved", name: "BIOS" },
      { base: "0x100000", size: "0xbfde0000", kind: "ram", name: "System RAM" },
      { base: "0xbfee0000", size: "0x120000", kind: "reserved", name: "ACPI Tables" },
      { base: "0xc0000000", size: "0x40000000", kind: "hole", name: "PCI MMIO" },
      { base: "0x100000000", size: "0x340000000", kind: "ram", name: "System RAM" },
    ],
    iommus: [{
      devid: "00:00.2",
      mmioBase: "0xfeb80000",
      efr: { PreFSup: 1, PPRSup: 1, GTSup: 1, IASup: 1, HATS: 0, PASMax: 15, GLXSup: 1 },
      devices: [{ first: "00:00.0", last: "07:1f.7" }],
    }],
    pciWindows: [
      { base: "0xc0000000", size: "0x3ec00000", name: "root port windows (BARs behind bridges)" },
    ],
    devices: [
      {
        kind: "nic",
        bdf: "01:00.0",
        bar: "0xf0000000",
        abortPolicy: "skip",
        traffic: { framesPerSecond: 20, frameBytes: 9000 },
        driver: {
          rxRingSize: 2040,
          rxBufBytes: 9216,
          statsTicksUs: 1_000_000,
          coalTicksUs: 18,
          dmaMaskBits: 64,
        },
      },
      {
        kind: "nic",
        bdf: "01:00.1",
        bar: "0xf0010000",
        abortPolicy: "skip",
        traffic: { framesPerSecond: 2000, frameBytes: 9000 },
        driver: {
          rxRingSize: 255,
          rxBufBytes: 9216,
          statsTicksUs: 1_000_000,
          coalTicksUs: 18,
          dmaMaskBits: 64,
        },
      },
      { kind: "disk", bdf: "02:00.0", bar: "0xf0100000" },
    ],
    sharedGroups: [["01:00.0", "01:00.1"]],
  },
  crashkernel: [{ base: "0x28000000", size: "256M", name: "crashkernel=256M" }],
  firstKernel: {
    cmdline: "BOOT_IMAGE=/vmlinuz-4.13.0 root=/dev/nvme0n1p2 ro crashkernel=256M",
    memoryUse: { slab: 0.15, pagecache: 0.45, user: 0.2 },
    uptimeMs: 100,
  },
  second: {
    mode: "kdump",
    cmdline: "BOOT_IMAGE=/vmlinuz-4.13.0 irqpoll nr_cpus=1 reset_devices elfcorehdr=0x37ff0000",
    kexecDelayMs: 40,
    drivers: ["bnx2", "nvme"],
  },
};
