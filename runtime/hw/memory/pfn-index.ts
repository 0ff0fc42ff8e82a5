/**
 * An index of page frame numbers: each pfn added gets a dense slot number (0, 1, 2, … in the
 * order pfns were first added), which the stores use to find a page's records in their typed
 * arrays. Open addressing over typed arrays: no object per page, nothing for the garbage
 * collector to trace, and one compare for the page looked up last.
 *
 * @module
 */

import { giveBack, take } from "./pool.ts";

/** 2^32, to split a pfn (< 2^40) into two 32-bit halves for hashing. */
const TWO32 = 2 ** 32;
/** Entries of the recent-lookup cache (a power of two). */
const RECENT = 64;

/** Page frame numbers → dense slots. Slots are never removed. */
export class PfnIndex {
  /** Hash table: pfn + 1 (0: empty bucket). */
  private keys: Float64Array;
  /** Hash table: the slot of the pfn in the same bucket. */
  private vals: Int32Array;
  private mask: number;
  /** 32 - log2(buckets): the shift that keeps a hash's top bits. */
  private shift: number;
  /** The pfn of each slot. */
  private pfns: Float64Array;
  /** Number of slots handed out. */
  size = 0;
  /** A direct-mapped cache of recent lookups (by the pfn's low bits; slots never move). */
  private readonly recentPfn = take(Float64Array, RECENT).fill(-1);
  private readonly recentSlot = take(Int32Array, RECENT);

  constructor(initialBuckets = 1024) {
    this.keys = take(Float64Array, initialBuckets);
    this.vals = take(Int32Array, initialBuckets);
    this.mask = initialBuckets - 1;
    this.shift = Math.clz32(initialBuckets) + 1;
    this.pfns = take(Float64Array, initialBuckets >> 1);
  }

  /** Gives the index's arrays back to the pool (pool.ts); it must not be used afterwards. */
  dispose(): void {
    for (const a of [this.keys, this.pfns, this.recentPfn]) giveBack(a);
    for (const a of [this.vals, this.recentSlot]) giveBack(a);
    this.keys = this.pfns = new Float64Array(0);
    this.vals = new Int32Array(0);
    this.mask = 0;
    this.size = 0;
  }

  /**
   * The bucket of `pfn`: Fibonacci hashing of its two 32-bit halves, keeping the product's top
   * bits (pfns a power of two apart — pages 1 MiB apart, say — spread over all buckets).
   */
  private bucketOf(pfn: number): number {
    const h = Math.imul((pfn | 0) ^ Math.imul((pfn / TWO32) | 0, 0x85eb_ca77), 0x9e37_79b1);
    return h >>> this.shift;
  }

  /** The slot of `pfn`, or -1. */
  get(pfn: number): number {
    const r = (pfn | 0) & (RECENT - 1);
    if (this.recentPfn[r] === pfn) return this.recentSlot[r];
    const keys = this.keys, key = pfn + 1, mask = this.mask;
    for (let b = this.bucketOf(pfn);; b = (b + 1) & mask) {
      const k = keys[b];
      if (k === key) {
        this.recentPfn[r] = pfn;
        return this.recentSlot[r] = this.vals[b];
      }
      if (k === 0) return -1;
    }
  }

  /** The slot of `pfn`, added if absent. */
  add(pfn: number): number {
    const s = this.get(pfn);
    if (s >= 0) return s;
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const slot = this.size++;
    if (slot >= this.pfns.length) {
      const p = take(Float64Array, this.pfns.length * 2);
      p.set(this.pfns);
      this.pfns = p;
    }
    this.pfns[slot] = pfn;
    this.insert(pfn, slot);
    const r = (pfn | 0) & (RECENT - 1);
    this.recentPfn[r] = pfn;
    return this.recentSlot[r] = slot;
  }

  /** The pfn of `slot`. */
  pfnAt(slot: number): number {
    return this.pfns[slot];
  }

  private insert(pfn: number, slot: number): void {
    const keys = this.keys, mask = this.mask;
    let b = this.bucketOf(pfn);
    while (keys[b] !== 0) b = (b + 1) & mask;
    keys[b] = pfn + 1;
    this.vals[b] = slot;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    this.keys = take(Float64Array, n);
    this.vals = take(Int32Array, n);
    this.mask = n - 1;
    this.shift = Math.clz32(n) + 1;
    for (let s = 0; s < this.size; s++) this.insert(this.pfns[s], s);
  }
}
