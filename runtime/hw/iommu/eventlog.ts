/**
 * Log rings the IOMMU writes into memory: the event log and the PPR log. Both are rings of
 * 16-byte entries at a base register with a 2^Len length; the IOMMU writes at Tail and
 * advances it, software consumes at Head. A full ring (Tail + 16 == Head) sets the overflow
 * status bit and drops the entry (reference §1.3, §6).
 *
 * `ringState` reads any ring's registers, the command buffer's too.
 *
 * @module
 */
import type { PhysMem } from "../memory.ts";
import type { RegisterFile } from "./regs.ts";

/** Where one ring's base/length and head/tail registers live (any ring of 16-byte entries). */
export interface RingPointers {
  base: number;
  head: number;
  tail: number;
  lenField: string;
}

/** A log ring's registers plus its Control enable bit and Status bits. */
export interface RingRegs extends RingPointers {
  enableBit: string;
  overflowBit: string;
  intBit: string;
}

/** A ring as its registers describe it now: base SPA, size, head and tail offsets in bytes. */
export interface RingState {
  base: number;
  size: number;
  head: number;
  tail: number;
}

/** Bytes per entry of every IOMMU ring (commands, events, PPR requests). */
const ENTRY_BYTES = 16;

/** Reads the ring described by `r` from the registers. */
export function ringState(regs: RegisterFile, r: RingPointers): RingState {
  const size = 2 ** regs.field(r.base, r.lenField) * ENTRY_BYTES;
  return {
    base: regs.field(r.base, "Base") * 4096,
    size,
    head: (regs.field(r.head, "Ptr") * 16) % size,
    tail: (regs.field(r.tail, "Ptr") * 16) % size,
  };
}

/** Outcome of appending an entry. */
export type AppendResult = "written" | "overflow" | "disabled" | "dropped";

/** Appends an entry to the ring described by `r`; returns what happened. */
export function appendToRing(
  mem: PhysMem,
  regs: RegisterFile,
  r: RingRegs,
  entry: Uint32Array,
  controlOffset: number,
  statusOffset: number,
): AppendResult {
  if (!regs.field(controlOffset, r.enableBit)) return "disabled";
  if (regs.field(statusOffset, r.overflowBit)) return "dropped";
  const { base, size, head, tail } = ringState(regs, r);
  const next = (tail + ENTRY_BYTES) % size;
  if (next === head) {
    regs.setField(statusOffset, r.overflowBit, 1);
    return "overflow";
  }
  mem.writeDwords(base + tail, entry);
  regs.setField(r.tail, "Ptr", next / 16);
  regs.setField(statusOffset, r.intBit, 1);
  return "written";
}
