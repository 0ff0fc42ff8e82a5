/**
 * The I/O APIC's redirection table entry (82093AA datasheet, §3.2.4; Linux
 * `struct IO_APIC_route_entry`): one 64-bit entry per input pin, read and written as two
 * 32-bit registers through IOREGSEL/IOWIN at index 0x10 + 2 * pin (low half) and +1 (high).
 *
 * With AMD interrupt remapping Linux writes the entry in the plain (compatibility) format
 * but puts the IRTE index where the vector goes and 0 in the destination
 * (irq_remapping_prepare, X86_IRQ_ALLOC_TYPE_IOAPIC): the IOMMU reads the index back out of
 * the message's data.
 *
 * @module
 */
import { f, Layout, rsvd } from "../bits.ts";

/** Field names of a redirection table entry. */
export type IoApicRteField =
  | "Vector"
  | "DeliveryMode"
  | "DestMode"
  | "DeliveryStatus"
  | "Polarity"
  | "RemoteIrr"
  | "Trigger"
  | "Mask"
  | "Destination";

/** A redirection table entry (64 bits). */
export const IOAPIC_RTE = new Layout<IoApicRteField>("IOAPIC_RTE", 8, [
  f("Vector", 0, 0, 8, "interrupt vector (with AMD remapping: the IRTE index)"),
  f("DeliveryMode", 0, 8, 3, "delivery mode", {
    values: { 0: "fixed", 1: "lowest priority", 2: "SMI", 4: "NMI", 5: "INIT", 7: "ExtINT" },
  }),
  f("DestMode", 0, 11, 1, "destination mode", { values: { 0: "physical", 1: "logical" } }),
  f("DeliveryStatus", 0, 12, 1, "send pending", { access: "ro" }),
  f("Polarity", 0, 13, 1, "pin polarity", { values: { 0: "active high", 1: "active low" } }),
  f("RemoteIrr", 0, 14, 1, "remote IRR (level-triggered)", { access: "ro" }),
  f("Trigger", 0, 15, 1, "trigger mode", { values: { 0: "edge", 1: "level" } }),
  f("Mask", 0, 16, 1, "interrupt masked"),
  rsvd("Rsvd0", 0, 17, 39),
  f("Destination", 0, 56, 8, "destination APIC ID"),
]);

/** Register indexes behind IOWIN. */
export const IOAPIC_REG = {
  /** IOAPICID: bits 27:24 the APIC ID. */
  ID: 0x00,
  /** IOAPICVER: bits 7:0 version, 23:16 maximum redirection entry. */
  VER: 0x01,
  /** First redirection table register (pin 0, low half). */
  REDTBL: 0x10,
} as const;

/** MMIO offsets of the register window. */
export const IOAPIC_MMIO = { IOREGSEL: 0x00, IOWIN: 0x10, SIZE: 0x1000 } as const;
