/**
 * Physical memory: a sparse 52-bit address space with a memory map and owner tags.
 *
 * Addresses are JS numbers (< 2^52, exact). 64-bit values are two 32-bit halves, low half
 * first. This module puts three parts together, each in a module of its own:
 *
 * - the memory map (`memory/map.ts`): RAM (`ram`, or `reserved` RAM that firmware owns), MMIO
 *   windows served by a handler, holes. CPU reads from a hole return all ones and writes are
 *   dropped; DMA into a hole or MMIO window master-aborts (the bus decides that through
 *   {@link PhysMem.dmaTarget});
 * - the contents of RAM (`memory/store.ts`): sparse, keyed by page, in 256-byte lines held in
 *   typed-array arenas (unwritten RAM reads as zero and costs nothing), with a copy-on-write
 *   snapshot (`memory/snapshot.ts`) the lab takes at the panic;
 * - memory encryption (`memory/sme.ts`), once firmware enables it: an address with the C-bit
 *   set reaches RAM without the bit, encrypted on the way in and decrypted on the way out;
 * - owner tags (`owners.ts`): each 4 KiB page's owner — firmware, free, one of the kernels,
 *   the crash kernel reserve — with an optional purpose and device, so the lab can tell
 *   legitimate DMA from stray DMA and say whose memory a stray write hit.
 *
 * @module
 */
import { MemoryMap, type MmioHandler, type Region } from "./memory/map.ts";
import { LINE_BYTES, LineStore, PAGE_SIZE } from "./memory/store.ts";
import { type Owner, PageOwners } from "./owners.ts";
import { decryptBlock, encryptBlock, SME_BLOCK_BYTES, type SmeKey } from "./memory/sme.ts";

export type { Owner, OwnerWho } from "./owners.ts";
export type { MmioHandler, Region, RegionKind } from "./memory/map.ts";
export { PHYS_LIMIT } from "./memory/map.ts";
export { LINE_BYTES, PAGE_SIZE } from "./memory/store.ts";
export type { SmeKey } from "./memory/sme.ts";

const LINE_DWORDS = LINE_BYTES / 4;

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

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function unaligned(op: string, addr: number): RangeError {
  return new RangeError(`unaligned ${op} at 0x${addr.toString(16)}`);
}

/** What the memory of a disposed machine holds instead of its store: any use throws. */
const DISPOSED = new Proxy({}, {
  get(): never {
    throw new Error("this memory was disposed (its run finished); it cannot be used again");
  },
}) as LineStore;

/** Physical memory of one machine. */
export class PhysMem {
  private readonly map = new MemoryMap();
  private store = new LineStore();
  private readonly owners = new PageOwners();
  /** Scratch of the unaligned copy path. */
  private readonly copyBuf = new Uint32Array(LINE_DWORDS);
  /** Count of 32-bit accesses, for statistics. */
  accesses = 0;
  /**
   * The C-bit's value (2^cbit) while memory encryption is enabled; Infinity otherwise, so
   * `addr >= cFrom` is the one test the data paths make (no address reaches Infinity).
   */
  private cFrom = Infinity;
  private smeKey: SmeKey = [0, 0];
  /** A page, for decrypted comparisons. */
  private pageBuf_?: Uint32Array;
  private get pageBuf(): Uint32Array {
    return this.pageBuf_ ??= new Uint32Array(PAGE_SIZE / 4);
  }
  /** One encryption block, for the encrypted paths. */
  private readonly block = new Uint32Array(4);

  constructor(map: readonly Region[] = []) {
    for (const r of map) this.addRegion(r);
  }

  /**
   * Gives the storage back for the next machine (memory/pool.ts): for the memory of a finished
   * run whose report is made. Reading or writing it afterwards throws; owner tags read as
   * the memory map's.
   */
  dispose(): void {
    if (this.store === DISPOSED) return;
    this.store.dispose();
    this.store = DISPOSED;
    this.owners.dispose();
  }

