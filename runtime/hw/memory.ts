/**
 * Physical memory: a sparse 52-bit address space with a memory map and owner tags.
 *
 * Storage is sparse in 256-byte lines (unwritten RAM reads as zero, and a device table or
 * page table with a handful of live entries costs a handful of lines). Addresses are JS
 * numbers (< 2^52, exact). 64-bit values are two 32-bit halves, low half first.
 *
 * The memory map says what each range is: RAM (`ram`, or `reserved` RAM that firmware
 * owns), an MMIO window served by a handler, or a hole. CPU reads from a hole return all
 * ones and writes are dropped; DMA into a hole or MMIO window master-aborts (the bus decides
 * that through {@link PhysMem.dmaTarget}).
 *
 * Each 4 KiB page carries an owner tag — firmware, free, one of the kernels, the crash kernel
 * reserve — with an optional purpose (what the page holds) and device. The lab uses it to
 * tell legitimate DMA from stray DMA, and to say whose memory a stray write hit.
 *
 * @module
 */

/** Kinds of physical ranges. */
export type RegionKind = "ram" | "reserved" | "mmio" | "hole";

/** One entry of the memory map. */
export interface Region {
  base: number;
  size: number;
  kind: RegionKind;
  /** e.g. "System RAM", "ACPI Tables", "IOMMU MMIO", "PCI MMIO hole". */
  name: string;
}

/** Handler of an MMIO window: offsets are relative to the window base. */
export interface MmioHandler {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
}

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

/** Page size (4 KiB). */
export const PAGE_SIZE = 4096;
/** Bytes per storage line. */
export const LINE_BYTES = 256;
const LINE_DWORDS = LINE_BYTES / 4;
const LINES_PER_PAGE = PAGE_SIZE / LINE_BYTES;
/** 2^52: the top of the physical address space. */
export const PHYS_LIMIT = 2 ** 52;

/** Formats an owner tag the way reports print it: `kernel1:rx-buffer@01:00.0`. */
export function ownerText(o: Owner): string {
  let s = o.who;
  if (o.what) s += `:${o.what}`;
  if (o.dev !== undefined) s += `@${bdfText(o.dev)}`;
  return s;
}

/** `BB:DD.F` of a 16-bit DeviceID (the way dmesg prints it). */
export function bdfText(devid: number): string {
  const bus = (devid >> 8) & 0xff, dev = (devid >> 3) & 0x1f, fn = devid & 7;
  return `${hex2(bus)}:${hex2(dev)}.${fn}`;
}

