/**
 * The kernel's view of PCI devices (struct pci_dev + struct device, reduced to what the
 * IOMMU and DMA code use), and the firmware tables the kernel reads at boot (the IVRS).
 *
 * @module
 */
import { bdfText } from "../hw/memory.ts";
import type { PciIdentity } from "../hw/pci/device.ts";
import type { IommuDevData } from "./amd_iommu/types.ts";
import type { DmaOps } from "./dma.ts";
import type { Driver } from "./drivers/driver.ts";

/** A PCI device as enumerated by the kernel. */
export interface PciDev {
  /** 16-bit DeviceID (bus 15:8, device 7:3, function 2:0). */
  devid: number;
  /** `0000:BB:DD.F`. */
  name: string;
  /** Physical base of BAR0. */
  bar: number;
  /** Size of BAR0 in bytes. */
  barSize: number;
  /** Vendor, device and class from its configuration space (drivers match on them). */
  id: PciIdentity;
  /** The driver bound to the device, if any. */
  driver?: Driver;
  /** DMA address bits the driver set with dma_set_mask (default 32 until a driver sets it). */
  dmaMaskBits: number;
  /** DMA operations: the IOMMU's, or none (direct: DMA address = physical address). */
  dmaOps?: DmaOps;
  /** Per-device IOMMU data (dev->archdata.iommu). */
  iommu?: IommuDevData;
  /** Group the IOMMU core put the device in. */
  groupId?: number;
  /** Devices sharing this one's IOMMU group (multifunction without ACS), by DeviceID. */
  sharesGroupWith?: number;
}

/** `0000:BB:DD.F` of a DeviceID. */
export function pciName(devid: number): string {
  return `0000:${bdfText(devid)}`;
}

/** One IVHD block of the IVRS: an IOMMU and the DeviceIDs it covers. */
export interface IvhdInfo {
  /** The IOMMU's own DeviceID. */
  devid: number;
  /** Physical base of the IOMMU's MMIO registers. */
  mmioBase: number;
  /** DeviceIDs behind this IOMMU: "all" (IVHD DEV_ALL) or explicit ranges. */
  devices: "all" | { first: number; last: number }[];
}

/** The firmware's IVRS table, as far as the model uses it. */
export interface Ivrs {
  /** One IVHD block per IOMMU. */
  ivhds: IvhdInfo[];
  /**
   * IVHD special-device entries for I/O APICs: which DeviceID each I/O APIC's interrupt
   * messages carry (the FCH's is 00:14.0, IOAPIC_SB_DEVID).
   */
  ioapics?: { apicId: number; devid: number }[];
  /** Ranges the IOVA allocator keeps out of every DMA domain (PCI BARs and bridge windows). */
  pciWindows: { base: number; size: number }[];
}
