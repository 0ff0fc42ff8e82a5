/**
 * Owner tags of physical pages: who each 4 KiB page belongs to — firmware, free, one of the
 * kernels, the crash kernel reserve — with an optional purpose and device.
 *
 * Small tags (the pages of one allocation) are kept per page, in chunks of page numbers;
 * large ones (memory map regions, the crash kernel reserve, a workload's chunks) as a sorted
 * list of page ranges. A later tag wins: a large tag also clears the small ones under it.
 *
 * @module
 */

import { giveBack, take } from "./memory/pool.ts";

/** Who a page belongs to. */
export type OwnerWho = "free" | "firmware" | "kernel1" | "crashkernel" | "kernel2";

/** Owner tag of a page. */
export interface Owner {
  who: OwnerWho;
  /** What the page holds, e.g. "dev-table", "page-table", "rx-buffer". */
  what?: string;
  /** For DMA buffers: the DeviceID the buffer was mapped for. */
  dev?: number;
}

/** Tags of more pages than this are kept as a range. */
const SMALL_TAG_PAGES = 64;
/** Pages per chunk of the per-page tags. */
const CHUNK_PAGES = 512;

/** The owner tags of one machine's pages (untagged pages are free). */
export class PageOwners {
  private readonly owners: Owner[] = [{ who: "free" }];
  /** Owner ids by who, then what, then dev (`""` stands for a missing what or dev). */
  private readonly ids = new Map<string, Map<string, Map<number | string, number>>>([
    ["free", new Map([["", new Map([["", 0]])]])],
  ]);
  /** Large tags: page ranges [lo, hi), sorted and non-overlapping. */
  private readonly ranges: { lo: number; hi: number; id: number }[] = [];
  /** Small tags: per chunk of pages, owner id + 1 of each page (0: the ranges decide). */
  private readonly chunks = new Map<number, Int32Array>();

  /** The owner {@link idOf} answered last (allocations come in runs of one kind). */
  private lastWho: OwnerWho | undefined;
  private lastWhat: string | undefined;
  private lastDev: number | undefined;
  private lastId = -1;

  private idOf(o: Owner): number {
    if (o.who === this.lastWho && o.what === this.lastWhat && o.dev === this.lastDev) {
      return this.lastId;
    }
    const id = this.lookup(o);
    this.lastWho = o.who;
    this.lastWhat = o.what;
    this.lastDev = o.dev;
    return this.lastId = id;
  }

  private lookup(o: Owner): number {
    let byWhat = this.ids.get(o.who);
    if (!byWhat) this.ids.set(o.who, byWhat = new Map());
    const what = o.what ?? "";
    let byDev = byWhat.get(what);
    if (!byDev) byWhat.set(what, byDev = new Map());
    const dev = o.dev ?? "";
    let id = byDev.get(dev);
    if (id === undefined) {
      id = this.owners.length;
      this.owners.push({ ...o });
      byDev.set(dev, id);
    }
    return id;
  }

  /**
   * Gives the per-page tags' arrays back to the pool (memory/pool.ts) and forgets them: for
   * the memory of a finished run, which no one reads again.
   */
  dispose(): void {
    for (const c of this.chunks.values()) giveBack(c);
    this.chunks.clear();
    this.lastC = -1;
    this.lastChunk = undefined;
  }

  /** Tags pages [lo, hi) with `owner`. */
  tag(lo: number, hi: number, owner: Owner): void {
    const id = this.idOf(owner);
    if (hi - lo <= SMALL_TAG_PAGES) this.fill(lo, hi, id + 1);
    else {
      this.clear(lo, hi);
      this.paint(lo, hi, id);
    }
  }

  /** The owner of page `pfn`. */
  of(pfn: number): Owner {
    const c = Math.floor(pfn / CHUNK_PAGES);
    const small = this.chunkOf(c)?.[pfn - c * CHUNK_PAGES];
    if (small) return this.owners[small - 1];
    const rs = this.ranges;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (pfn < r.lo) hi = mid - 1;
      else if (pfn >= r.hi) lo = mid + 1;
      else return this.owners[r.id];
    }
    return this.owners[0];
  }

  /** The chunk of per-page tags looked up last, and its number (a run of lookups nearby). */
  private lastC = -1;
  private lastChunk: Int32Array | undefined;

  /** Chunk `c` of the per-page tags, if any. */
  private chunkOf(c: number): Int32Array | undefined {
    if (c !== this.lastC) {
      this.lastC = c;
      this.lastChunk = this.chunks.get(c);
    }
    return this.lastChunk;
  }

  /** Sets the small tags of pages [lo, hi) to `tag` (owner id + 1). */
  private fill(lo: number, hi: number, tag: number): void {
    for (let p = lo; p < hi;) {
      const c = Math.floor(p / CHUNK_PAGES), at = p - c * CHUNK_PAGES;
      const n = Math.min(hi - p, CHUNK_PAGES - at);
      let chunk = this.chunkOf(c);
      if (!chunk) {
        this.chunks.set(c, chunk = take(Int32Array, CHUNK_PAGES));
        this.lastChunk = chunk;
      }
      for (let i = at; i < at + n; i++) chunk[i] = tag; // (a few pages: cheaper than fill())
      p += n;
    }
  }

  /** Drops the small tags of pages [lo, hi). */
  private clear(lo: number, hi: number): void {
    for (const [c, chunk] of this.chunks) {
      const first = c * CHUNK_PAGES;
      if (first >= hi || first + CHUNK_PAGES <= lo) continue;
      chunk.fill(0, Math.max(lo - first, 0), Math.min(hi - first, CHUNK_PAGES));
    }
  }

  /** Paints [lo, hi) pages with owner `id` over the sorted, non-overlapping range list. */
  private paint(lo: number, hi: number, id: number): void {
    const last = this.ranges[this.ranges.length - 1];
    if (!last || lo >= last.hi) {
      this.ranges.push({ lo, hi, id });
      return;
    }
    const out: { lo: number; hi: number; id: number }[] = [];
    let placed = false;
    for (const r of this.ranges) {
      if (r.hi <= lo || r.lo >= hi) {
        if (!placed && r.lo >= hi) {
          out.push({ lo, hi, id });
          placed = true;
        }
        out.push(r);
        continue;
      }
      if (r.lo < lo) out.push({ lo: r.lo, hi: lo, id: r.id });
      if (!placed) {
        out.push({ lo, hi, id });
        placed = true;
      }
      if (r.hi > hi) out.push({ lo: hi, hi: r.hi, id: r.id });
    }
    if (!placed) out.push({ lo, hi, id });
    this.ranges.length = 0;
    this.ranges.push(...out);
  }
}
