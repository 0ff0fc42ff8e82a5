/**
 * The memory map: what each physical range is — RAM (`ram`, or `reserved` RAM that firmware
 * owns), an MMIO window served by a handler, or a hole — as the regions firmware declares,
 * later regions winning where they overlap.
 *
 * @module
 */

/** Kinds of physical ranges. */
export type RegionKind = "ram" | "reserved" | "mmio" | "hole";

/** One entry of the memory map. */
export interface Region {
  /** Physical address of its first byte. */
  base: number;
  /** Size in bytes. */
  size: number;
  /** RAM, firmware-reserved RAM, an MMIO window or a hole. */
  kind: RegionKind;
  /** e.g. "System RAM", "ACPI Tables", "IOMMU MMIO", "PCI MMIO hole". */
  name: string;
}

/** Handler of an MMIO window: offsets are relative to the window base. */
export interface MmioHandler {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
}

/** An MMIO window and its handler. */
export interface MmioWindow {
  base: number;
  size: number;
  handler: MmioHandler;
}

/** 2^52: the top of the physical address space. */
export const PHYS_LIMIT = 2 ** 52;

/** A machine's memory map. */
export class MemoryMap {
  private readonly regions: Region[] = [];
  /** MMIO windows in the order they were mapped. */
  readonly mmio: MmioWindow[] = [];
  /** Non-overlapping segments of the map (later regions win), sorted; rebuilt on change. */
  private segs: Region[] | null = null;
  private lastSeg: Region | undefined;
  /** [ramLo, ramHi): the RAM segment found last (the fast path of RAM accesses). */
  ramLo = 0;
  ramHi = 0;

  /** Adds a region (later entries win where they overlap). */
  add(r: Region): void {
    if (r.base < 0 || r.base + r.size > PHYS_LIMIT || r.size <= 0) {
      throw new RangeError(`region ${r.name}: bad range ${r.base}+${r.size}`);
    }
    this.regions.push({ ...r });
    this.segs = null;
    this.ramLo = this.ramHi = 0;
  }

  /** Adds an MMIO region served by `handler`. */
  addMmio(base: number, size: number, name: string, handler: MmioHandler): void {
    this.add({ base, size, kind: "mmio", name });
    this.mmio.push({ base, size, handler });
  }

  /** The regions, in insertion order. */
  list(): readonly Region[] {
    return this.regions;
  }

  private segments(): Region[] {
    if (this.segs) return this.segs;
    const cuts = new Set<number>([0, PHYS_LIMIT]);
    for (const r of this.regions) cuts.add(r.base).add(r.base + r.size);
    const points = [...cuts].sort((a, b) => a - b);
    const out: Region[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const lo = points[i], hi = points[i + 1];
      let win: Region | undefined;
      for (let j = this.regions.length - 1; j >= 0; j--) {
        const r = this.regions[j];
        if (lo >= r.base && lo < r.base + r.size) {
          win = r;
          break;
        }
      }
      const seg = win
        ? { ...win, base: lo, size: hi - lo }
        : { base: lo, size: hi - lo, kind: "hole" as const, name: "unmapped" };
      const prev = out[out.length - 1];
      if (
        prev && prev.kind === seg.kind && prev.name === seg.name && prev.base + prev.size === lo
      ) prev.size += seg.size;
      else out.push(seg);
    }
    this.lastSeg = undefined;
    return this.segs = out;
  }

  /**
   * The stretch of the map containing `addr`: its kind and name, with `base`/`size` clipped to
   * where that kind continues.
   */
  regionAt(addr: number): Region {
    const last = this.lastSeg;
    if (last && addr >= last.base && addr < last.base + last.size) return last;
    const segs = this.segments();
    let lo = 0, hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid].base <= addr) lo = mid;
      else hi = mid - 1;
    }
    return this.lastSeg = segs[lo];
  }

  /** True if [addr, addr+len) is entirely RAM (`ram` or `reserved`). */
  isRam(addr: number, len = 1): boolean {
    if (addr >= this.ramLo && addr + len <= this.ramHi) return true;
    const r = this.regionAt(addr);
    if (r.kind !== "ram" && r.kind !== "reserved") return false;
    this.ramLo = r.base;
    this.ramHi = r.base + r.size;
    return addr + len <= this.ramHi;
  }

  /** The MMIO window serving `addr` (the first mapped one), if `addr` lies in an MMIO stretch. */
  mmioAt(addr: number): MmioWindow | undefined {
    if (!this.mmio.length || this.regionAt(addr).kind !== "mmio") return undefined;
    for (const m of this.mmio) if (addr >= m.base && addr < m.base + m.size) return m;
    return undefined;
  }
}
