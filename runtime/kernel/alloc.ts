/**
 * The page allocator of one kernel: zones (DMA32 below 4 GiB, Normal above), naturally
 * aligned blocks of 2^order pages handed out top-down (the way a freshly booted buddy
 * allocator tends to), confined to the kernel's own memory. Every block handed out gets an
 * owner tag in physical memory, so the lab can tell whose memory a stray DMA write hit.
 *
 * @module
 */
import type { OwnerWho, PhysMem } from "../hw/memory.ts";
import { PAGE_SIZE } from "../hw/memory.ts";

/** GFP flags (the model's own bit values; names as in Linux). */
export const GFP = {
  KERNEL: 0x1,
  /** Restrict the allocation to ZONE_DMA32 (below 4 GiB). */
  DMA32: 0x4,
  /** Zero the pages. */
  ZERO: 0x100,
} as const;

/** Renders GFP flags the way the kernel source spells them: `GFP_KERNEL|__GFP_ZERO`. */
export function gfpText(gfp: number): string {
  const parts: string[] = [];
  if (gfp & GFP.KERNEL) parts.push("GFP_KERNEL");
  if (gfp & GFP.ZERO) parts.push("__GFP_ZERO");
  if (gfp & GFP.DMA32) parts.push("GFP_DMA32");
  return parts.join("|") || "0";
}

/** 4 GiB: the end of ZONE_DMA32. */
export const DMA32_LIMIT = 0x1_0000_0000;

/** get_order(size): the smallest order whose block holds `bytes`. */
export function getOrder(bytes: number): number {
  let order = 0;
  for (let block = PAGE_SIZE; block < bytes; block *= 2) order++;
  return order;
}

interface Range {
  lo: number;
  hi: number;
}

/** Zone names. */
export type Zone = "DMA32" | "Normal";

/** One kernel's page allocator. */
export class PageAllocator {
  private readonly zones: Record<Zone, Range[]> = { DMA32: [], Normal: [] };
  /** Sizes of the blocks handed out, by first page frame number. */
  private readonly live = new Map<number, number>();
  /** Pages currently allocated. */
  allocatedPages = 0;
  /** Failed allocations. */
  failures = 0;

  /**
   * An allocator over `ranges` of `mem`, split into the DMA32 zone (below 4 GiB) and the
   * Normal zone above it, whole pages only.
   */
  constructor(
    private readonly mem: PhysMem,
    /** Who the allocated pages belong to. */
    readonly who: OwnerWho,
    /** The kernel's usable memory. */
    ranges: readonly { base: number; size: number }[],
    /**
     * Who freed pages go back to: "free", or "crashkernel" for a kdump kernel, whose memory
     * is the crash kernel reserve (default: by `who`, kernel2 being the kdump kernel).
     */
    readonly freedTo: OwnerWho = who === "kernel1" ? "free" : "crashkernel",
  ) {
    for (const r of ranges) {
      const lo = Math.ceil(r.base / PAGE_SIZE) * PAGE_SIZE;
      const hi = Math.floor((r.base + r.size) / PAGE_SIZE) * PAGE_SIZE;
      if (lo < DMA32_LIMIT) this.addFree("DMA32", lo, Math.min(hi, DMA32_LIMIT));
      if (hi > DMA32_LIMIT) this.addFree("Normal", Math.max(lo, DMA32_LIMIT), hi);
    }
  }

  /** Adds [lo, hi) to the zone's free list (sorted by lo, touching ranges merged). */
  private addFree(zone: Zone, lo: number, hi: number): void {
    if (hi <= lo) return;
    const list = this.zones[zone];
    // After the ranges starting at or below lo (a stable insertion, as a sort would place it).
    let a = 0, b = list.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (list[mid].lo <= lo) a = mid + 1;
      else b = mid;
    }
    let i = a;
    list.splice(i, 0, { lo, hi });
    // Merge with the ranges before and after while they touch or overlap.
    while (i > 0 && list[i - 1].hi >= list[i].lo) {
      list[i - 1].hi = Math.max(list[i - 1].hi, list[i].hi);
      list.splice(i, 1);
      i--;
    }
    while (i + 1 < list.length && list[i].hi >= list[i + 1].lo) {
      list[i].hi = Math.max(list[i].hi, list[i + 1].hi);
      list.splice(i + 1, 1);
    }
  }

  /** Free bytes per zone. */
  freeBytes(): Record<Zone, number> {
    const sum = (l: Range[]) => l.reduce((s, r) => s + r.hi - r.lo, 0);
    return { DMA32: sum(this.zones.DMA32), Normal: sum(this.zones.Normal) };
  }

  /** A block of `size` bytes (naturally aligned) from the top of `list`, or -1. */
  private take(list: Range[], size: number): number {
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i];
      const at = Math.floor((r.hi - size) / size) * size;
      if (at < r.lo) continue;
      // The block splits r into what lies below and above it (either may be empty).
      const below = at > r.lo, above = at + size < r.hi;
      if (below && above) list.splice(i + 1, 0, { lo: at + size, hi: r.hi });
      if (below) r.hi = at;
      else if (above) r.lo = at + size;
      else list.splice(i, 1);
      return at;
    }
    return -1;
  }

  /**
   * alloc_pages(gfp, order): a naturally aligned block of 2^order pages, or undefined.
   * GFP_DMA32 restricts it to ZONE_DMA32; otherwise ZONE_NORMAL is tried first, then
   * DMA32 (the zonelist fallback). `what` names the contents for owner tags.
   */
  allocPages(gfp: number, order: number, what: string, dev?: number): number | undefined {
    const size = PAGE_SIZE * 2 ** order;
    // The zonelist: Normal first, then DMA32 (DMA32 only, with GFP_DMA32).
    let at = gfp & GFP.DMA32 ? -1 : this.take(this.zones.Normal, size);
    if (at < 0) at = this.take(this.zones.DMA32, size);
    if (at < 0) {
      this.failures++;
      return undefined;
    }
    this.live.set(at / PAGE_SIZE, size);
    this.allocatedPages += size / PAGE_SIZE;
    this.mem.setOwner(at, size, { who: this.who, what, dev });
    if (gfp & GFP.ZERO) this.mem.zero(at, size);
    return at;
  }

  /** free_pages: returns a block to its zone; the pages become "free" again. */
  freePages(addr: number): void {
    const size = this.live.get(addr / PAGE_SIZE);
    if (size === undefined) throw new Error(`free_pages: 0x${addr.toString(16)} was not allocated`);
    this.live.delete(addr / PAGE_SIZE);
    this.allocatedPages -= size / PAGE_SIZE;
    this.mem.setOwner(addr, size, { who: this.freedTo, what: "free" });
    if (addr < DMA32_LIMIT) this.addFree("DMA32", addr, Math.min(addr + size, DMA32_LIMIT));
    if (addr + size > DMA32_LIMIT) this.addFree("Normal", Math.max(addr, DMA32_LIMIT), addr + size);
  }

  /** Zone of an address. */
  static zoneOf(addr: number): Zone {
    return addr < DMA32_LIMIT ? "DMA32" : "Normal";
  }
}
