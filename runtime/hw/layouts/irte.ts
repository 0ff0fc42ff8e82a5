/**
 * Interrupt remapping table entries: the legacy 32-bit IRTE (Control.GAEn = 0) and the
 * 128-bit guest-virtual-APIC IRTE (Control.GAEn = 1).
 *
 * @module
 */
import { f, Layout, rsvd } from "../bits.ts";

const INT_TYPE = {
  0: "fixed",
  1: "arbitrated (lowest priority)",
  2: "reserved",
  3: "reserved",
  4: "reserved",
  5: "reserved",
  6: "reserved",
  7: "reserved",
};

/** Field names of the legacy IRTE. */
export type IrteField =
  | "RemapEn"
  | "SupIOPF"
  | "IntType"
  | "RqEoi"
  | "DM"
  | "GuestMode"
  | "Destination"
  | "Vector";

/** Legacy 32-bit IRTE (Linux `union irte`). */
export const IRTE: Layout<IrteField> = new Layout<IrteField>("IRTE", 4, [
  f("RemapEn", 0, 0, 1, "entry valid"),
  f("SupIOPF", 0, 1, 1, "suppress IO_PAGE_FAULT for this entry"),
  f("IntType", 0, 2, 3, "interrupt type", { values: INT_TYPE }),
  f("RqEoi", 0, 5, 1, "request EOI"),
  f("DM", 0, 6, 1, "destination mode", { values: { 0: "physical", 1: "logical" } }),
  f("GuestMode", 0, 7, 1, "must be 0 in the legacy format", { linux: "rsvd_1" }),
  f("Destination", 0, 8, 8, "destination APIC ID"),
  f("Vector", 0, 16, 8, "interrupt vector"),
  rsvd("Rsvd0", 0, 24, 8),
]);

/** Field names of the 128-bit GA IRTE. */
export type IrteGaField =
  | "RemapEn"
  | "SupIOPF"
  | "IntType"
  | "RqEoi"
  | "DM"
  | "GuestMode"
  | "DestinationLo"
  | "GATag"
  | "Vector"
  | "GARootPtr"
  | "DestinationHi"
  | "Destination";

/** 128-bit IRTE used when Control.GAEn = 1 (Linux `irte_ga_lo` / `irte_ga_hi`). */
export const IRTE_GA: Layout<IrteGaField> = new Layout<IrteGaField>("IRTE_GA", 16, [
  f("RemapEn", 0, 0, 1, "entry valid"),
  f("SupIOPF", 0, 1, 1, "suppress IO_PAGE_FAULT for this entry"),
  f("IntType", 0, 2, 3, "interrupt type", { values: INT_TYPE }),
  f("RqEoi", 0, 5, 1, "request EOI"),
  f("DM", 0, 6, 1, "destination mode", { values: { 0: "physical", 1: "logical" } }),
  f("GuestMode", 0, 7, 1, "guest virtual APIC mode"),
  f("DestinationLo", 0, 8, 24, "destination [23:0]"),
  f("GATag", 0, 32, 32, "GA log tag"),
  f("Vector", 1, 0, 8, "interrupt vector"),
  rsvd("Rsvd0", 1, 8, 4),
  f("GARootPtr", 1, 12, 40, "vAPIC backing page", { addrShift: 12 }),
  rsvd("Rsvd1", 1, 52, 4),
  f("DestinationHi", 1, 56, 8, "destination [31:24]"),
], [{
  name: "Destination",
  doc: "destination APIC ID",
  parts: [{ field: "DestinationLo", at: 0 }, { field: "DestinationHi", at: 24 }],
}]);
