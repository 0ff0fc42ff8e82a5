/**
 * The DMA API (dma_map_single, dma_unmap_single, dma_alloc_coherent, ...) dispatching to a
 * device's DMA operations: the IOMMU driver's, or direct (DMA address = physical address)
 * when no IOMMU handles the device.
 *
 * @module
 */
import { PAGE_SIZE } from "../hw/memory.ts";
import { getOrder, GFP } from "./alloc.ts";
import { COST } from "./cost.ts";
import type { Kernel } from "./kernel.ts";
import type { PciDev } from "./pci.ts";

/** DMA direction. */
export type DmaDir = "to-device" | "from-device" | "bidirectional";

/** A coherent buffer: CPU (physical) address and DMA address. */
export interface CoherentBuf {
  /** Physical address of the buffer, as the CPU uses it. */
  cpu: number;
  /** The address the device uses for it (an IOVA behind an IOMMU, else `cpu`). */
  dma: number;
  /** Size in bytes (whole pages). */
  size: number;
}

/** struct dma_map_ops, reduced. */
export interface DmaOps {
  /** The ops' name (`nommu`, `amd_iommu_dma_ops`). */
  readonly name: string;
  /** Maps `size` bytes at `phys` for `dev`: the DMA address, or undefined on a mapping error. */
  map_page(dev: PciDev, phys: number, size: number, dir: DmaDir): number | undefined;
  /** Unmaps what map_page returned at `dma`. */
  unmap_page(dev: PciDev, dma: number, size: number, dir: DmaDir): void;
  /**
   * Allocates a zeroed coherent buffer of `size` bytes (whole pages) for `dev`, its pages
   * tagged `what`; undefined when out of memory or address space.
   */
  alloc_coherent(dev: PciDev, size: number, what: string): CoherentBuf | undefined;
  /** Frees a buffer alloc_coherent returned. */
  free_coherent(dev: PciDev, buf: CoherentBuf): void;
}

/** The DMA API of one kernel. */
export class DmaApi {
  /** Calls of dma_map_single, dma_unmap_single, dma_alloc_coherent, and the failed ones. */
  readonly stats = { maps: 0, unmaps: 0, allocs: 0, errors: 0 };
  /** Direct mapping (no IOMMU): nommu_dma_ops. */
  readonly direct: DmaOps;

  /** The DMA API of kernel `k`. */
  constructor(private readonly k: Kernel) {
    this.direct = {
      name: "nommu",
      // phys_to_dma(): with SME active the C-bit is part of the DMA address (a device whose
      // mask cannot reach it cannot DMA there; 4.14 would bounce through swiotlb).
      map_page: (dev, phys, size) => {
        const dma = k.__sme_set(phys);
        return dma + size - 1 < 2 ** dev.dmaMaskBits ? dma : undefined;
      },
      unmap_page: () => {},
      alloc_coherent: (dev, size, what) => {
        const gfp = dev.dmaMaskBits <= 32 ? GFP.DMA32 | GFP.ZERO : GFP.KERNEL | GFP.ZERO;
        const cpu = k.alloc.allocPages(gfp, getOrder(size), what, dev.devid);
        return cpu === undefined ? undefined : { cpu, dma: k.__sme_set(cpu), size };
      },
      free_coherent: (_dev, buf) => k.alloc.freePages(buf.cpu),
    };
  }

  /** The DMA operations of `dev`: its IOMMU's, or direct. */
  private ops(dev: PciDev): DmaOps {
    return dev.dmaOps ?? this.direct;
  }

  /** dma_set_mask_and_coherent(). */
  dma_set_mask(dev: PciDev, bits: number): void {
    dev.dmaMaskBits = bits;
  }

  /** dma_map_single(): undefined on a mapping error. */
  dma_map_single(dev: PciDev, phys: number, size: number, dir: DmaDir): number | undefined {
    this.k.spend(COST.dmaApiCall);
    this.stats.maps++;
    const dma = this.ops(dev).map_page(dev, phys, size, dir);
    if (dma === undefined) this.stats.errors++;
    return dma;
  }

  /** dma_unmap_single(). */
  dma_unmap_single(dev: PciDev, dma: number, size: number, dir: DmaDir): void {
    this.k.spend(COST.dmaApiCall);
    this.stats.unmaps++;
    this.ops(dev).unmap_page(dev, dma, size, dir);
  }

  /** dma_alloc_coherent() (zeroed, as dma_zalloc_coherent). */
  dma_alloc_coherent(dev: PciDev, size: number, what: string): CoherentBuf | undefined {
    this.k.spend(COST.dmaApiCall);
    this.stats.allocs++;
    const b = this.ops(dev).alloc_coherent(dev, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE, what);
    if (!b) this.stats.errors++;
    return b;
  }

  /** dma_free_coherent(). */
  dma_free_coherent(dev: PciDev, buf: CoherentBuf): void {
    this.ops(dev).free_coherent(dev, buf);
  }
}
