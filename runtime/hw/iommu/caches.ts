/**
 * The IOMMU's caches: a DTE cache and an IOTLB. Only commands invalidate them (and reset);
 * software that changes a DTE or a PTE without the right command keeps seeing stale
 * translations — the behaviour the kernel's flushes exist for.
 *
 * Both are bounded and evict the oldest entry (insertion order), deterministically. Both keep
 * their entries in typed arrays ({@link FifoTable}); the DMA path works with slot numbers,
 * and `clear()` is a generation bump.
 *
 * @module
 */
import { placed } from "../bits.ts";
import { DTE } from "../layouts/dte.ts";
import { FifoTable } from "./fifo-table.ts";

/** A cached DTE as {@link DteCache.get} shows it: its four qwords as dwords (a copy), and the SE "fault already logged" latch. */
export interface CachedDte {
  words: Uint32Array;
  faultLogged: boolean;
}

/** A DTE fetch's answer when the DeviceID lies beyond the device table's size. */
export const DTE_BEYOND_TABLE = -1;
/** A DTE fetch's answer when the DTE's address is not RAM (DEV_TAB_HARDWARE_ERROR). */
export const DTE_READ_FAILED = -2;

const [V_D, V_S] = placed(DTE.field("V"));
const [TV_D, TV_S] = placed(DTE.field("TV"));
const [IR_D, IR_S] = placed(DTE.field("IR"));
const [IW_D, IW_S] = placed(DTE.field("IW"));
const [MODE_D, MODE_S, MODE_M] = placed(DTE.field("Mode"));
const [DOMID_D, DOMID_S, DOMID_M] = placed(DTE.field("DomainID"));
const [RSVD0, RSVD1, RSVD2, RSVD3] = DTE.reservedMask;

/** Where the summary's fields go: DomainID from bit 0, Mode above it, then the flags. */
const SUM_MODE_SHIFT = 32 - Math.clz32(DOMID_M);
const SUM_FLAGS = SUM_MODE_SHIFT + 32 - Math.clz32(MODE_M);

/**
 * The translation half of a cached DTE as the DMA path tests it, decoded once when the entry
 * is cached (see {@link DteCache.summary}): DomainID in the low bits, Mode above it (their
 * widths from the DTE layout: bits 0–15 and 16–18), then one bit each for V, TV, IR, IW and
 * "a reserved bit of q0/q1 is set".
 */
export const DTE_SUM = {
  DOMID_MASK: DOMID_M,
  MODE_SHIFT: SUM_MODE_SHIFT,
  MODE_MASK: MODE_M,
  V: 1 << SUM_FLAGS,
  TV: 1 << (SUM_FLAGS + 1),
  IR: 1 << (SUM_FLAGS + 2),
  IW: 1 << (SUM_FLAGS + 3),
  RSVD: 1 << (SUM_FLAGS + 4),
} as const;

/** {@link DTE_SUM}'s summary of the DTE in `w[o..o+7]`. */
export function summarizeDte(w: ArrayLike<number>, o = 0): number {
  return ((w[o + DOMID_D] >>> DOMID_S) & DOMID_M) |
    (((w[o + MODE_D] >>> MODE_S) & MODE_M) << DTE_SUM.MODE_SHIFT) |
    (((w[o + V_D] >>> V_S) & 1) ? DTE_SUM.V : 0) |
    (((w[o + TV_D] >>> TV_S) & 1) ? DTE_SUM.TV : 0) |
    (((w[o + IR_D] >>> IR_S) & 1) ? DTE_SUM.IR : 0) |
    (((w[o + IW_D] >>> IW_S) & 1) ? DTE_SUM.IW : 0) |
    ((w[o] & RSVD0) | (w[o + 1] & RSVD1) | (w[o + 2] & RSVD2) | (w[o + 3] & RSVD3)
      ? DTE_SUM.RSVD
      : 0);
}

/** DTE cache, keyed by DeviceID. */
export class DteCache {
  private readonly table: FifoTable;
  /** Eight dwords per slot. */
  readonly words: Uint32Array;
  private readonly logged: Uint8Array;
  /** Per slot, the {@link summarizeDte} of its words (decoded when they were cached). */
  private readonly sums: Int32Array;
  /** A view of each slot's eight dwords (made once). */
  private readonly views: Uint32Array[] = [];

  constructor(readonly capacity: number) {
    this.table = new FifoTable(capacity);
    this.words = new Uint32Array(capacity * 8);
    this.logged = new Uint8Array(capacity);
    this.sums = new Int32Array(capacity);
    for (let s = 0; s < capacity; s++) this.views.push(this.words.subarray(s * 8, s * 8 + 8));
  }

  /** The slot caching `devid`'s DTE, or -1. */
  find(devid: number): number {
    return this.table.find(devid, 0);
  }

  /** Caches `devid`'s DTE (eight dwords of `words`); returns its slot. */
  store(devid: number, words: ArrayLike<number>): number {
    let s = this.table.find(devid, 0);
    if (s < 0) s = this.table.add(devid, 0);
    for (let i = 0; i < 8; i++) this.words[s * 8 + i] = words[i];
    this.sums[s] = summarizeDte(this.words, s * 8);
    this.logged[s] = 0;
    return s;
  }

  /** The DMA path's summary of `slot`'s DTE ({@link DTE_SUM}), decoded when it was cached. */
  summary(slot: number): number {
    return this.sums[slot];
  }

