/**
 * Log rings the IOMMU writes into memory: the event log and the PPR log. Both are rings of
 * 16-byte entries at a base register with a 2^Len length; the IOMMU writes at Tail and
 * advances it, software consumes at Head. A full ring (Tail + 16 == Head) sets the overflow
 * status bit and drops the entry (reference §1.3, §6).
 *
 * @module
 */
import type { PhysMem } from "../memory.ts";
import type { RegisterFile } from "./regs.ts";

/** Where one ring's registers and status bits live. */
export interface RingRegs {
  base: number;
  head: number;
  tail: number;
  lenField: string;
  enableBit: string;
  overflowBit: string;
  intBit: string;
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
  const base = regs.field(r.base, "Base") * 4096;
  const size = 2 ** regs.field(r.base, r.lenField) * 16;
  const head = (regs.field(r.head, "Ptr") * 16) % size;
  const tail = (regs.field(r.tail, "Ptr") * 16) % size;
  const next = (tail + 16) % size;
  if (next === head) {
    regs.setField(statusOffset, r.overflowBit, 1);
    return "overflow";
  }
  mem.writeDwords(base + tail, entry);
  regs.setField(r.tail, "Ptr", next / 16);
  regs.setField(statusOffset, r.intBit, 1);
  return "written";
}
