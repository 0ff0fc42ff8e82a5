/**
 * Command-buffer entries: 16 bytes, opcode in q0 63:60 (reference §7). Reserved bits are
 * declared, so the command processor's ILLEGAL_COMMAND_ERROR check comes from here.
 *
 * @module
 */
import { type Dwords, f, type FieldSpec, Layout, onesFrom, rsvd } from "../bits.ts";

/** Command opcodes (Linux CMD_*). */
export const CMD_OPCODES = {
  COMPLETION_WAIT: 0x1,
  INVALIDATE_DEVTAB_ENTRY: 0x2,
  INVALIDATE_IOMMU_PAGES: 0x3,
  INVALIDATE_IOTLB_PAGES: 0x4,
  INVALIDATE_INTERRUPT_TABLE: 0x5,
  PREFETCH_IOMMU_PAGES: 0x6,
  COMPLETE_PPR_REQUEST: 0x7,
  INVALIDATE_IOMMU_ALL: 0x8,
} as const;

/** A command name. */
export type CommandName = keyof typeof CMD_OPCODES;

/** All command names, in opcode order. */
export const COMMAND_NAMES = Object.keys(CMD_OPCODES) as CommandName[];

/** Name of an opcode, or undefined if the opcode is not defined. */
export function commandName(op: number): CommandName | undefined {
  return COMMAND_NAMES.find((n) => CMD_OPCODES[n] === op);
}

const op = (c: number): FieldSpec =>
  f("Opcode", 0, 60, 4, "command opcode", { values: { [c]: commandName(c)! } });
const devid = f("DeviceID", 0, 0, 16, "device ID");
const pageAddr = f("Address", 1, 12, 52, "address (bits 63:12)", { addrShift: 12 });

