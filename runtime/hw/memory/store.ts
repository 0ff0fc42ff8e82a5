/**
 * The contents of RAM: sparse, keyed by page. Unwritten RAM reads as zero; a page's data is
 * kept in 256-byte lines (so a device table or page table with a handful of live entries
 * costs a handful of lines), held in typed-array arenas — no object per page or per line.
 *
 * Per page (a {@link PfnIndex} slot): a 16-bit mask of the lines stored, and a reference to
 * them — the line itself while the page has had one line only (the common case of a page a
 * device or a table touched once), else a block of 16 line numbers. A line once written stays
 * stored (zeros included) until it is zeroed as a whole.
 *
 * While a {@link Snapshot} is active, the first write to each line (and dropping it) first
 * records what it held; `snapped` marks the lines already recorded.
 *
 * Callers pass RAM addresses only (the memory map is not this module's concern), aligned.
 *
 * @module
 */
import { CHUNK_MASK, CHUNK_SHIFT, LINE_DWORDS, LineArena } from "./arena.ts";
import { PfnIndex } from "./pfn-index.ts";
import { giveBack, take } from "./pool.ts";
import { Snapshot } from "./snapshot.ts";

/** Page size (4 KiB). */
export const PAGE_SIZE = 4096;
/** Bytes per storage line. */
export const LINE_BYTES = 256;
/** Lines per page. */
export const LINES_PER_PAGE = 16;

/** Sparse RAM contents. */
export class LineStore {
  readonly index = new PfnIndex();
  readonly arena = new LineArena();
  /** Per page slot: bit k set while line k is stored. */
  private mask = take(Uint16Array, 512);
  /** Per page slot: bit k set once line k is recorded by the active snapshot. */
  private snapped = take(Uint16Array, 512);
  /** Per page slot: ~line while the page has its single-line form, else a block number. */
  private ref = take(Int32Array, 512);
  /** Blocks of 16 line numbers (indexed by line in page). */
  private blocks = take(Int32Array, 16 * 64);
  private blockCount = 0;
  private freeBlocks: number[] = [];
  private snapshot: Snapshot | null = null;

  // ---- pages and lines ------------------------------------------------------------------

  /** The slot of page `pfn`, created if absent. */
  private pageOf(pfn: number): number {
    const s = this.index.add(pfn);
    if (s >= this.mask.length) this.growPages();
    return s;
  }

  private growPages(): void {
    const n = this.mask.length * 2;
    const m = take(Uint16Array, n), sn = take(Uint16Array, n), r = take(Int32Array, n);
    m.set(this.mask);
    sn.set(this.snapped);
    r.set(this.ref);
    this.mask = m;
    this.snapped = sn;
    this.ref = r;
  }

  /** Lines stored in page `pfn` (bit k: line k). */
  pageMask(pfn: number): number {
    const s = this.index.get(pfn);
    return s < 0 ? 0 : this.mask[s];
  }

  /** The line stored as line `k` of page slot `s`, or -1. */
  private lineAt(s: number, k: number): number {
    if (!(this.mask[s] & (1 << k))) return -1;
    const r = this.ref[s];
    return r < 0 ? ~r : this.blocks[(r << 4) + k];
  }

  /** The line stored as line `k` of page `pfn`, or -1. */
  lineOf(pfn: number, k: number): number {
    const s = this.index.get(pfn);
    return s < 0 ? -1 : this.lineAt(s, k);
  }

  /** Records line `k` of page slot `s` (stored as `line`, or -1) before its first change. */
  private record(s: number, k: number, line: number): void {
    this.snapped[s] |= 1 << k;
    if (line >= 0) {
      this.snapshot!.keep(this.index.pfnAt(s), k, this.arena.chunk(line), this.arena.offset(line));
    }
  }

  /**
   * Line `k` of page `pfn`, about to be written: created (zeroed) if absent; recorded first
   * while a snapshot is active.
   */
  writableLine(pfn: number, k: number): number {
    const s = this.pageOf(pfn);
    const bit = 1 << k;
    const m = this.mask[s];
    let line = -1;
    if (m & bit) {
      const r = this.ref[s];
      line = r < 0 ? ~r : this.blocks[(r << 4) + k];
    }
    if (this.snapshot !== null && !(this.snapped[s] & bit)) this.record(s, k, line);
    if (line >= 0) return line;
    line = this.arena.alloc();
    if (m === 0) this.ref[s] = ~line;
    else {
      let r = this.ref[s];
      if (r < 0) {
        // The page's second line: its lines move to a block.
        r = this.newBlock();
        this.blocks[(r << 4) + (31 - Math.clz32(m))] = ~this.ref[s];
        this.ref[s] = r;
      }
      this.blocks[(r << 4) + k] = line;
    }
    this.mask[s] = m | bit;
    return line;
  }

