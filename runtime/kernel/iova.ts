/**
 * The IOVA allocator of a DMA domain, as Linux 4.13's iova.c behaves for the AMD driver:
 * top-down below a limit, next-fit from the last allocation (the cached node, which moves
 * up again when something above it is freed), reserved ranges kept out (the MSI window,
 * the HyperTransport range, PCI BARs and bridge windows), and a range cache (rcache) that
 * recycles freed IOVAs of up to 32 pages LIFO — so a driver that unmaps and maps buffers
 * of one size keeps getting the same addresses.
 *
 * Unmapped ranges go through a flush queue first: their IOVAs are reused only after the
 * domain's IOTLB was flushed (every 256 entries or 10 ms), as 4.13's queue_iova does.
 *
 * Addresses are page frame numbers (IOVA >> 12).
 *
 * @module
 */

interface Node {
  lo: number;
  hi: number; // inclusive
  reserved: boolean;
}

/** Largest size (pages) the rcache keeps: IOVA_RANGE_CACHE_MAX_SIZE 6 → 2^5 pages. */
const RCACHE_MAX_PAGES = 32;
/** Entries kept per size class (one loaded magazine + depot, roughly). */
const RCACHE_DEPTH = 256;

/** One domain's IOVA space. */
export class IovaDomain {
  /**
   * Allocated and reserved ranges, sorted by lo *descending* (allocations go top-down, so a
   * new range usually goes at the end). Among equal lo, the earlier inserted comes first.
   */
  private nodes: Node[] = [];
  private cachedHi: number; // exclusive upper bound where the next top-down search starts
  private readonly rcache = new Map<number, number[]>();
  /** Unmapped ranges waiting for a flush: [pfn, pages]. */
  readonly flushQueue: [number, number][] = [];

  constructor(
    /** Lowest allocatable pfn (IOVA_START_PFN = 1). */
    readonly startPfn: number,
    /** The 32-bit limit pfn (DMA_32BIT_PFN) the cached node belongs to. */
    readonly pfn32: number,
  ) {
    this.cachedHi = pfn32 + 1;
  }

  /** reserve_iova(): keeps [loPfn, hiPfn] out of allocations. */
  reserve(loPfn: number, hiPfn: number): void {
    this.insert({ lo: loPfn, hi: hiPfn, reserved: true });
  }

  /** Index of the first node whose lo is below `pfn` (binary search; nodes.length if none). */
  private firstBelow(pfn: number): number {
    let lo = 0, hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.nodes[mid].lo >= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insert(n: Node): void {
    const i = this.firstBelow(n.lo);
    if (i === this.nodes.length) this.nodes.push(n);
    else this.nodes.splice(i, 0, n);
  }

  /** alloc_iova_fast(): `pages` pages at or below `limitPfn` (inclusive), or 0. */
  allocFast(pages: number, limitPfn: number, sizeAligned: boolean): number {
    if (pages <= RCACHE_MAX_PAGES) {
      const list = this.rcache.get(pages);
      if (list) {
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i] + pages - 1 > limitPfn) continue;
          return i === list.length - 1 ? list.pop()! : list.splice(i, 1)[0];
        }
      }
    }
    return this.alloc(pages, limitPfn, sizeAligned);
  }

  /** alloc_iova(): next-fit top-down search, or 0 when no gap fits. */
  alloc(pages: number, limitPfn: number, sizeAligned: boolean): number {
    const fromCache = limitPfn === this.pfn32;
    let top = fromCache ? Math.min(this.cachedHi, limitPfn + 1) : limitPfn + 1;
    for (let pass = 0; pass < 2; pass++) {
      const pfn = this.search(pages, top, sizeAligned);
      if (pfn) {
        this.insert({ lo: pfn, hi: pfn + pages - 1, reserved: false });
        if (fromCache) this.cachedHi = pfn;
        return pfn;
      }
      top = limitPfn + 1; // second pass: from the limit (the search from the cache failed)
      if (!fromCache) break;
    }
    return 0;
  }

  /** Top-down over the gaps below `top` (exclusive): the highest fitting pfn, or 0. */
  private search(pages: number, top: number, sizeAligned: boolean): number {
    let hi = top; // exclusive
    for (let i = this.firstBelow(top); i <= this.nodes.length; i++) {
      const n = i < this.nodes.length ? this.nodes[i] : undefined;
      if (n && n.lo >= hi) continue;
      const gapLo = n ? n.hi + 1 : this.startPfn;
      let pfn = hi - pages;
      if (sizeAligned) pfn = Math.floor(pfn / pages) * pages;
      if (pfn >= gapLo && pfn >= this.startPfn) return pfn;
      if (!n) break;
      hi = Math.min(hi, n.lo);
    }
    return 0;
  }

  /** Puts an IOVA range back (rcache for small sizes, else the tree). */
  free(pfn: number, pages: number): void {
    if (pages <= RCACHE_MAX_PAGES) {
      const list = this.rcache.get(pages) ?? [];
      if (list.length < RCACHE_DEPTH) {
        list.push(pfn);
        this.rcache.set(pages, list);
        return;
      }
    }
    // The node of `pfn`: the last with the lowest lo not below pfn (the first in lo order).
    const i = this.firstBelow(pfn) - 1;
    if (i < 0 || this.nodes[i].lo !== pfn || this.nodes[i].reserved) {
      throw new Error(`free_iova: pfn 0x${pfn.toString(16)} not allocated`);
    }
    const n = this.nodes[i];
    this.nodes.splice(i, 1);
    if (n.lo >= this.cachedHi) {
      const above = i > 0 ? this.nodes[i - 1] : undefined;
      this.cachedHi = above ? above.lo : this.pfn32 + 1;
    }
  }

  /** Allocated (non-reserved) ranges, for inspection. */
  allocated(): { lo: number; hi: number }[] {
    const out: { lo: number; hi: number }[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (!n.reserved) out.push({ lo: n.lo, hi: n.hi });
    }
    return out;
  }
}

/** __roundup_pow_of_two. */
export function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
