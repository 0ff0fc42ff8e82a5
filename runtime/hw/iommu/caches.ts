/**
 * The IOMMU's caches: a DTE cache and an IOTLB. Only commands invalidate them (and reset);
 * software that changes a DTE or a PTE without the right command keeps seeing stale
 * translations — the behaviour the kernel's flushes exist for.
 *
 * Both are bounded and evict the oldest entry (insertion order), deterministically.
 *
 * @module
 */

/** A cached DTE: its four qwords as dwords, plus the SE "fault already logged" latch. */
export interface CachedDte {
  words: Uint32Array;
  faultLogged: boolean;
}

/** DTE cache, keyed by DeviceID. */
export class DteCache {
  private readonly map = new Map<number, CachedDte>();

  constructor(readonly capacity: number) {}

  get(devid: number): CachedDte | undefined {
    return this.map.get(devid);
  }

  put(devid: number, words: Uint32Array): CachedDte {
    if (this.map.size >= this.capacity && !this.map.has(devid)) {
      this.map.delete(this.map.keys().next().value!);
    }
    const e = { words, faultLogged: false };
    this.map.set(devid, e);
    return e;
  }

  /** INVALIDATE_DEVTAB_ENTRY. */
  invalidate(devid: number): void {
    this.map.delete(devid);
  }

  /** INVALIDATE_IOMMU_ALL. */
  clear(): void {
    this.map.clear();
  }

  /** DeviceIDs currently cached. */
  keys(): number[] {
    return [...this.map.keys()];
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
  private readonly domains = new Map<number, Map<number, IotlbEntry>>();
  /**
   * Insertion order, as (DomainID, page, entry) records in parallel lists; `head` is the
   * oldest. A record whose entry is no longer the cached one (invalidated, or the page was
   * inserted again later) is stale and skipped.
   */
  private orderDom: number[] = [];
  private orderPage: number[] = [];
  private orderEntry: IotlbEntry[] = [];
  private head = 0;
  private size = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  lookup(domid: number, iovaPage: number): IotlbEntry | undefined {
    const e = this.domains.get(domid)?.get(iovaPage);
    if (e) this.hits++;
    else this.misses++;
    return e;
  }

  insert(domid: number, iovaPage: number, e: IotlbEntry): void {
    let d = this.domains.get(domid);
    if (!d) this.domains.set(domid, d = new Map());
    const cached = d.get(iovaPage);
    if (cached) {
      // Update in place: the entry keeps its age, and its order record stays valid.
      Object.assign(cached, e);
      return;
    }
    while (this.size >= this.capacity && this.head < this.orderDom.length) this.evictOldest();
    this.size++;
    this.orderDom.push(domid);
    this.orderPage.push(iovaPage);
    this.orderEntry.push(e);
    d.set(iovaPage, e);
  }

  /** Evicts the oldest insertion still present (stale order records are skipped). */
  private evictOldest(): void {
    const i = this.head++;
    const d = this.domains.get(this.orderDom[i]);
    if (d && d.get(this.orderPage[i]) === this.orderEntry[i]) {
      d.delete(this.orderPage[i]);
      this.size--;
    }
    if (this.head > 4096 && this.head * 2 > this.orderDom.length) {
      this.orderDom = this.orderDom.slice(this.head);
      this.orderPage = this.orderPage.slice(this.head);
      this.orderEntry = this.orderEntry.slice(this.head);
      this.head = 0;
    }
  }

  /** INVALIDATE_IOMMU_PAGES: drop the domain's entries whose page lies in [first, first+size). */
  invalidateRange(domid: number, first: number, size: number): number {
    const d = this.domains.get(domid);
    if (!d) return 0;
    let n = 0;
    if (size === Infinity) {
      n = d.size;
      this.size -= d.size;
      this.domains.delete(domid);
    } else {
      for (const page of [...d.keys()]) {
        const addr = page * 4096;
        if (addr >= first && addr < first + size) {
          d.delete(page);
          this.size--;
          n++;
        }
      }
    }
    return n;
  }

  /** INVALIDATE_IOMMU_ALL. */
  clear(): void {
    this.domains.clear();
    this.orderDom.length = 0;
    this.orderPage.length = 0;
    this.orderEntry.length = 0;
    this.head = 0;
    this.size = 0;
  }

  /** Number of cached translations. */
  get count(): number {
    return this.size;
  }

  /** Domains with cached translations. */
  domainIds(): number[] {
    return [...this.domains.keys()].filter((d) => this.domains.get(d)!.size > 0);
  }
}