  private newBlock(): number {
    const free = this.freeBlocks.pop();
    if (free !== undefined) return free;
    const b = this.blockCount++;
    if ((b + 1) << 4 > this.blocks.length) {
      const bl = take(Int32Array, this.blocks.length * 2);
      bl.set(this.blocks);
      this.blocks = bl;
    }
    return b;
  }

  /** Drops line `k` of page `pfn` (it reads as zeros again), recorded first if need be. */
  dropLine(pfn: number, k: number): void {
    const s = this.index.get(pfn);
    if (s < 0) return;
    const line = this.lineAt(s, k);
    if (line < 0) return;
    const bit = 1 << k;
    if (this.snapshot !== null && !(this.snapped[s] & bit)) this.record(s, k, line);
    this.arena.release(line);
    const m = this.mask[s] & ~bit;
    this.mask[s] = m;
    if (m === 0 && this.ref[s] >= 0) {
      this.freeBlocks.push(this.ref[s]);
      this.ref[s] = -1;
    }
  }

  // ---- dwords ---------------------------------------------------------------------------

  /** The dword at `addr`. */
  read32(addr: number): number {
    const s = this.index.get(Math.floor(addr / PAGE_SIZE));
    if (s < 0) return 0;
    const k = (addr >>> 8) & 15;
    if (!(this.mask[s] & (1 << k))) return 0;
    const r = this.ref[s];
    const line = r < 0 ? ~r : this.blocks[(r << 4) + k];
    return this.arena
      .chunks[line >>> CHUNK_SHIFT][((line & CHUNK_MASK) << 6) + ((addr >>> 2) & 63)];
  }

  /** Reads the qword at `addr` (8-aligned) into `out[at]` (low half) and `out[at + 1]`. */
  readQword(addr: number, out: Uint32Array, at: number): void {
    const s = this.index.get(Math.floor(addr / PAGE_SIZE));
    const k = (addr >>> 8) & 15;
    if (s < 0 || !(this.mask[s] & (1 << k))) {
      out[at] = 0;
      out[at + 1] = 0;
      return;
    }
    const r = this.ref[s];
    const line = r < 0 ? ~r : this.blocks[(r << 4) + k];
    const c = this.arena.chunks[line >>> CHUNK_SHIFT];
    const o = ((line & CHUNK_MASK) << 6) + ((addr >>> 2) & 63);
    out[at] = c[o];
    out[at + 1] = c[o + 1];
  }

  /** Writes the qword at `addr` (8-aligned): `lo` at addr, `hi` at addr + 4. */
  writeQword(addr: number, lo: number, hi: number): void {
    const line = this.writableLine(Math.floor(addr / PAGE_SIZE), (addr >>> 8) & 15);
    const c = this.arena.chunks[line >>> CHUNK_SHIFT];
    const o = ((line & CHUNK_MASK) << 6) + ((addr >>> 2) & 63);
    c[o] = lo;
    c[o + 1] = hi;
  }

  /** Writes the dword at `addr`. */
  write32(addr: number, value: number): void {
    const line = this.writableLine(Math.floor(addr / PAGE_SIZE), (addr >>> 8) & 15);
    this.arena.chunks[line >>> CHUNK_SHIFT][((line & CHUNK_MASK) << 6) + ((addr >>> 2) & 63)] =
      value;
  }

