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
 * reserve — with an optional purpose (what the page holds) and device (kept by
 * {@link PageOwners}). The lab uses it to tell legitimate DMA from stray DMA, and to say whose
 * memory a stray write hit.
 *
 * @module
 */
import { dwords } from "./dwords.ts";
import { type Owner, PageOwners } from "./owners.ts";

export type { Owner, OwnerWho } from "./owners.ts";

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

function unaligned(op: string, addr: number): RangeError {
  return new RangeError(`unaligned ${op} at 0x${addr.toString(16)}`);
}

/** A line of zeros, copied over absent lines when reading (never written). */
const ZERO_LINE = new Uint32Array(LINE_DWORDS);

/** True when a storage line holds only zeros (reads the same as a never-written line). */
function isZeroLine(line: Uint32Array): boolean {
  for (let i = 0; i < line.length; i++) if (line[i] !== 0) return false;
  return true;
}

/** The distinct numbers of `xs`, ascending. */
function sortedNumbers(xs: Iterable<number>): number[] {
  const sorted = Float64Array.from(xs).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]);
  }
  return out;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** Physical memory of one machine. */
export class PhysMem {
  private readonly lines = new Map<number, Uint32Array>();
  /**
   * Which lines of each page are stored: bit k of `present.get(pfn)` is set while line k of
   * page `pfn` is in `lines` (pages with none are left out), so page-sized work skips
   * never-written lines without looking each one up.
   */
  private readonly present = new Map<number, number>();
  /** The same for the snapshot: bit k is set once line k of the page is recorded in it. */
  private snapped = new Map<number, number>();
  private readonly regions: Region[] = [];
  private readonly mmio: { base: number; size: number; handler: MmioHandler }[] = [];
  private readonly owners = new PageOwners();
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
    this.ramLo = this.ramHi = 0;
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
  /** [ramLo, ramHi): the RAM segment found last (the fast path of RAM accesses). */
  private ramLo = 0;
  private ramHi = 0;

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
    if (addr >= this.ramLo && addr + len <= this.ramHi) return true;
    const r = this.regionAt(addr);
    if (r.kind !== "ram" && r.kind !== "reserved") return false;
    this.ramLo = r.base;
    this.ramHi = r.base + r.size;
    return addr + len <= this.ramHi;
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

  /** Tags every page of [base, base+size) with `owner`. */
  setOwner(base: number, size: number, owner: Owner): void {
    this.owners.tag(Math.floor(base / PAGE_SIZE), Math.ceil((base + size) / PAGE_SIZE), owner);
  }

  /** Owner tag of the page holding `addr`. */
  ownerOf(addr: number): Owner {
    return this.owners.of(Math.floor(addr / PAGE_SIZE));
  }

  // ---- data ---------------------------------------------------------------------------------

  /** The MMIO window serving `addr` (the first mapped one), if `addr` lies in an MMIO stretch. */
  private mmioAt(addr: number) {
    if (this.regionAt(addr).kind !== "mmio") return undefined;
    for (const m of this.mmio) if (addr >= m.base && addr < m.base + m.size) return m;
    return undefined;
  }

  /** A fresh all-zero line. */
  private newLine(): Uint32Array {
    return dwords(LINE_DWORDS);
  }

  /** A copy of `line` (kept by the snapshot). */
  private cloneLine(line: Uint32Array): Uint32Array {
    const c = this.newLine();
    c.set(line);
    return c;
  }

  /** The lines of page `pfn` that are stored (bit k: line k). */
  private presentMask(pfn: number): number {
    return this.present.get(pfn) ?? 0;
  }

  /**
   * Before the first write to line `key` (stored as `line`, or absent) since the snapshot:
   * records what it held — a copy, or the line itself when it is being dropped.
   */
  private keepOriginal(key: number, line: Uint32Array | undefined, dropping: boolean): void {
    const pfn = Math.floor(key / LINES_PER_PAGE), bit = 1 << (key - pfn * LINES_PER_PAGE);
    const kept = this.snapped.get(pfn) ?? 0;
    if (kept & bit) return;
    this.snapshot!.set(key, !line ? null : dropping ? line : this.cloneLine(line));
    this.snapped.set(pfn, kept | bit);
  }

  /**
   * The line `key` about to be written: created if absent; while a snapshot is active, its
   * contents before this first write are kept (null: it was never written).
   */
  private writableLine(key: number): Uint32Array {
    let line = this.lines.get(key);
    if (this.snapshot !== null) this.keepOriginal(key, line, false);
    if (!line) {
      line = this.newLine();
      this.lines.set(key, line);
      const pfn = Math.floor(key / LINES_PER_PAGE);
      this.present.set(pfn, this.presentMask(pfn) | (1 << (key - pfn * LINES_PER_PAGE)));
    }
    return line;
  }