  /** The cached words of `slot` (a view into the cache: valid until the slot is reused). */
  view(slot: number): Uint32Array {
    return this.views[slot];
  }

  /** Whether an IO_PAGE_FAULT was logged through `slot`'s entry (for DTE.SE). */
  faultLogged(slot: number): boolean {
    return this.logged[slot] === 1;
  }

  /** Sets the SE latch of `slot`. */
  setFaultLogged(slot: number): void {
    this.logged[slot] = 1;
  }

  /** The cached DTE of `devid` (a copy), or undefined. */
  get(devid: number): CachedDte | undefined {
    const s = this.find(devid);
    if (s < 0) return undefined;
    return { words: this.views[s].slice(), faultLogged: this.logged[s] === 1 };
  }

  /** Caches `devid`'s DTE (a put of a cached DeviceID replaces it and keeps its age). */
  put(devid: number, words: Uint32Array): CachedDte {
    const s = this.store(devid, words);
    return { words: this.views[s].slice(), faultLogged: false };
  }

  /** INVALIDATE_DEVTAB_ENTRY. */
  invalidate(devid: number): void {
    const s = this.find(devid);
    if (s >= 0) this.table.remove(s);
  }

  /** INVALIDATE_IOMMU_ALL. */
  clear(): void {
    this.table.clear();
  }

  /** DeviceIDs currently cached, oldest first. */
  keys(): number[] {
    return this.table.slots().map((s) => this.table.a(s));
  }
}

/** One IOTLB entry: translation of a 4 KiB IOVA page inside a domain. */
export interface IotlbEntry {
  /** SPA of the 4 KiB frame. */
  spaPage: number;
  ir: boolean;
  iw: boolean;
}

/** IOTLB, tagged by DomainID (as the AMD IOMMU tags it). */
export class Iotlb {
  private readonly table: FifoTable;
  private readonly spa: Float64Array;
  /** Bit 0: IR, bit 1: IW. */
  private readonly perm: Uint8Array;
  /**
   * DomainIDs in the order they were first cached since the last clear (or since all of
   * theirs were invalidated at once), for {@link domainIds}.
   */
  private domains: number[] = [];
  private readonly domainSet = new Set<number>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {
    this.table = new FifoTable(capacity);
    this.spa = new Float64Array(capacity);
    this.perm = new Uint8Array(capacity);
  }

  /** The slot translating `iovaPage` of `domid`, or -1 (counted as a hit or a miss). */
  find(domid: number, iovaPage: number): number {
    const s = this.table.find(domid, iovaPage);
    if (s >= 0) this.hits++;
    else this.misses++;
    return s;
  }

  /** SPA of the frame cached in `slot`. */
  spaPage(slot: number): number {
    return this.spa[slot];
  }

  /** Whether `slot` allows reads. */
  ir(slot: number): boolean {
    return (this.perm[slot] & 1) !== 0;
  }

  /** Whether `slot` allows writes. */
  iw(slot: number): boolean {
    return (this.perm[slot] & 2) !== 0;
  }

  /** The entry translating `iovaPage` of `domid` (a copy), or undefined. */
  lookup(domid: number, iovaPage: number): IotlbEntry | undefined {
    const s = this.find(domid, iovaPage);
    return s < 0 ? undefined : { spaPage: this.spa[s], ir: this.ir(s), iw: this.iw(s) };
  }

  /** Caches a translation (a page already cached is updated in place and keeps its age). */
  put(domid: number, iovaPage: number, spaPage: number, ir: boolean, iw: boolean): void {
    let s = this.table.find(domid, iovaPage);
    if (s < 0) {
      s = this.table.add(domid, iovaPage);
      if (!this.domainSet.has(domid)) {
        this.domainSet.add(domid);
        this.domains.push(domid);
      }
    }
    this.spa[s] = spaPage;
    this.perm[s] = (ir ? 1 : 0) | (iw ? 2 : 0);
  }

  /** Caches a translation given as an entry. */
  insert(domid: number, iovaPage: number, e: IotlbEntry): void {
    this.put(domid, iovaPage, e.spaPage, e.ir, e.iw);
  }

  /** INVALIDATE_IOMMU_PAGES: drop the domain's entries whose page lies in [first, first+size). */
  invalidateRange(domid: number, first: number, size: number): number {
    if (!this.domainSet.has(domid)) return 0;
    let n = 0;
    for (const s of this.table.slots()) {
      if (this.table.a(s) !== domid) continue;
      const addr = this.table.b(s) * 4096;
      if (size === Infinity || (addr >= first && addr < first + size)) {
        this.table.remove(s);
        n++;
      }
    }
    if (size === Infinity) {
      this.domainSet.delete(domid);
      this.domains = this.domains.filter((d) => d !== domid);
    }
    return n;
  }

  /** INVALIDATE_IOMMU_ALL. */
  clear(): void {
    this.table.clear();
    if (this.domains.length) {
      this.domains = [];
      this.domainSet.clear();
    }
  }

  /** Number of cached translations. */
  get count(): number {
    return this.table.size;
  }

  /** Domains with cached translations. */
  domainIds(): number[] {
    const live = new Set(this.table.slots().map((s) => this.table.a(s)));
    return this.domains.filter((d) => live.has(d));
  }
}
