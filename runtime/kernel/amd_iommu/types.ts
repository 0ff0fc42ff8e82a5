/**
 * Data structures of the AMD IOMMU driver (amd_iommu_types.h), reduced to what the model
 * needs.
 *
 * @module
 */
import type { IovaDomain } from "../iova.ts";
import type { RateLimit } from "../printk.ts";

/** struct amd_iommu: one IOMMU as the driver knows it. */
export interface AmdIommuDev {
  /** Index in amd_iommus[] (printed as IOMMU:%d). */
  index: number;
  /** The IOMMU's own DeviceID. */
  devid: number;
  /** Physical base of its MMIO registers (from the IVHD). */
  mmio_base: number;
  /** Physical address of the command buffer (8 KiB). */
  cmd_buf: number;
  /** Physical address of the event log (8 KiB). */
  evt_buf: number;
  /** Physical address of the PPR log (8 KiB), if the IOMMU has PPR support. */
  ppr_log?: number;
  /** Physical address of the GA (guest vAPIC) log (4 KiB), in vAPIC interrupt mode. */
  ga_log?: number;
  /** Physical address the IOMMU writes the GA log's tail pointer to. */
  ga_log_tail?: number;
  /** Physical address of cmd_sem, the COMPLETION_WAIT semaphore (inside struct amd_iommu). */
  cmd_sem: number;
  /** Commands queued since the last completion wait (need_sync). */
  need_sync: boolean;
  /** Whether the IOMMU's MSI has been set up (iommu_init_msi). */
  int_enabled: boolean;
  /** Extended features read from the EFR at init (features). */
  features: { ia: boolean; ppr: boolean; gt: boolean; ga: boolean };
}

/** struct iommu_dev_data. */
export interface IommuDevData {
  /** The device's DeviceID. */
  devid: number;
  /** The protection domain the device is attached to (NULL = none). */
  domain: ProtectionDomain | null;
  /** Per-device ratelimit for IO_PAGE_FAULT prints (amd_iommu_report_page_fault). */
  rs: RateLimit;
}

/** Kinds of protection domains. */
export type DomainType = "dma" | "identity" | "unmanaged";

/** struct protection_domain (+ dma_ops_domain). */
export interface ProtectionDomain {
  /** Domain ID (1–65535), written to the DTEs of its devices and tagging their IOTLB entries. */
  id: number;
  /** A DMA-API domain, an identity (iommu=pt) domain, or an unmanaged one (amd_iommu_v2's). */
  type: DomainType;
  /** Page-table levels (PAGE_MODE_*): 0 = none. */
  mode: number;
  /** Physical address of the root page table (0 if mode 0). */
  pt_root: number;
  /** Devices attached (DeviceIDs). */
  devices: Set<number>;
  /** IOVA space (DMA domains only). */
  iovad?: IovaDomain;
  /** IOMMUv2: GCR3 table, levels, PASIDs. */
  v2?: { gcr3_tbl: number; glx: number };
}

/** PAGE_MODE_* constants. */
export const PAGE_MODE = { NONE: 0, L1: 1, L2: 2, L3: 3, L4: 4, L5: 5, L6: 6 } as const;

/** Sizes the driver uses (CMD_BUFFER_SIZE, EVT_BUFFER_SIZE, PPR_LOG_SIZE). */
export const BUFFER = { CMD: 8192, EVT: 8192, PPR: 8192, LEN_512: 9 } as const;

/** LOOP_TIMEOUT of wait_on_sem: 100000 × udelay(1). */
export const LOOP_TIMEOUT = 100_000;

/** MAX_DOMAIN_ID. */
export const MAX_DOMAIN_ID = 65536;

/** Interrupt remapping: the IntTabLen 4.x writes (DTE_IRQ_TABLE_LEN: 256 entries). */
export const IRQ_TABLE = { LEN: 8 } as const;