/** Layout of each command. */
export const COMMAND_LAYOUTS: Record<CommandName, Layout> = {
  COMPLETION_WAIT: new Layout("COMPLETION_WAIT", 16, [
    f("S", 0, 0, 1, "store StoreData at StoreAddress", { linux: "CMD_COMPL_WAIT_STORE_MASK" }),
    f("I", 0, 1, 1, "set Status.ComWaitInt", { linux: "CMD_COMPL_WAIT_INT_MASK" }),
    f("F", 0, 2, 1, "flush queue"),
    f("StoreAddress", 0, 3, 49, "8-byte aligned store address", { addrShift: 3 }),
    rsvd("Rsvd0", 0, 52, 8),
    op(0x1),
    f("StoreData", 1, 0, 64, "data stored on completion"),
  ]),
  INVALIDATE_DEVTAB_ENTRY: new Layout("INVALIDATE_DEVTAB_ENTRY", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 44),
    op(0x2),
    rsvd("Rsvd1", 1, 0, 64),
  ]),
  INVALIDATE_IOMMU_PAGES: new Layout("INVALIDATE_IOMMU_PAGES", 16, [
    f("PASID", 0, 0, 20, "PASID (GN=1)"),
    rsvd("Rsvd0", 0, 20, 12),
    f("DomainID", 0, 32, 16, "domain whose translations to drop"),
    rsvd("Rsvd1", 0, 48, 12),
    op(0x3),
    f("S", 1, 0, 1, "size: range encoded in Address", { linux: "CMD_INV_IOMMU_PAGES_SIZE_MASK" }),
    f("PDE", 1, 1, 1, "also drop cached PDEs", { linux: "CMD_INV_IOMMU_PAGES_PDE_MASK" }),
    f("GN", 1, 2, 1, "guest (PASID) addresses", { linux: "CMD_INV_IOMMU_PAGES_GN_MASK" }),
    rsvd("Rsvd2", 1, 3, 9),
    pageAddr,
  ]),
  INVALIDATE_IOTLB_PAGES: new Layout("INVALIDATE_IOTLB_PAGES", 16, [
    devid,
    f("PASIDHi", 0, 16, 8, "PASID [15:8] (Linux placement)"),
    f("Maxpend", 0, 24, 8, "ATS queue depth"),
    f("QueueID", 0, 32, 16, "queue ID (Linux writes DeviceID)"),
    f("PASIDLo", 0, 48, 8, "PASID [7:0] (Linux placement)"),
    rsvd("Rsvd0", 0, 56, 4),
    op(0x4),
    f("S", 1, 0, 1, "size: range encoded in Address"),
    rsvd("Rsvd1", 1, 1, 1),
    f("GN", 1, 2, 1, "guest (PASID) addresses"),
    rsvd("Rsvd2", 1, 3, 1),
    f("Type", 1, 4, 2, "invalidation type"),
    rsvd("Rsvd3", 1, 6, 6),
    pageAddr,
  ]),
  INVALIDATE_INTERRUPT_TABLE: new Layout("INVALIDATE_INTERRUPT_TABLE", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 44),
    op(0x5),
    rsvd("Rsvd1", 1, 0, 64),
  ]),
  PREFETCH_IOMMU_PAGES: new Layout("PREFETCH_IOMMU_PAGES", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 8),
    f("PFCount", 0, 24, 8, "pages to prefetch"),
    f("PASID", 0, 32, 20, "PASID"),
    rsvd("Rsvd1", 0, 52, 8),
    op(0x6),
    f("S", 1, 0, 1, "size"),
    rsvd("Rsvd2", 1, 1, 1),
    f("GN", 1, 2, 1, "guest (PASID) addresses"),
    rsvd("Rsvd3", 1, 3, 1),
    f("Inval", 1, 4, 1, "invalidate first"),
    rsvd("Rsvd4", 1, 5, 7),
    pageAddr,
  ]),
  COMPLETE_PPR_REQUEST: new Layout("COMPLETE_PPR_REQUEST", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 16),
    f("PASID", 0, 32, 20, "PASID (GN=1)"),
    rsvd("Rsvd1", 0, 52, 8),
    op(0x7),
    rsvd("Rsvd2", 1, 0, 2),
    f("GN", 1, 2, 1, "guest (PASID) request"),
    rsvd("Rsvd3", 1, 3, 29),
    f("CompletionTag", 1, 32, 9, "tag of the answered request"),
    rsvd("Rsvd4", 1, 41, 3),
    f("Status", 1, 44, 4, "PRI response code", {
      linux: "PPR_STATUS_MASK",
      values: { 0: "success", 1: "invalid", 15: "failure" },
    }),
    rsvd("Rsvd5", 1, 48, 16),
  ]),
  INVALIDATE_IOMMU_ALL: new Layout("INVALIDATE_IOMMU_ALL", 16, [
    rsvd("Rsvd0", 0, 0, 60),
    op(0x8),
    rsvd("Rsvd1", 1, 0, 64),
  ]),
};

/** Reads the opcode of a command (q0 63:60). */
export function commandOpcode(w: Dwords, off = 0): number {
  return (w[off + 1] >>> 28) & 0xf;
}

/** Bytes per command (16). */
export const COMMAND_BYTES = 16;

/** Address operand meaning "the whole domain" (CMD_INV_IOMMU_ALL_PAGES_ADDRESS). */
export const INV_ALL_PAGES_ADDRESS = 0x7fff_ffff_ffff_f000;

/**
 * Decodes the S-bit range encoding shared by invalidation commands and large PTEs:
 * S=0 → one 4 KiB page at `address`; S=1 → size 2^(13+n) where n counts the consecutive
 * 1 bits from bit 12 upwards. Returns [first byte, size in bytes]; a run reaching bit 51
 * or above means "everything" ([0, Infinity]).
 */
export function decodeRange(addressLo: number, addressHi: number, s: number): [number, number] {
  const base = (addressHi >>> 0) * 0x1_0000_0000 + ((addressLo & 0xffff_f000) >>> 0);
  if (!s) return [base, 4096];
  const firstZero = 12 + onesFrom(addressLo, addressHi, 12);
  if (firstZero >= 51) return [0, Infinity];
  const size = 2 ** (firstZero + 1);
  return [Math.floor(base / size) * size, size];
}