  /** Drops the line `key` (it reads as zeros again), keeping its contents for the snapshot. */
  private dropLine(key: number, line: Uint32Array): void {
    if (this.snapshot !== null) this.keepOriginal(key, line, true);
    this.lines.delete(key);
    const pfn = Math.floor(key / LINES_PER_PAGE);
    const mask = this.presentMask(pfn) & ~(1 << (key - pfn * LINES_PER_PAGE));
    if (mask) this.present.set(pfn, mask);
    else this.present.delete(pfn);
  }

  /** Scratch for {@link originalLines}. */
  private readonly pageLines: (Uint32Array | null | undefined)[] = new Array(LINES_PER_PAGE);

  /**
   * The lines of page `pfn` as they were at the snapshot, into `out` (null or undefined:
   * absent), looking up only lines that were stored then.
   */
  private originalLines(pfn: number, out: (Uint32Array | null | undefined)[]): void {
    const kept = this.snapped.get(pfn) ?? 0, stored = this.presentMask(pfn);
    const key0 = pfn * LINES_PER_PAGE;
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const bit = 1 << k;
      out[k] = kept & bit
        ? this.snapshot!.get(key0 + k)
        : stored & bit
        ? this.lines.get(key0 + k)
        : undefined;
    }
  }

  /** CPU/device 32-bit read (aligned). Holes read as all ones; MMIO goes to its handler. */
  read32(addr: number): number {
    this.accesses++;
    // Fast path: inside the RAM segment found last (addr is then a non-negative number).
    if (!(addr >= this.ramLo && addr + 4 <= this.ramHi)) return this.read32Slow(addr);
    if ((addr & 3) !== 0) throw unaligned("read32", addr);
    const line = this.lines.get(Math.floor(addr / LINE_BYTES));
    return line ? line[(addr & (LINE_BYTES - 1)) >>> 2] : 0;
  }

  private read32Slow(addr: number): number {
    if (addr % 4 !== 0) throw unaligned("read32", addr);
    const m = this.mmio.length ? this.mmioAt(addr) : undefined;
    if (m) return m.handler.read32(addr - m.base) >>> 0;
    if (!this.isRam(addr, 4)) return 0xffff_ffff;
    const line = this.lines.get(Math.floor(addr / LINE_BYTES));
    return line ? line[(addr % LINE_BYTES) >>> 2] : 0;
  }

  /** 32-bit write (aligned). Writes to holes are dropped. */
  write32(addr: number, value: number): void {
    this.accesses++;
    if (!(addr >= this.ramLo && addr + 4 <= this.ramHi)) return this.write32Slow(addr, value);
    if ((addr & 3) !== 0) throw unaligned("write32", addr);
    this.writableLine(Math.floor(addr / LINE_BYTES))[(addr & (LINE_BYTES - 1)) >>> 2] = value >>> 0;
  }

  private write32Slow(addr: number, value: number): void {
    if (addr % 4 !== 0) throw unaligned("write32", addr);
    const m = this.mmio.length ? this.mmioAt(addr) : undefined;
    if (m) return m.handler.write32(addr - m.base, value >>> 0);
    if (!this.isRam(addr, 4)) return;
    this.writableLine(Math.floor(addr / LINE_BYTES))[(addr % LINE_BYTES) >>> 2] = value >>> 0;
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

  /**
   * Reads `n` dwords of RAM at `addr` into `out` (fast path for table reads; no MMIO).
   * Returns how many of the `n` dwords, from the first, may be non-zero: the rest read as
   * zeros (never-written lines), so a caller keeping the data sparsely need not look at them.
   */
  readDwords(addr: number, n: number, out: Uint32Array, outOff = 0): number {
    this.accesses += n;
    let extent = 0;
    // Reads of several lines look up each page's stored lines once, and skip the absent ones.
    const byPage = n > LINE_DWORDS;
    let pfn = NaN, stored = 0; // the page of the last line, and its stored lines
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const key = Math.floor(a / LINE_BYTES);
      const lineOff = (a - key * LINE_BYTES) >>> 2;
      const take = Math.min(n - i, LINE_DWORDS - lineOff);
      const o = outOff + i;
      if (!this.isRam(a, take * 4)) {
        out.fill(0xffff_ffff, o, o + take);
        extent = i + take;
      } else {
        let line: Uint32Array | undefined;
        if (byPage) {
          const p = Math.floor(key / LINES_PER_PAGE);
          if (p !== pfn) {
            pfn = p;
            stored = this.presentMask(p);
          }
          if (stored & (1 << (key - p * LINES_PER_PAGE))) line = this.lines.get(key);
        } else line = this.lines.get(key);
        if (!line) {
          if (take === LINE_DWORDS) out.set(ZERO_LINE, o);
          else out.fill(0, o, o + take);
        } else {
          if (take === LINE_DWORDS) out.set(line, o);
          else for (let k = 0; k < take; k++) out[o + k] = line[lineOff + k];
          extent = i + take;
        }
      }
      i += take;
    }
    return extent;
  }

  /** Writes dwords to RAM at `addr` (no MMIO; holes drop the data). */
  writeDwords(addr: number, src: ArrayLike<number>): void {
    this.accesses += src.length;
    for (let i = 0; i < src.length;) {
      const a = addr + i * 4;
      const key = Math.floor(a / LINE_BYTES);
      const lineOff = (a - key * LINE_BYTES) >>> 2;
      const take = Math.min(src.length - i, LINE_DWORDS - lineOff);
      if (this.isRam(a, take * 4)) {
        const line = this.writableLine(key);
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
        line = this.writableLine(k);
      }
      const j = (a - k * LINE_BYTES) >>> 2;
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
      const pfn = Math.floor(key / LINES_PER_PAGE);
      const stored = this.presentMask(pfn);
      if (!stored) {
        // Nothing stored in this page: skip to its end.
        a = Math.min((pfn + 1) * PAGE_SIZE, end);
        continue;
      }
      const lineEnd = Math.min(lineStart + LINE_BYTES, end);
      const line = stored & (1 << (key - pfn * LINES_PER_PAGE)) ? this.lines.get(key) : undefined;
      if (line) {
        if (a === lineStart && lineEnd === lineStart + LINE_BYTES) this.dropLine(key, line);
        else {
          this.writableLine(key).fill(0, (a - lineStart) >>> 2, (lineEnd - lineStart) >>> 2);
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
      // Whole lines: copy line contents, drop absent ones (they read as zero). The stored
      // lines of the current source and destination pages are looked up once per page (and
      // again after a write to the page).
      const s0 = src / LINE_BYTES, d0 = dst / LINE_BYTES;
      let sPfn = NaN, sMask = 0, dPfn = NaN, dMask = 0;
      for (let k = 0; k < len / LINE_BYTES; k++) {
        const sk = s0 + k, dk = d0 + k;
        const sp = Math.floor(sk / LINES_PER_PAGE), dp = Math.floor(dk / LINES_PER_PAGE);
        if (sp !== sPfn) {
          sPfn = sp;
          sMask = this.presentMask(sp);
        }
        if (dp !== dPfn) {
          dPfn = dp;
          dMask = this.presentMask(dp);
        }
        if (sMask & (1 << (sk - sp * LINES_PER_PAGE))) {
          const from = this.lines.get(sk)!;
          this.writableLine(dk).set(from);
        } else if (dMask & (1 << (dk - dp * LINES_PER_PAGE))) {
          this.dropLine(dk, this.lines.get(dk)!);
        } else continue;
        dPfn = NaN; // the destination page changed
        if (dp === sp) sPfn = NaN; // ... and it is the source page
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
      const buf = dwords(n >>> 2);
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
    const pfn = Math.floor(addr / PAGE_SIZE);
    const stored = this.presentMask(pfn);
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      if (!(stored & (1 << k))) continue;
      if (!isZeroLine(this.lines.get(pfn * LINES_PER_PAGE + k)!)) return false;
    }
    return true;
  }

  /** Page frame numbers of all pages holding a written line that is not all zeros, ascending. */
  nonBlankPages(): number[] {
    const pfns: number[] = [];
    for (const pfn of this.present.keys()) if (!this.pageIsBlank(pfn * PAGE_SIZE)) pfns.push(pfn);
    return sortedNumbers(pfns);
  }

  /**
   * Starts a copy-on-write snapshot: from now on the first write to each line keeps its
   * previous contents, so the memory at this instant can be compared with later memory.
   * The lab takes one at the panic.
   */
  beginSnapshot(): void {
    this.snapshot = new Map();
    this.snapped = new Map();
  }

  /**
   * Whether the page `pfn`, as it was at the snapshot, equals `data` (dwords from the page's
   * start; missing trailing dwords count as zeros). Compares line by line.
   */
  originalPageEquals(pfn: number, data: Uint32Array): boolean {
    const n = data.length;
    const lines = this.pageLines;
    this.originalLines(pfn, lines);
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const line = lines[k];
      const base = k * LINE_DWORDS;
      if (line) {
        const inData = Math.min(Math.max(n - base, 0), LINE_DWORDS);
        for (let i = 0; i < inData; i++) if (line[i] !== data[base + i]) return false;
        for (let i = inData; i < LINE_DWORDS; i++) if (line[i] !== 0) return false;
      } else {
        for (let i = base; i < n && i < base + LINE_DWORDS; i++) if (data[i] !== 0) return false;
      }
    }
    return true;
  }

  /** Whether the page `pfn` read as all zeros at the snapshot. */
  originalPageIsBlank(pfn: number): boolean {
    const lines = this.pageLines;
    this.originalLines(pfn, lines);
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const line = lines[k];
      if (line && !isZeroLine(line)) return false;
    }
    return true;
  }
}