  /**
   * Enables memory encryption (SYSCFG MemEncryptionModeEn, set by firmware): from now on an
   * address with bit `cbit` set reaches RAM at the address without it, its data encrypted
   * with `key` (see memory/sme.ts).
   */
  enableEncryption(cbit: number, key: SmeKey): void {
    this.cFrom = 2 ** cbit;
    this.smeKey = key;
  }

  /** The C-bit's value (2^cbit) while memory encryption is enabled, else 0. */
  get cBit(): number {
    return this.cFrom === Infinity ? 0 : this.cFrom;
  }

  /**
   * `addr` without the C-bit, when memory encryption is enabled and it is set; else -1. (The
   * physical address the controller uses.)
   */
  private plainOf(addr: number): number {
    const c = this.cFrom;
    return addr >= c && Math.floor(addr / c) % 2 === 1 ? addr - c : -1;
  }

  /** `addr` as the memory controller sees it: without the C-bit, if encryption uses it. */
  physical(addr: number): number {
    if (addr < this.cFrom) return addr;
    const p = this.plainOf(addr);
    return p < 0 ? addr : p;
  }

  /** Decrypting read of `n` dwords at `pa` (RAM without the C-bit) into `out` from `o`. */
  private encRead(pa: number, n: number, out: Uint32Array, o: number): void {
    const b = this.block, end = pa + n * 4;
    for (let blk = pa - (pa % SME_BLOCK_BYTES); blk < end; blk += SME_BLOCK_BYTES) {
      if (!this.map.isRam(blk, SME_BLOCK_BYTES)) b.fill(0xffff_ffff);
      else {
        this.store.read(blk, 4, b, 0);
        decryptBlock(this.smeKey, blk, b);
      }
      for (let i = 0; i < 4; i++) {
        const a = blk + i * 4;
        if (a >= pa && a < end) out[o + (a - pa) / 4] = b[i];
      }
    }
    this.accesses += n;
  }

  /** Encrypting write of `n` dwords of `src` from `s` to `pa` (RAM without the C-bit). */
  private encWrite(pa: number, src: ArrayLike<number>, s: number, n: number): void {
    const b = this.block, end = pa + n * 4;
    for (let blk = pa - (pa % SME_BLOCK_BYTES); blk < end; blk += SME_BLOCK_BYTES) {
      if (!this.map.isRam(blk, SME_BLOCK_BYTES)) continue; // dropped
      if (blk < pa || blk + SME_BLOCK_BYTES > end) { // part of the block: read, modify
        this.store.read(blk, 4, b, 0);
        decryptBlock(this.smeKey, blk, b);
      }
      for (let i = 0; i < 4; i++) {
        const a = blk + i * 4;
        if (a >= pa && a < end) b[i] = src[s + (a - pa) / 4];
      }
      encryptBlock(this.smeKey, blk, b);
      this.store.write(blk, b, 0, 4);
    }
    this.accesses += n;
  }

  /** Adds a memory-map entry (later entries win where they overlap). */
  addRegion(r: Region): void {
    this.map.add(r);
    if (r.kind === "reserved") this.setOwner(r.base, r.size, { who: "firmware", what: r.name });
  }

  /** Maps an MMIO window: CPU accesses inside it go to `handler`. */
  mapMmio(base: number, size: number, name: string, handler: MmioHandler): void {
    this.map.addMmio(base, size, name, handler);
  }

  /** The memory map, in insertion order. */
  memoryMap(): readonly Region[] {
    return this.map.list();
  }

  /**
   * The stretch of the memory map containing `addr`: its kind and name, with `base`/`size`
   * clipped to where that kind continues (later-declared regions win where they overlap).
   */
  regionAt(addr: number): Region {
    return this.map.regionAt(addr);
  }

  /** True if [addr, addr+len) is entirely RAM (`ram` or `reserved`). */
  isRam(addr: number, len = 1): boolean {
    return this.map.isRam(this.physical(addr), len);
  }

