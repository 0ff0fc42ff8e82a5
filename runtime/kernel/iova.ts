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

/** Largest size (pages) the rcache keeps: IOVA_RANGE_CACHE_MAX_SIZE 6 → 2^5 pages. */
const RCACHE_MAX_PAGES = 32;
/** Entries kept per size class (one loaded magazine + depot, roughly). */
const RCACHE_DEPTH = 256;

/** One domain's IOVA space. */
export class IovaDomain {
  /**
   * Allocated and reserved ranges, sorted by lo *descending* (allocations go top-down, so a
   * new range usually goes at the end). Among equal lo, the earlier inserted comes first.
   * Kept in parallel arrays of numbers (`count` of them): no object per range.
   */
  private readonly lo: number[] = [];
  private readonly hi: number[] = []; // inclusive
  private readonly reserved: number[] = []; // 1: reserved
  private count = 0;
  private cachedHi: number; // exclusive upper bound where the next top-down search starts
  private readonly rcache = new Map<number, number[]>();
  /** Unmapped ranges waiting for a flush: [pfn, pages]. */
  readonly flushQueue: [number, number][] = [];

  /** An empty IOVA space: allocations between `startPfn` and the mask's limit. */
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
    this.insert(loPfn, hiPfn, true);
  }

  /** Index of the first node whose lo is below `pfn` (binary search; count if none). */
  private firstBelow(pfn: number): number {
    const los = this.lo;
    let lo = 0, hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (los[mid] >= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts the range [lo, hi] (allocated, or `reserved`) in its place in the order. */
  private insert(lo: number, hi: number, reserved: boolean): void {
    const i = this.firstBelow(lo), n = this.count;
    const los = this.lo, his = this.hi, res = this.reserved;
    // The ranges below `lo` move up one (few: allocations go top-down, below the others).
    los.push(lo);
    his.push(hi);
    res.push(0);
    for (let j = n; j > i; j--) {
      los[j] = los[j - 1];
      his[j] = his[j - 1];
      res[j] = res[j - 1];
    }
    los[i] = lo;
    his[i] = hi;
    res[i] = reserved ? 1 : 0;
    this.count = n + 1;
  }

  /** Removes the range at index `i`. */
  private remove(i: number): void {
    this.lo.splice(i, 1);
    this.hi.splice(i, 1);
    this.reserved.splice(i, 1);
    this.count--;
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
        this.insert(pfn, pfn + pages - 1, false);
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
    const los = this.lo, his = this.hi, n = this.count;
    let hi = top; // exclusive
    for (let i = this.firstBelow(top); i <= n; i++) {
      const last = i === n;
      if (!last && los[i] >= hi) continue;
      const gapLo = last ? this.startPfn : his[i] + 1;
      let pfn = hi - pages;
      if (sizeAligned) pfn = Math.floor(pfn / pages) * pages;
      if (pfn >= gapLo && pfn >= this.startPfn) return pfn;
      if (last) break;
      hi = Math.min(hi, los[i]);
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
    if (i < 0 || this.lo[i] !== pfn || this.reserved[i]) {
      throw new Error(`free_iova: pfn 0x${pfn.toString(16)} not allocated`);
    }
    const lo = this.lo[i];
    this.remove(i);
    if (lo >= this.cachedHi) {
      this.cachedHi = i > 0 ? this.lo[i - 1] : this.pfn32 + 1;
    }
  }

  /** Allocated (non-reserved) ranges, for inspection. */
  allocated(): { lo: number; hi: number }[] {
    const out: { lo: number; hi: number }[] = [];
    for (let i = this.count - 1; i >= 0; i--) {
      if (!this.reserved[i]) out.push({ lo: this.lo[i], hi: this.hi[i] });
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
