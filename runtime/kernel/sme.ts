/**
 * A kernel running with SME active (`mem_encrypt=on` on a machine whose firmware enabled
 * memory encryption): its direct map has the C-bit in every entry, so the CPU reaches the
 * kernel's own RAM through addresses with the bit set — encrypted. Memory that is not the
 * kernel's own (the crashed kernel's, seen from a kdump kernel) it reaches through
 * memremap()/ioremap(), without the bit, unless it maps it with ioremap_encrypted(); MMIO is
 * never encrypted.
 *
 * In the model a kernel's "virtual" addresses are physical addresses; a mapping with the C-bit
 * is the physical address with the bit set, which is what the CPU sends to the memory
 * controller. {@link EncryptedDirectMap} adds the bit to addresses in the kernel's own RAM
 * and passes every other address as it is (one that carries the bit already included).
 *
 * @module
 */
import type { PhysMem, Region } from "../hw/memory.ts";
import type { KernelMemory } from "./kernel.ts";

/**
 * Memory as kernel code uses it: {@link KernelMemory}'s calls plus the 64-bit table accesses
 * the I/O page-table code makes (`write64`, `ramQword`). PhysMem is one; so is
 * {@link EncryptedDirectMap}.
 */
export interface CpuMemory extends KernelMemory {
  /** A 64-bit store as two 32-bit halves, low first (a table entry). */
  write64(addr: number, lo: number, hi: number): void;
  /**
   * The qword at `addr` into `out[0..1]` when it lies in plain RAM (true); false, reading
   * nothing, otherwise (the caller then reads it as two 32-bit reads).
   */
  ramQword(addr: number, out: Uint32Array): boolean;
}

/** The CPU's view of memory in a kernel with SME active (see the module's doc). */
export class EncryptedDirectMap implements CpuMemory {
  /**
   * `own`: the kernel's RAM, reached through its encrypted direct map (undefined: all RAM, a
   * first kernel's); `cbit`: the C-bit's value (2^position).
   */
  constructor(
    private readonly mem: PhysMem,
    private readonly cbit: number,
    private readonly own?: readonly { base: number; size: number }[],
  ) {}

  /** The address the CPU sends for `addr`: with the C-bit when it is in the kernel's own RAM. */
  private va(addr: number): number {
    if (addr >= this.cbit) return addr; // mapped with the bit already
    if (this.own === undefined) return this.mem.isRam(addr) ? addr + this.cbit : addr;
    for (const r of this.own) if (addr >= r.base && addr < r.base + r.size) return addr + this.cbit;
    return addr;
  }

  read32(addr: number): number {
    return this.mem.read32(this.va(addr));
  }
  write32(addr: number, value: number): void {
    this.mem.write32(this.va(addr), value);
  }
  write64(addr: number, lo: number, hi: number): void {
    this.mem.write64(this.va(addr), lo, hi);
  }
  ramQword(addr: number, out: Uint32Array): boolean {
    return this.mem.ramQword(this.va(addr), out);
  }
  readQword(addr: number, out: Uint32Array, at = 0): void {
    this.mem.readQword(this.va(addr), out, at);
  }
  readDwords(addr: number, n: number, out: Uint32Array, outOff = 0, sparse = false): number {
    return this.mem.readDwords(this.va(addr), n, out, outOff, sparse);
  }
  writeDwords(addr: number, src: ArrayLike<number>, srcOff = 0, n = src.length - srcOff): void {
    this.mem.writeDwords(this.va(addr), src, srcOff, n);
  }
  orStrided(base: number, stride: number, count: number, dword: number, mask: number): void {
    this.mem.orStrided(this.va(base), stride, count, dword, mask);
  }
  zero(addr: number, len: number): void {
    this.mem.zero(this.va(addr), len);
  }
  copy(dst: number, src: number, len: number): void {
    this.mem.copy(this.va(dst), this.va(src), len);
  }
  isRam(addr: number, len = 1): boolean {
    return this.mem.isRam(addr, len);
  }
  regionAt(addr: number): Region {
    return this.mem.regionAt(this.mem.physical(addr));
  }
  memoryMap(): readonly Region[] {
    return this.mem.memoryMap();
  }
  pageIsBlank(addr: number): boolean {
    return this.mem.pageIsBlank(addr);
  }
}