  /**
   * Reads `n` dwords at `addr` into `out` from `outOff`. Returns how many of them, from the
   * first, may be non-zero: the rest lie in lines never written — and are left in `out` as
   * they were when `sparse` is set (for a reader that keeps only what the extent covers).
   */
  read(addr: number, n: number, out: Uint32Array, outOff: number, sparse = false): number {
    let extent = 0;
    let pfn = -1, s = -1;
    // Lines never written read as zeros: a run of them is cleared with one fill, from `zeros`.
    let zeros = -1;
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const p = Math.floor(a / PAGE_SIZE);
      if (p !== pfn) {
        pfn = p;
        s = this.index.get(p);
      }
      const k = (a >>> 8) & 15;
      const lineOff = (a >>> 2) & 63;
      const take = Math.min(n - i, LINE_DWORDS - lineOff);
      const line = s < 0 ? -1 : this.lineAt(s, k);
      if (line < 0) {
        if (zeros < 0) zeros = i;
      } else {
        if (zeros >= 0) {
          out.fill(0, outOff + zeros, outOff + i);
          zeros = -1;
        }
        // A loop, not set(subarray): a typed-array view costs more than copying a line.
        const c = this.arena.chunks[line >>> CHUNK_SHIFT];
        const from = ((line & CHUNK_MASK) << 6) + lineOff, o = outOff + i;
        for (let j = 0; j < take; j++) out[o + j] = c[from + j];
        extent = i + take;
      }
      i += take;
    }
    if (zeros >= 0 && !sparse) out.fill(0, outOff + zeros, outOff + n);
    return extent;
  }

  /** Writes `n` dwords of `src` from `srcOff` at `addr` (each taken modulo 2^32). */
  write(addr: number, src: ArrayLike<number>, srcOff: number, n: number): void {
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const lineOff = (a >>> 2) & 63;
      const take = Math.min(n - i, LINE_DWORDS - lineOff);
      const line = this.writableLine(Math.floor(a / PAGE_SIZE), (a >>> 8) & 15);
      const c = this.arena.chunks[line >>> CHUNK_SHIFT];
      const o = ((line & CHUNK_MASK) << 6) + lineOff;
      for (let j = 0; j < take; j++) c[o + j] = src[srcOff + i + j];
      i += take;
    }
  }

  /** ORs `mask` into the dword at `addr`. */
  or32(addr: number, mask: number): void {
    const line = this.writableLine(Math.floor(addr / PAGE_SIZE), (addr >>> 8) & 15);
    const c = this.arena.chunks[line >>> CHUNK_SHIFT];
    const o = ((line & CHUNK_MASK) << 6) + ((addr >>> 2) & 63);
    c[o] |= mask;
  }

  /**
   * ORs `mask` into the dword at `dword` of each of `count` records of `stride` bytes from
   * `base` (4-aligned, all in RAM): or32 on each, each storage line looked up once.
   */
  orStrided(base: number, stride: number, count: number, dword: number, mask: number): void {
    let lineBase = -1, c: Uint32Array | undefined, o = 0;
    for (let i = 0; i < count; i++) {
      const a = base + i * stride + dword * 4;
      const lb = a - (a % LINE_BYTES);
      if (lb !== lineBase) {
        lineBase = lb;
        const line = this.writableLine(Math.floor(a / PAGE_SIZE), (a >>> 8) & 15);
        c = this.arena.chunks[line >>> CHUNK_SHIFT];
        o = (line & CHUNK_MASK) << 6;
      }
      c![o + ((a >>> 2) & 63)] |= mask;
    }
  }

  /** Zeroes [addr, addr+len): whole lines are dropped, partial ones cleared. */
  zero(addr: number, len: number): void {
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const pfn = Math.floor(a / PAGE_SIZE);
      const pageEnd = Math.min((pfn + 1) * PAGE_SIZE, end);
      const s = this.index.get(pfn);
      if (s < 0 || this.mask[s] === 0) {
        a = pageEnd; // nothing stored in this page
        continue;
      }
      while (a < pageEnd) {
        const lineStart = a - (a % LINE_BYTES);
        const lineEnd = Math.min(lineStart + LINE_BYTES, pageEnd);
        const k = (a >>> 8) & 15;
        if (this.mask[s] & (1 << k)) {
          if (a === lineStart && lineEnd === lineStart + LINE_BYTES) this.dropLine(pfn, k);
          else {
            const line = this.writableLine(pfn, k);
            const o = (line & CHUNK_MASK) << 6;
            this.arena.chunk(line).fill(0, o + ((a >>> 2) & 63), o + ((lineEnd - lineStart) >>> 2));
          }
        }
        a = lineEnd;
      }
    }
  }

  /**
   * Copies whole lines: [src, src+len) to dst, both line-aligned, len a multiple of 256.
   * Lines absent in the source are dropped in the destination (they read as zeros).
   */
  copyLines(dst: number, src: number, len: number): void {
    for (let off = 0; off < len; off += LINE_BYTES) {
      const sa = src + off, da = dst + off;
      const sp = Math.floor(sa / PAGE_SIZE), dp = Math.floor(da / PAGE_SIZE);
      const sk = (sa >>> 8) & 15, dk = (da >>> 8) & 15;
      const from = this.lineOf(sp, sk);
      if (from >= 0) {
        const to = this.writableLine(dp, dk);
        const src = this.arena.chunk(from), fo = (from & CHUNK_MASK) << 6;
        const dst = this.arena.chunk(to), o = (to & CHUNK_MASK) << 6;
        for (let j = 0; j < LINE_DWORDS; j++) dst[o + j] = src[fo + j];
      } else if (this.lineOf(dp, dk) >= 0) this.dropLine(dp, dk);
    }
  }

  /** True if line `line` of this store holds only zeros. */
  private lineIsZero(line: number): boolean {
    const c = this.arena.chunk(line), o = this.arena.offset(line);
    for (let i = o; i < o + LINE_DWORDS; i++) if (c[i] !== 0) return false;
    return true;
  }

  /** True if page `pfn` reads as all zeros. */
  pageIsBlank(pfn: number): boolean {
    const s = this.index.get(pfn);
    return s < 0 || this.slotIsBlank(s);
  }

  private slotIsBlank(s: number): boolean {
    const m = this.mask[s];
    if (m === 0) return true;
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      if (m & (1 << k) && !this.lineIsZero(this.lineAt(s, k))) return false;
    }
    return true;
  }

  /** Page frame numbers of the pages holding a line that is not all zeros, ascending. */
  nonBlankPages(): number[] {
    const found: number[] = [];
    let sorted = true;
    for (let s = 0; s < this.index.size; s++) {
      if (this.slotIsBlank(s)) continue;
      const pfn = this.index.pfnAt(s);
      if (found.length && pfn < found[found.length - 1]) sorted = false;
      found.push(pfn);
    }
    return sorted ? found : found.sort((a, b) => a - b);
  }

  /**
   * Gives the store's arrays back to the pool (pool.ts): for a store no one reads again (the
   * machine of a finished `run()`). It is empty afterwards, and must not be used.
   */
  dispose(): void {
    this.arena.dispose();
    this.snapshot?.dispose();
    this.snapshot = null;
    this.index.dispose();
    for (const a of [this.mask, this.snapped, this.ref, this.blocks]) giveBack(a);
    this.mask = this.snapped = new Uint16Array(0);
    this.ref = this.blocks = new Int32Array(0);
  }

  // ---- snapshot -------------------------------------------------------------------------

  /** Starts a snapshot (dropping any earlier one): from now on first writes keep originals. */
  beginSnapshot(): void {
    this.snapshot = new Snapshot();
    this.snapped.fill(0);
  }

  /**
   * Where line `k` of page `pfn` was at the snapshot: a line of this store's arena (>= 0),
   * one of the snapshot's arena (-2 - id), or -1 when it was absent.
   */
  private originalLine(pfn: number, k: number): number {
    const s = this.index.get(pfn);
    if (s < 0) return -1;
    if (this.snapshot !== null && this.snapped[s] & (1 << k)) {
      const kept = this.snapshot.lineId(pfn, k);
      return kept < 0 ? -1 : -2 - kept;
    }
    return this.lineAt(s, k);
  }

  /** The chunk of an {@link originalLine} answer (not -1). */
  private originalChunk(at: number): Uint32Array {
    return at >= 0 ? this.arena.chunk(at) : this.snapshot!.arena.chunk(-2 - at);
  }

  /** Page `pfn` as it was at the snapshot (as it is, without one) into `out` (1024 dwords). */
  readOriginalPage(pfn: number, out: Uint32Array): void {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const at = this.originalLine(pfn, k);
      if (at === -1) {
        out.fill(0, k * LINE_DWORDS, (k + 1) * LINE_DWORDS);
        continue;
      }
      const o = ((at >= 0 ? at : -2 - at) & CHUNK_MASK) << 6;
      out.set(this.originalChunk(at).subarray(o, o + LINE_DWORDS), k * LINE_DWORDS);
    }
  }

  /**
   * Whether page `pfn`, as it was at the snapshot (as it is, without one), equals the `n`
   * dwords of `data` from `from` (dwords from the page's start; missing trailing dwords count
   * as zeros).
   */
  originalPageEquals(pfn: number, data: Uint32Array, from = 0, n = data.length - from): boolean {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const base = k * LINE_DWORDS;
      const at = this.originalLine(pfn, k);
      if (at !== -1) {
        const c = this.originalChunk(at);
        const o = ((at >= 0 ? at : -2 - at) & CHUNK_MASK) << 6;
        const inData = Math.min(Math.max(n - base, 0), LINE_DWORDS);
        const d = from + base;
        for (let i = 0; i < inData; i++) if (c[o + i] !== data[d + i]) return false;
        for (let i = inData; i < LINE_DWORDS; i++) if (c[o + i] !== 0) return false;
      } else {
        for (let i = base; i < n && i < base + LINE_DWORDS; i++) {
          if (data[from + i] !== 0) return false;
        }
      }
    }
    return true;
  }

  /** Whether page `pfn` read as all zeros at the snapshot. */
  originalPageIsBlank(pfn: number): boolean {
    for (let k = 0; k < LINES_PER_PAGE; k++) {
      const at = this.originalLine(pfn, k);
      if (at === -1) continue;
      const c = this.originalChunk(at);
      const o = ((at >= 0 ? at : -2 - at) & CHUNK_MASK) << 6;
      for (let i = o; i < o + LINE_DWORDS; i++) if (c[i] !== 0) return false;
    }
    return true;
  }
}