  /**
   * What a DMA access to [addr, addr+len) reaches: `ram`, or `abort` (hole, MMIO window or
   * beyond the address space: the root complex master-aborts).
   */
  dmaTarget(addr: number, len: number): "ram" | "abort" {
    if (addr < 0 || addr + len > 2 ** 52) return "abort";
    addr = this.physical(addr);
    return this.map.isRam(addr, len) ? "ram" : "abort";
  }

  // ---- owner tags -------------------------------------------------------------------------

  /** Tags every page of [base, base+size) with `owner`. */
  setOwner(base: number, size: number, owner: Owner): void {
    this.owners.tag(Math.floor(base / PAGE_SIZE), Math.ceil((base + size) / PAGE_SIZE), owner);
  }

  /** Owner tag of the page holding `addr`. */
  ownerOf(addr: number): Owner {
    return this.owners.of(Math.floor(this.physical(addr) / PAGE_SIZE));
  }

  // ---- data ---------------------------------------------------------------------------------

  /** CPU/device 32-bit read (aligned). Holes read as all ones; MMIO goes to its handler. */
  read32(addr: number): number {
    this.accesses++;
    const map = this.map;
    // Fast path: inside the RAM segment found last (addr is then a non-negative number).
    if (!(addr >= map.ramLo && addr + 4 <= map.ramHi)) return this.read32Slow(addr);
    if ((addr & 3) !== 0) throw unaligned("read32", addr);
    return this.store.read32(addr);
  }

  private read32Slow(addr: number): number {
    if (addr % 4 !== 0) throw unaligned("read32", addr);
    if (addr >= this.cFrom) {
      const pa = this.plainOf(addr);
      if (pa >= 0) {
        this.encRead(pa, 1, this.block, 0);
        return this.block[0];
      }
    }
    const m = this.map.mmioAt(addr);
    if (m) return m.handler.read32(addr - m.base) >>> 0;
    if (!this.map.isRam(addr, 4)) return 0xffff_ffff;
    return this.store.read32(addr);
  }

  /** 32-bit write (aligned). Writes to holes are dropped. */
  write32(addr: number, value: number): void {
    this.accesses++;
    const map = this.map;
    if (!(addr >= map.ramLo && addr + 4 <= map.ramHi)) return this.write32Slow(addr, value);
    if ((addr & 3) !== 0) throw unaligned("write32", addr);
    this.store.write32(addr, value);
  }

  private write32Slow(addr: number, value: number): void {
    if (addr % 4 !== 0) throw unaligned("write32", addr);
    if (addr >= this.cFrom) {
      const pa = this.plainOf(addr);
      if (pa >= 0) return this.encWrite(pa, [value >>> 0], 0, 1);
    }
    const m = this.map.mmioAt(addr);
    if (m) return m.handler.write32(addr - m.base, value >>> 0);
    if (!this.map.isRam(addr, 4)) return;
    this.store.write32(addr, value);
  }

  /** 64-bit read as [low, high]. */
  read64(addr: number): [number, number] {
    return [this.read32(addr), this.read32(addr + 4)];
  }

  /** 64-bit write as two 32-bit writes, low half first. */
  write64(addr: number, lo: number, hi: number): void {
    const map = this.map;
    if ((addr & 7) === 0 && ((addr >= map.ramLo && addr + 8 <= map.ramHi) || map.isRam(addr, 8))) {
      // Both halves in one storage line: found once (the same as two writes, nothing runs
      // between them).
      this.accesses += 2;
      this.store.writeQword(addr, lo, hi);
      return;
    }
    this.write32(addr, lo);
    this.write32(addr + 4, hi);
  }

  /**
   * The qword at `addr` into `out[0]` (low) and `out[1]` when it lies in plain RAM (true);
   * false, reading nothing, otherwise — the caller then reads it as 32-bit CPU reads (MMIO
   * included). For kernel table walks: one lookup instead of two.
   */
  ramQword(addr: number, out: Uint32Array): boolean {
    const map = this.map;
    if ((addr & 7) !== 0) return false;
    if (!(addr >= map.ramLo && addr + 8 <= map.ramHi) && !map.isRam(addr, 8)) return false;
    this.accesses += 2;
    this.store.readQword(addr, out, 0);
    return true;
  }

