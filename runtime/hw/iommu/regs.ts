/**
 * The IOMMU's MMIO register file: storage for the 64-bit registers of the map, each
 * reachable as two 32-bit halves, with access rules (read-only, RW1C) derived from the
 * register layouts.
 *
 * @module
 */
import type { Layout } from "../bits.ts";
import { joinQword } from "../bits.ts";
import { REGISTERS } from "../layouts/mmio.ts";

interface Slot {
  offset: number;
  layout: Layout;
  rw1c: Uint32Array;
  ro: Uint32Array;
}

/** Register storage of one IOMMU. */
export class RegisterFile {
  /** Dwords of every implemented register, two per register. */
  readonly words: Uint32Array;
  private readonly slots = new Map<number, { slot: Slot; index: number }>();

  constructor() {
    this.words = new Uint32Array(REGISTERS.length * 2);
    REGISTERS.forEach((r, i) => {
      const slot: Slot = {
        offset: r.offset,
        layout: r.layout,
        rw1c: r.layout.maskWhere((f) => f.access === "rw1c"),
        // Reserved bits ignore software writes (they read back as the hardware left them).
        ro: r.layout.maskWhere((f) => f.access === "ro" || !!f.reserved),
      };
      this.slots.set(r.offset, { slot, index: i * 2 });
    });
  }

  private find(offset: number): { slot: Slot; index: number; half: number } | undefined {
    const base = offset & ~7;
    const s = this.slots.get(base);
    return s ? { ...s, half: (offset & 4) >> 2 } : undefined;
  }

  /** True if `offset` is a (32-bit aligned) offset of an implemented register. */
  implements(offset: number): boolean {
    return this.find(offset) !== undefined;
  }

  /** Raw 32-bit read (no side effects). */
  get32(offset: number): number {
    const s = this.find(offset);
    return s ? this.words[s.index + s.half] : 0;
  }

  /** Raw 32-bit store (hardware-side update; ignores access rules). */
  put32(offset: number, value: number): void {
    const s = this.find(offset);
    if (s) this.words[s.index + s.half] = value >>> 0;
  }

  /**
   * A software write: RW1C bits are cleared where 1s are written, read-only and reserved bits
   * keep their value, everything else takes the written value. Returns the previous raw value.
   */
  write32(offset: number, value: number): number {
    const s = this.find(offset);
    if (!s) return 0;
    const i = s.index + s.half;
    const old = this.words[i];
    const rw1c = s.slot.rw1c[s.half], ro = s.slot.ro[s.half];
    const keep = ro | rw1c;
    const cleared = old & rw1c & ~value;
    this.words[i] = ((old & ro) | cleared | (value & ~keep)) >>> 0;
    return old;
  }

  /** Reads a whole 64-bit register as a number (exact below 2^53). */
  get64(offset: number): number {
    return joinQword(this.get32(offset), this.get32(offset + 4));
  }

  /** Dword view of a register for its layout's accessors: `layout.get(regs.words, f, off)`. */
  dwordOffset(offset: number): number {
    const s = this.find(offset);
    if (!s) throw new RangeError(`no register at 0x${offset.toString(16)}`);
    return s.index;
  }

  /** Reads field `name` of the register at `offset`. */
  field(offset: number, name: string): number {
    const s = this.find(offset)!;
    return s.slot.layout.field(name).get(this.words, s.index);
  }

  /** Hardware-side write of field `name` of the register at `offset`. */
  setField(offset: number, name: string, value: number): void {
    const s = this.find(offset)!;
    s.slot.layout.field(name).set(this.words, value, s.index);
  }
}
