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

/** Which half of its 64-bit register `offset` addresses (0: low, 1: high). */
function half(offset: number): number {
  return (offset & 4) >> 2;
}

/** Every register's slot and first word, by offset (derived once from the register map). */
const SLOTS = new Map<number, { slot: Slot; index: number }>(
  REGISTERS.map((r, i) => {
    const slot: Slot = {
      offset: r.offset,
      layout: r.layout,
      rw1c: r.layout.maskWhere((f) => f.access === "rw1c"),
      // Reserved bits ignore software writes (they read back as the hardware left them).
      ro: r.layout.maskWhere((f) => f.access === "ro" || !!f.reserved),
    };
    return [r.offset, { slot, index: i * 2 }];
  }),
);

/** Register storage of one IOMMU. */
export class RegisterFile {
  /** Dwords of every implemented register, two per register. */
  readonly words: Uint32Array = new Uint32Array(REGISTERS.length * 2);
  private readonly slots = SLOTS;

  /** The register holding `offset` (its slot and first word), if implemented. */
  private find(offset: number): { slot: Slot; index: number } | undefined {
    return this.slots.get(offset & ~7);
  }

  /** True if `offset` is a (32-bit aligned) offset of an implemented register. */
  implements(offset: number): boolean {
    return this.slots.has(offset & ~7);
  }

  /** Raw 32-bit read (no side effects). */
  get32(offset: number): number {
    const s = this.find(offset);
    return s ? this.words[s.index + half(offset)] : 0;
  }

  /** Raw 32-bit store (hardware-side update; ignores access rules). */
  put32(offset: number, value: number): void {
    const s = this.find(offset);
    if (s) this.words[s.index + half(offset)] = value >>> 0;
  }

  /**
   * A software write: RW1C bits are cleared where 1s are written, read-only and reserved bits
   * keep their value, everything else takes the written value. Returns the previous raw value.
   */
  write32(offset: number, value: number): number {
    const s = this.find(offset);
    if (!s) return 0;
    const h = half(offset);
    const i = s.index + h;
    const old = this.words[i];
    const rw1c = s.slot.rw1c[h], ro = s.slot.ro[h];
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