/** True when a storage line holds only zeros (reads the same as a never-written line). */
function isZeroLine(line: Uint32Array): boolean {
  for (let i = 0; i < line.length; i++) if (line[i] !== 0) return false;
  return true;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** Physical memory of one machine. */
export class PhysMem {
  private readonly lines = new Map<number, Uint32Array>();
  private readonly regions: Region[] = [];
  private readonly mmio: { base: number; size: number; handler: MmioHandler }[] = [];
  private readonly ownerTable: Owner[] = [{ who: "free" }];
  private readonly ownerIds = new Map<string, number>([["free||", 0]]);
  /** Large owner ranges: sorted by page, non-overlapping (later tags paint over earlier). */
  private readonly ownerRanges: { lo: number; hi: number; id: number }[] = [];
  private readonly ownerPages = new Map<number, number>();
  private snapshot: Map<number, Uint32Array | null> | null = null;
  /** Count of 32-bit accesses, for statistics. */
  accesses = 0;

  constructor(map: readonly Region[] = []) {
    for (const r of map) this.addRegion(r);
  }

  /** Adds a memory-map entry (later entries win where they overlap). */
  addRegion(r: Region): void {
    if (r.base < 0 || r.base + r.size > PHYS_LIMIT || r.size <= 0) {
      throw new RangeError(`region ${r.name}: bad range ${r.base}+${r.size}`);
    }
    this.regions.push({ ...r });
    this.segs = null;
    if (r.kind === "reserved") this.setOwner(r.base, r.size, { who: "firmware", what: r.name });
  }

  /** Maps an MMIO window: CPU accesses inside it go to `handler`. */
  mapMmio(base: number, size: number, name: string, handler: MmioHandler): void {
    this.addRegion({ base, size, kind: "mmio", name });
    this.mmio.push({ base, size, handler });
  }

  /** The memory map, in insertion order. */
  memoryMap(): readonly Region[] {
    return this.regions;
  }

  /** Non-overlapping segments of the map (later regions win), sorted; rebuilt on change. */
  private segs: Region[] | null = null;
  private lastSeg: Region | undefined;

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
   * The stretch of the memory map containing `addr`: its kind and name, with `base`/`size`
   * clipped to where that kind continues (later-declared regions win where they overlap).
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
    const r = this.regionAt(addr);
    return (r.kind === "ram" || r.kind === "reserved") && addr + len <= r.base + r.size;
  }

  /**
   * What a DMA access to [addr, addr+len) reaches: `ram`, or `abort` (hole, MMIO window or
   * beyond the address space: the root complex master-aborts).
   */
  dmaTarget(addr: number, len: number): "ram" | "abort" {
    if (addr < 0 || addr + len > PHYS_LIMIT) return "abort";
    return this.isRam(addr, len) ? "ram" : "abort";
  }

  // ---- owner tags -------------------------------------------------------------------------

  private ownerId(o: Owner): number {
    const key = `${o.who}|${o.what ?? ""}|${o.dev ?? ""}`;
    let id = this.ownerIds.get(key);
    if (id === undefined) {
      id = this.ownerTable.length;
      this.ownerTable.push({ ...o });
      this.ownerIds.set(key, id);
    }
    return id;
  }

  /** Tags every page of [base, base+size) with `owner`. */
  setOwner(base: number, size: number, owner: Owner): void {
    const id = this.ownerId(owner);
    const lo = Math.floor(base / PAGE_SIZE);
    const hi = Math.ceil((base + size) / PAGE_SIZE);
    if (hi - lo <= 64) {
      for (let p = lo; p < hi; p++) this.ownerPages.set(p, id);
    } else {
      for (const p of [...this.ownerPages.keys()]) if (p >= lo && p < hi) this.ownerPages.delete(p);
      this.paint(lo, hi, id);
    }
  }

  /** Paints [lo, hi) pages with owner `id` over the sorted, non-overlapping range list. */
  private paint(lo: number, hi: number, id: number): void {
    const last = this.ownerRanges[this.ownerRanges.length - 1];
    if (!last || lo >= last.hi) {
      this.ownerRanges.push({ lo, hi, id });
      return;
    }
    const out: { lo: number; hi: number; id: number }[] = [];
    let placed = false;
    for (const r of this.ownerRanges) {
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
    this.ownerRanges.length = 0;
    this.ownerRanges.push(...out);
  }

  /** Owner tag of the page holding `addr`. */
  ownerOf(addr: number): Owner {
    const p = Math.floor(addr / PAGE_SIZE);
    const id = this.ownerPages.get(p);
    if (id !== undefined) return this.ownerTable[id];
    const rs = this.ownerRanges;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (p < r.lo) hi = mid - 1;
      else if (p >= r.hi) lo = mid + 1;
      else return this.ownerTable[r.id];
    }
    return this.ownerTable[0];
  }

  // ---- data ---------------------------------------------------------------------------------

  private mmioAt(addr: number) {
    if (this.regionAt(addr).kind !== "mmio") return undefined;
    for (const m of this.mmio) if (addr >= m.base && addr < m.base + m.size) return m;
    return undefined;
  }

  private lineFor(addr: number, create: boolean): Uint32Array | undefined {
    const key = Math.floor(addr / LINE_BYTES);
    let line = this.lines.get(key);
    if (this.snapshot && create && !this.snapshot.has(key)) {
      this.snapshot.set(key, line ? line.slice() : null);
    }
    if (!line && create) {
      line = new Uint32Array(LINE_DWORDS);
      this.lines.set(key, line);
    }
    return line;
  }

  /** CPU/device 32-bit read (aligned). Holes read as all ones; MMIO goes to its handler. */
  read32(addr: number): number {
    this.accesses++;
    if (addr % 4 !== 0) throw new RangeError(`unaligned read32 at 0x${addr.toString(16)}`);
    const m = this.mmio.length ? this.mmioAt(addr) : undefined;
    if (m) return m.handler.read32(addr - m.base) >>> 0;
    if (!this.isRam(addr, 4)) return 0xffff_ffff;
    const line = this.lines.get(Math.floor(addr / LINE_BYTES));
    return line ? line[(addr % LINE_BYTES) >>> 2] : 0;
  }

  /** 32-bit write (aligned). Writes to holes are dropped. */
  write32(addr: number, value: number): void {
    this.accesses++;
    if (addr % 4 !== 0) throw new RangeError(`unaligned write32 at 0x${addr.toString(16)}`);
    const m = this.mmio.length ? this.mmioAt(addr) : undefined;
    if (m) return m.handler.write32(addr - m.base, value >>> 0);
    if (!this.isRam(addr, 4)) return;
    this.lineFor(addr, true)![(addr % LINE_BYTES) >>> 2] = value >>> 0;
  }

  /** 64-bit read as [low, high]. */
  read64(addr: number): [number, number] {
    return [this.read32(addr), this.read32(addr + 4)];
  }

  /** 64-bit write as two 32-bit writes, low half first. */
  write64(addr: number, lo: number, hi: number): void {
    this.write32(addr, lo);
    this.write32(addr + 4, hi);
  }

  /** Reads `n` dwords of RAM at `addr` into `out` (fast path for table reads; no MMIO). */
  readDwords(addr: number, n: number, out: Uint32Array, outOff = 0): void {
    this.accesses += n;
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const lineOff = (a % LINE_BYTES) >>> 2;
      const take = Math.min(n - i, LINE_DWORDS - lineOff);
      const line = this.isRam(a, take * 4) ? this.lines.get(Math.floor(a / LINE_BYTES)) : null;
      if (line === null) out.fill(0xffff_ffff, outOff + i, outOff + i + take);
      else if (line) out.set(line.subarray(lineOff, lineOff + take), outOff + i);
      else out.fill(0, outOff + i, outOff + i + take);
      i += take;
    }
  }

  /** Writes dwords to RAM at `addr` (no MMIO; holes drop the data). */
  writeDwords(addr: number, src: ArrayLike<number>): void {
    this.accesses += src.length;
    for (let i = 0; i < src.length;) {
      const a = addr + i * 4;
      const lineOff = (a % LINE_BYTES) >>> 2;
      const take = Math.min(src.length - i, LINE_DWORDS - lineOff);
      if (this.isRam(a, take * 4)) {
        const line = this.lineFor(a, true)!;
        for (let k = 0; k < take; k++) line[lineOff + k] = src[i + k] >>> 0;
      }
      i += take;
    }
  }

  /**
   * ORs `mask` into the dword at `dword` of each of `count` records of `stride` bytes from
   * `base` (a CPU loop such as setting a bit in every DTE of a table), line by line.
   */
  orStrided(base: number, stride: number, count: number, dword: number, mask: number): void {
    this.accesses += 2 * count;
    let key = -1;
    let line: Uint32Array | undefined;
    for (let i = 0; i < count; i++) {
      const a = base + i * stride + dword * 4;
      const k = Math.floor(a / LINE_BYTES);
      if (k !== key) {
        if (!this.isRam(a, 4)) continue;
        key = k;
        line = this.lineFor(a, true);
      }
      const j = (a % LINE_BYTES) >>> 2;
      line![j] = (line![j] | mask) >>> 0;
    }
  }

  /** Zeroes [addr, addr+len) (whole lines are dropped, so zeroing a 2 MiB table is cheap). */
  zero(addr: number, len: number): void {
    if (addr % 4 || len % 4) throw new RangeError("zero: unaligned range");
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const key = Math.floor(a / LINE_BYTES);
      const lineStart = key * LINE_BYTES;
      const lineEnd = Math.min(lineStart + LINE_BYTES, end);
      const line = this.lines.get(key);
      if (line) {
        if (a === lineStart && lineEnd === lineStart + LINE_BYTES) {
          if (this.snapshot && !this.snapshot.has(key)) this.snapshot.set(key, line.slice());
          this.lines.delete(key);
        } else {
          this.lineFor(a, true)!.fill(0, (a - lineStart) >>> 2, (lineEnd - lineStart) >>> 2);
        }
      }
      a = lineEnd;
    }
  }

  /** Copies [src, src+len) to dst (RAM to RAM, as a CPU memcpy; 4-byte granular). */
  copy(dst: number, src: number, len: number): void {
    if (dst % 4 || src % 4 || len % 4) throw new RangeError("copy: unaligned range");
    if (
      dst % LINE_BYTES === 0 && src % LINE_BYTES === 0 && len % LINE_BYTES === 0 &&
      this.isRam(src, len) && this.isRam(dst, len)
    ) {
      // Whole lines: copy line objects, drop absent ones (they read as zero).
      for (let off = 0; off < len; off += LINE_BYTES) {
        const from = this.lines.get((src + off) / LINE_BYTES);
        if (from) this.lineFor(dst + off, true)!.set(from);
        else if (this.lines.has((dst + off) / LINE_BYTES)) this.zero(dst + off, LINE_BYTES);
      }
      this.accesses += len / 2;
      return;
    }
    for (let off = 0; off < len; off += LINE_BYTES) {
      const n = Math.min(LINE_BYTES, len - off);
      const present = this.anyLine(src + off, n);
      if (!present) {
        this.zero(dst + off, n);
        continue;
      }
      const buf = new Uint32Array(n >>> 2);
      this.readDwords(src + off, n >>> 2, buf);
      this.writeDwords(dst + off, buf);
    }
  }

  private anyLine(addr: number, len: number): boolean {
    const first = Math.floor(addr / LINE_BYTES), last = Math.floor((addr + len - 1) / LINE_BYTES);
    for (let k = first; k <= last; k++) if (this.lines.has(k)) return true;
    return false;
  }

  /** True if the page holding `addr` has never been written (reads as zero). */
  pageIsBlank(addr: number): boolean {
    const base = Math.floor(addr / PAGE_SIZE) * LINES_PER_PAGE;
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const line = this.lines.get(base + k);
      if (line && line.some((x) => x !== 0)) return false;
    }
    return true;
  }

  /** Page frame numbers of all pages holding written lines, ascending. */
  writtenPages(): number[] {
    const pages = new Set<number>();
    for (const k of this.lines.keys()) pages.add(Math.floor(k / LINES_PER_PAGE));
    return [...pages].sort((a, b) => a - b);
  }

  /**
   * A 32-bit FNV-1a digest of a page's contents as they are now, or — with `original` —
   * as they were when {@link beginSnapshot} was called.
   */
  pageDigest(pfn: number, original = false): number {
    let h = 0x811c9dc5;
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const key = pfn * LINES_PER_PAGE + k;
      let line: Uint32Array | null | undefined = this.lines.get(key);
      if (original && this.snapshot?.has(key)) line = this.snapshot.get(key);
      if (!line || isZeroLine(line)) {
        h = Math.imul(h ^ 0x5a, 0x01000193) >>> 0; // marker for an all-zero line
        continue;
      }
      for (let i = 0; i < LINE_DWORDS; i++) h = Math.imul(h ^ line[i], 0x01000193) >>> 0;
    }
    return h;
  }

  /**
   * Starts a copy-on-write snapshot: from now on the first write to each line keeps its
   * previous contents, so the memory at this instant can be compared with later memory.
   * The lab takes one at the panic.
   */
  beginSnapshot(): void {
    this.snapshot = new Map();
  }

  /** Pages written since {@link beginSnapshot} (ascending pfns). */
  pagesChangedSinceSnapshot(): number[] {
    if (!this.snapshot) return [];
    const pages = new Set<number>();
    for (const k of this.snapshot.keys()) pages.add(Math.floor(k / LINES_PER_PAGE));
    return [...pages].filter((p) => this.pageDigest(p) !== this.pageDigest(p, true)).sort((a, b) =>
      a - b
    );
  }

  /**
   * Whether the page `pfn`, as it was at the snapshot, equals `data` (dwords from the page's
   * start; missing trailing dwords count as zeros). Compares line by line.
   */
  originalPageEquals(pfn: number, data: Uint32Array): boolean {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const key = pfn * LINES_PER_PAGE + k;
      const line = this.snapshot?.has(key) ? this.snapshot.get(key) : this.lines.get(key);
      const base = k * LINE_DWORDS;
      for (let i = 0; i < LINE_DWORDS; i++) {
        const want = line ? line[i] : 0;
        const got = base + i < data.length ? data[base + i] : 0;
        if (want !== got) return false;
      }
    }
    return true;
  }

  /** Whether the page `pfn` read as all zeros at the snapshot. */
  originalPageIsBlank(pfn: number): boolean {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const key = pfn * LINES_PER_PAGE + k;
      const line = this.snapshot?.has(key) ? this.snapshot.get(key) : this.lines.get(key);
      if (line && !isZeroLine(line)) return false;
    }
    return true;
  }

  /** Reads a whole page as it was at the snapshot into `out` (1024 dwords). */
  readOriginalPage(pfn: number, out: Uint32Array): void {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const key = pfn * LINES_PER_PAGE + k;
      const line = this.snapshot?.has(key) ? this.snapshot.get(key) : this.lines.get(key);
      if (line) out.set(line, k * LINE_DWORDS);
      else out.fill(0, k * LINE_DWORDS, (k + 1) * LINE_DWORDS);
    }
  }

  /** Reads a dword as it was at the snapshot. */
  readOriginal32(addr: number): number {
    const key = Math.floor(addr / LINE_BYTES);
    const line = this.snapshot?.has(key) ? this.snapshot.get(key) : this.lines.get(key);
    return line ? line[(addr % LINE_BYTES) >>> 2] : 0;
  }
}
