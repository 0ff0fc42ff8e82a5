/**
 * A bounded table of entries keyed by (a, b) — (DomainID, IOVA page) for the IOTLB, (DeviceID,
 * 0) for the DTE cache — that evicts its oldest insertion when full, kept entirely in typed
 * arrays: entries are slot numbers 0..capacity-1 whose data the caches keep in arrays of their
 * own, found through a chained hash. Dropping everything is a generation bump, not a sweep.
 *
 * Age: an entry is as old as its insertion; finding an existing key again does not make it
 * younger, and a key removed and added again is as young as its new insertion.
 *
 * @module
 */

const TWO32 = 2 ** 32;

/** Slots keyed by (a: int32, b: a number < 2^52), oldest evicted first. */
export class FifoTable {
  private readonly keyA: Int32Array;
  private readonly keyB: Float64Array;
  /** Hash chains: the first slot of each bucket (valid while its generation is current). */
  private readonly bucket: Int32Array;
  private readonly bucketGen: Uint32Array;
  private readonly bucketMask: number;
  private readonly chain: Int32Array;
  /** Insertion order: a doubly linked list from `oldest` to `newest`. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private oldest = -1;
  private newest = -1;
  /** Slots never used since the last clear start here; released ones are stacked. */
  private fresh = 0;
  private readonly freeSlots: Int32Array;
  private freeCount = 0;
  private gen = 1;
  /** The key found last and its slot (-1: none), checked before hashing. */
  private lastA = 0;
  private lastB = 0;
  private lastSlot = -1;
  /** Live entries. */
  size = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`cache capacity ${capacity}`);
    this.keyA = new Int32Array(capacity);
    this.keyB = new Float64Array(capacity);
    this.chain = new Int32Array(capacity);
    this.older = new Int32Array(capacity);
    this.newer = new Int32Array(capacity);
    this.freeSlots = new Int32Array(capacity);
    let n = 4;
    while (n < capacity * 2) n *= 2;
    this.bucket = new Int32Array(n);
    this.bucketGen = new Uint32Array(n);
    this.bucketMask = n - 1;
  }

  private hash(a: number, b: number): number {
    let h = Math.imul(b | 0, 0x9e37_79b1) ^ Math.imul((b / TWO32) | 0, 0x85eb_ca77) ^
      Math.imul(a, 0xc2b2_ae35);
    h ^= h >>> 15;
    return h & this.bucketMask;
  }

  /** The slot of (a, b), or -1. */
  find(a: number, b: number): number {
    if (this.lastSlot >= 0 && a === this.lastA && b === this.lastB) return this.lastSlot;
    const h = this.hash(a, b);
    if (this.bucketGen[h] !== this.gen) return -1;
    for (let s = this.bucket[h]; s >= 0; s = this.chain[s]) {
      if (this.keyA[s] === a && this.keyB[s] === b) {
        this.lastA = a;
        this.lastB = b;
        return this.lastSlot = s;
      }
    }
    return -1;
  }

  /**
   * Adds (a, b), which must not be present, evicting the oldest entry if the table is full;
   * returns its slot (the caller fills in its data).
   */
  add(a: number, b: number): number {
    if (this.size >= this.capacity) this.remove(this.oldest);
    const s = this.freeCount ? this.freeSlots[--this.freeCount] : this.fresh++;
    this.keyA[s] = a;
    this.keyB[s] = b;
    const h = this.hash(a, b);
    if (this.bucketGen[h] !== this.gen) {
      this.bucketGen[h] = this.gen;
      this.bucket[h] = -1;
    }
    this.chain[s] = this.bucket[h];
    this.bucket[h] = s;
    this.older[s] = this.newest;
    this.newer[s] = -1;
    if (this.newest >= 0) this.newer[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
    this.size++;
    return s;
  }

  /** Removes the entry in `slot`. */
  remove(slot: number): void {
    if (slot === this.lastSlot) this.lastSlot = -1;
    const h = this.hash(this.keyA[slot], this.keyB[slot]);
    if (this.bucket[h] === slot) this.bucket[h] = this.chain[slot];
    else {
      let p = this.bucket[h];
      while (this.chain[p] !== slot) p = this.chain[p];
      this.chain[p] = this.chain[slot];
    }
    const o = this.older[slot], n = this.newer[slot];
    if (o >= 0) this.newer[o] = n;
    else this.oldest = n;
    if (n >= 0) this.older[n] = o;
    else this.newest = o;
    this.freeSlots[this.freeCount++] = slot;
    this.size--;
  }

  /** Drops every entry. */
  clear(): void {
    if (++this.gen === TWO32) {
      this.bucketGen.fill(0);
      this.gen = 1;
    }
    this.oldest = this.newest = -1;
    this.lastSlot = -1;
    this.fresh = 0;
    this.freeCount = 0;
    this.size = 0;
  }

  /** The first key of `slot`. */
  a(slot: number): number {
    return this.keyA[slot];
  }

  /** The second key of `slot`. */
  b(slot: number): number {
    return this.keyB[slot];
  }

  /** Live slots, oldest first. */
  slots(): number[] {
    const out: number[] = [];
    for (let s = this.oldest; s >= 0; s = this.newer[s]) out.push(s);
    return out;
  }
}