  /**
   * Reads the qword of RAM at `addr` into `out[at]` (low half) and `out[at + 1]`: a table
   * entry, looked up once (no MMIO; outside RAM it reads as all ones, as {@link readDwords}).
   */
  readQword(addr: number, out: Uint32Array, at = 0): void {
    const map = this.map;
    if (addr >= map.ramLo && addr + 8 <= map.ramHi && (addr & 7) === 0) {
      this.accesses += 2;
      this.store.readQword(addr, out, at);
    } else this.readDwords(addr, 2, out, at);
  }

  /**
   * Reads `n` dwords of RAM at `addr` into `out` (fast path for table reads; no MMIO).
   * Returns how many of the `n` dwords, from the first, may be non-zero: the rest read as
   * zeros (never-written lines), so a caller keeping the data sparsely need not look at them
   * — with `sparse`, in RAM, they are not even written into `out` (left as they were).
   */
  readDwords(addr: number, n: number, out: Uint32Array, outOff = 0, sparse = false): number {
    if (addr >= this.cFrom) {
      const pa = this.plainOf(addr);
      if (pa >= 0) {
        this.encRead(pa, n, out, outOff);
        return n; // (decrypted: any of them may be non-zero)
      }
    }
    this.accesses += n;
    if (this.map.isRam(addr, n * 4)) return this.store.read(addr, n, out, outOff, sparse);
    // Part of the range is not RAM: line by line, outside RAM reads as all ones.
    let extent = 0;
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const take = Math.min(
        n - i,
        LINE_DWORDS - (((a % LINE_BYTES) + LINE_BYTES) % LINE_BYTES >>> 2),
      );
      const o = outOff + i;
      if (!this.map.isRam(a, take * 4)) {
        out.fill(0xffff_ffff, o, o + take);
        extent = i + take;
      } else {
        const e = this.store.read(a, take, out, o);
        if (e) extent = i + e;
      }
      i += take;
    }
    return extent;
  }

  /**
   * Writes `n` dwords of `src` from `srcOff` (default: all of it) to RAM at `addr` (no MMIO;
   * holes drop the data).
   */
  writeDwords(addr: number, src: ArrayLike<number>, srcOff = 0, n = src.length - srcOff): void {
    if (addr >= this.cFrom) {
      const pa = this.plainOf(addr);
      if (pa >= 0) return this.encWrite(pa, src, srcOff, n);
    }
    this.accesses += n;
    if (this.map.isRam(addr, n * 4)) return this.store.write(addr, src, srcOff, n);
    for (let i = 0; i < n;) {
      const a = addr + i * 4;
      const take = Math.min(
        n - i,
        LINE_DWORDS - (((a % LINE_BYTES) + LINE_BYTES) % LINE_BYTES >>> 2),
      );
      if (this.map.isRam(a, take * 4)) this.store.write(a, src, srcOff + i, take);
      i += take;
    }
  }

  /**
   * ORs `mask` into the dword at `dword` of each of `count` records of `stride` bytes from
   * `base` (a CPU loop such as setting a bit in every DTE of a table).
   */
  orStrided(base: number, stride: number, count: number, dword: number, mask: number): void {
    if (base >= this.cFrom && this.plainOf(base) >= 0) {
      const one = new Uint32Array(1);
      for (let i = 0; i < count; i++) {
        const a = base + i * stride + dword * 4;
        this.readDwords(a, 1, one);
        one[0] |= mask;
        this.writeDwords(a, one);
      }
      return;
    }
    this.accesses += 2 * count;
    const first = base + dword * 4;
    if (
      count > 0 && first % 4 === 0 && stride % 4 === 0 &&
      this.map.isRam(first, (count - 1) * stride + 4)
    ) {
      return this.store.orStrided(base, stride, count, dword, mask); // all RAM: line by line
    }
    for (let i = 0; i < count; i++) {
      const a = base + i * stride + dword * 4;
      if (this.map.isRam(a, 4)) this.store.or32(a, mask);
    }
  }

  /** Zeroes [addr, addr+len) (whole lines are dropped, so zeroing a 2 MiB table is cheap). */
  zero(addr: number, len: number): void {
    if (addr % 4 || len % 4) throw new RangeError("zero: unaligned range");
    // Through the C-bit too: zeros encrypt to zeros (memory/sme.ts).
    this.store.zero(this.physical(addr), len);
  }

  /** Copies [src, src+len) to dst (RAM to RAM, as a CPU memcpy; 4-byte granular). */
  copy(dst: number, src: number, len: number): void {
    if (dst % 4 || src % 4 || len % 4) throw new RangeError("copy: unaligned range");
    if (
      dst % LINE_BYTES === 0 && src % LINE_BYTES === 0 && len % LINE_BYTES === 0 &&
      this.map.isRam(src, len) && this.map.isRam(dst, len)
    ) {
      // Whole lines: copy line contents, drop absent ones (they read as zero).
      this.store.copyLines(dst, src, len);
      this.accesses += len / 2;
      return;
    }
    const buf = this.copyBuf;
    for (let off = 0; off < len; off += LINE_BYTES) {
      const n = Math.min(LINE_BYTES, len - off);
      if (!this.anyLine(src + off, n)) {
        this.zero(dst + off, n);
        continue;
      }
      const view = n === LINE_BYTES ? buf : buf.subarray(0, n >>> 2);
      this.readDwords(src + off, n >>> 2, view);
      this.writeDwords(dst + off, view);
    }
  }

  /** Whether any storage line overlapping [addr, addr+len) is stored. */
  private anyLine(addr: number, len: number): boolean {
    addr = this.physical(addr); // (a zero line is zero through the C-bit as well)
    const first = Math.floor(addr / LINE_BYTES), last = Math.floor((addr + len - 1) / LINE_BYTES);
    for (let line = first; line <= last; line++) {
      const pfn = Math.floor(line / 16);
      if (this.store.pageMask(pfn) & (1 << (line - pfn * 16))) return true;
    }
    return false;
  }

  /** True if the page holding `addr` has never been written (reads as zero). */
  pageIsBlank(addr: number): boolean {
    return this.store.pageIsBlank(Math.floor(this.physical(addr) / PAGE_SIZE));
  }

  /** Page frame numbers of all pages holding a written line that is not all zeros, ascending. */
  nonBlankPages(): number[] {
    return this.store.nonBlankPages();
  }

  /**
   * Starts a copy-on-write snapshot: from now on the first write to each line keeps its
   * previous contents, so the memory at this instant can be compared with later memory.
   * The lab takes one at the panic.
   */
  beginSnapshot(): void {
    this.store.beginSnapshot();
  }

  /**
   * Whether the page `pfn`, as it was at the snapshot, equals `data` (dwords from the page's
   * start; missing trailing dwords count as zeros) — or the `n` dwords of `data` from `from`.
   * Compares line by line; with `decrypted`, the page as a read through the C-bit gives it.
   */
  originalPageEquals(
    pfn: number,
    data: Uint32Array,
    from = 0,
    n?: number,
    decrypted = false,
  ): boolean {
    // n defaults to the rest of `data` from `from` (the store's default).
    if (!decrypted || this.cFrom === Infinity) {
      return this.store.originalPageEquals(pfn, data, from, n);
    }
    const page = this.pageBuf;
    this.store.readOriginalPage(pfn, page);
    for (let o = 0; o < page.length; o += 4) {
      decryptBlock(this.smeKey, pfn * PAGE_SIZE + o * 4, page, o);
    }
    const len = n ?? data.length - from;
    for (let i = 0; i < page.length; i++) {
      if (page[i] !== (i < len ? data[from + i] : 0)) return false;
    }
    return true;
  }

  /** Whether the page `pfn` read as all zeros at the snapshot. */
  originalPageIsBlank(pfn: number): boolean {
    return this.store.originalPageIsBlank(pfn);
  }
}
