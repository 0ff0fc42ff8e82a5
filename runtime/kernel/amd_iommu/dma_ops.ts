/**
 * amd_iommu_dma_ops (4.13): map_page / unmap_page / alloc_coherent / free_coherent on top
 * of get_domain(), the IOVA allocator (dma_ops_alloc_iova: below 4 GiB first, then the
 * device's mask) and the domain's page table. Unmaps are lazy: PTEs are cleared at once,
 * the IOTLB flush and the IOVA release wait in a flush queue (256 entries or 10 ms).
 *
 * @module
 */
import { PAGE_SIZE } from "../../hw/memory.ts";
import { getOrder, GFP } from "../alloc.ts";
import type { CoherentBuf, DmaDir, DmaOps } from "../dma.ts";
import { roundupPow2 } from "../iova.ts";
import type { PciDev } from "../pci.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { get_domain, iommu_map_pages, iommu_unmap_pages } from "./domain.ts";
import type { ProtectionDomain } from "./types.ts";

const FLUSH_QUEUE_SIZE = 256;

/**
 * dir2prot(): the I/O PTE permissions of a streaming mapping follow its DMA direction — a
 * buffer the device only reads (DMA_TO_DEVICE) gets IR, one it only writes (DMA_FROM_DEVICE)
 * IW, a bidirectional one both.
 */
export function dir2prot(dir: DmaDir): { read: boolean; write: boolean } {
  return { read: dir !== "from-device", write: dir !== "to-device" };
}
const FLUSH_TIMEOUT_NS = 10_000_000;

/** The AMD DMA operations of one kernel. */
export class AmdDmaOps implements DmaOps {
  /** The ops' name, as struct dma_map_ops is known in the kernel. */
  readonly name = "amd_iommu_dma_ops";
  private readonly flushTimers = new Set<ProtectionDomain>();

  /** The DMA operations of the driver `d` (its kernel's amd_iommu_dma_ops). */
  constructor(private readonly d: AmdIommuDriver) {}

  /** dma_ops_alloc_iova(): below 4 GiB first when the mask allows more, then the mask. */
  private alloc_iova(dom: ProtectionDomain, pages: number, maskBits: number): number {
    const iovad = dom.iovad!;
    const n = roundupPow2(pages);
    const maskPfn = Math.min(2 ** (maskBits - 12) - 1, 2 ** 40 - 1);
    let pfn = 0;
    if (maskBits > 32) pfn = iovad.allocFast(n, iovad.pfn32, false);
    if (!pfn) pfn = iovad.allocFast(n, maskPfn, true);
    return pfn * PAGE_SIZE;
  }

  /**
   * The domain a DMA-API call on `dev` uses (get_domain()): "direct" when no IOMMU handles
   * the device (-EINVAL: no translation), undefined when the call fails (-EBUSY).
   */
  private domainFor(dev: PciDev): ProtectionDomain | "direct" | undefined {
    const r = get_domain(this.d, dev);
    if ("err" in r) return r.err === "EINVAL" ? "direct" : undefined;
    return r.domain;
  }

  /** map_page(): IOVA pages mapped with dir2prot(dir). */
  map_page(dev: PciDev, phys: number, size: number, dir: DmaDir): number | undefined {
    const dom = this.domainFor(dev);
    if (dom === "direct") return phys;
    if (!dom) return undefined;
    const first = Math.floor(phys / PAGE_SIZE) * PAGE_SIZE;
    const pages = Math.ceil((phys + size - first) / PAGE_SIZE);
    const iova = this.alloc_iova(dom, pages, dev.dmaMaskBits);
    if (!iova) return undefined;
    // dir2prot(dir), without the object.
    if (!this.mapPages(dom, iova, first, pages, dir !== "from-device", dir !== "to-device")) {
      return undefined;
    }
    return iova + (phys - first);
  }

  /**
   * Maps `pages` pages at `iova` → `phys` with the given permissions; on -ENOMEM (no page for a
   * table level) unmaps the pages mapped so far and frees the IOVA range (__map_single's
   * out_unmap path): false.
   */
  private mapPages(
    dom: ProtectionDomain,
    iova: number,
    phys: number,
    pages: number,
    read: boolean,
    write: boolean,
  ): boolean {
    // iommu_map_page for each page in turn, up to the first that fails.
    const mapped = iommu_map_pages(this.d, dom, iova, phys, pages, read, write);
    if (mapped === pages) return true;
    iommu_unmap_pages(this.d, dom, iova, mapped);
    this.d.domain_flush_pages(dom, 0, Infinity, false);
    dom.iovad!.free(iova / PAGE_SIZE, roundupPow2(pages)); // dma_ops_free_iova
    return false;
  }

  /** unmap_page(): clear PTEs now, flush + free the IOVA later. */
  unmap_page(dev: PciDev, dma: number, size: number): void {
    const dom = this.domainFor(dev);
    if (dom === "direct" || !dom) return;
    const first = Math.floor(dma / PAGE_SIZE) * PAGE_SIZE;
    const pages = Math.ceil((dma + size - first) / PAGE_SIZE);
    iommu_unmap_pages(this.d, dom, first, pages); // iommu_unmap_page for each page
    const q = dom.iovad!.flushQueue;
    q.push([first / PAGE_SIZE, roundupPow2(pages)]);
    if (q.length >= FLUSH_QUEUE_SIZE) this.flush(dom);
    else if (!this.flushTimers.has(dom)) {
      this.flushTimers.add(dom);
      this.d.k.schedule(FLUSH_TIMEOUT_NS, () => {
        this.flushTimers.delete(dom);
        this.flush(dom);
      }, "iova-flush");
    }
  }

  /** iova_domain_flush(): flush the domain's IOTLB, then release the queued IOVAs. */
  private flush(dom: ProtectionDomain): void {
    const q = dom.iovad!.flushQueue;
    if (!q.length) return;
    this.d.domain_flush_pages(dom, 0, Infinity, false);
    for (const [pfn, n] of q.splice(0)) dom.iovad!.free(pfn, n);
  }

  /** alloc_coherent(): zeroed pages, mapped bidirectional (IR and IW) with the coherent mask. */
  alloc_coherent(dev: PciDev, size: number, what: string): CoherentBuf | undefined {
    const dom = this.domainFor(dev);
    const cpu = this.d.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, getOrder(size), what, dev.devid);
    if (cpu === undefined) return undefined;
    if (dom === "direct") return { cpu, dma: cpu, size };
    if (!dom) {
      this.d.k.alloc.freePages(cpu);
      return undefined;
    }
    const pages = size / PAGE_SIZE;
    const iova = this.alloc_iova(dom, pages, dev.dmaMaskBits);
    if (!iova || !this.mapPages(dom, iova, cpu, pages, true, true)) {
      this.d.k.alloc.freePages(cpu); // out_free: __free_pages
      return undefined;
    }
    return { cpu, dma: iova, size };
  }

  /** free_coherent(). */
  free_coherent(dev: PciDev, buf: CoherentBuf): void {
    this.unmap_page(dev, buf.dma, buf.size);
    this.d.k.alloc.freePages(buf.cpu);
  }
}
