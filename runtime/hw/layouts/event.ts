/**
 * Event-log entries: 16 bytes, EventCode in q0 63:60, operands per code (reference §6).
 *
 * @module
 */
import { type Dwords, f, type FieldSpec, Layout, rsvd } from "../bits.ts";

/** Event codes and their spec names (Linux EVENT_TYPE_*). */
export const EVENT_CODES = {
  ILLEGAL_DEV_TABLE_ENTRY: 0x1,
  IO_PAGE_FAULT: 0x2,
  DEV_TAB_HARDWARE_ERROR: 0x3,
  PAGE_TAB_HARDWARE_ERROR: 0x4,
  ILLEGAL_COMMAND_ERROR: 0x5,
  COMMAND_HARDWARE_ERROR: 0x6,
  IOTLB_INV_TIMEOUT: 0x7,
  INVALID_DEVICE_REQUEST: 0x8,
  INVALID_PPR_REQUEST: 0x9,
} as const;

/** An event name. */
export type EventName = keyof typeof EVENT_CODES;

/** All event names, in code order. */
export const EVENT_NAMES = Object.keys(EVENT_CODES) as EventName[];

/** Name of an event code, or undefined for codes this model does not know. */
export function eventName(code: number): EventName | undefined {
  return EVENT_NAMES.find((n) => EVENT_CODES[n] === code);
}

const HW_ERR_TYPE = { 0: "reserved", 1: "master abort", 2: "target abort", 3: "data error" };

const code = (c: number): FieldSpec =>
  f("EventCode", 0, 60, 4, "event code", { values: { [c]: eventName(c)! } });
const devid = f("DeviceID", 0, 0, 16, "requester (bus 15:8, dev 7:3, fn 2:0)");
const addr = f("Address", 1, 0, 64, "address operand");

/** The flag bits q0 59:48 of IO_PAGE_FAULT-like events (Linux prints them as `flags=`). */
const FLAG_FIELDS = {
  GN: f("GN", 0, 48, 1, "guest (PASID) address"),
  NX: f("NX", 0, 49, 1, "execute request"),
  US: f("US", 0, 50, 1, "user/supervisor"),
  I: f("I", 0, 51, 1, "interrupt request (0 = memory)"),
  PR: f("PR", 0, 52, 1, "page/entry present"),
  RW: f("RW", 0, 53, 1, "write"),
  PE: f("PE", 0, 54, 1, "permission denied"),
  RZ: f("RZ", 0, 55, 1, "reserved bit non-zero / bad level"),
  TR: f("TR", 0, 56, 1, "translation (ATS) request"),
};

/** Layout of each event code. */
export const EVENT_LAYOUTS: Record<EventName, Layout> = {
  ILLEGAL_DEV_TABLE_ENTRY: new Layout("ILLEGAL_DEV_TABLE_ENTRY", 16, [
    devid,
    f("PASIDHi", 0, 16, 4, "PASID [19:16]"),
    rsvd("Rsvd0", 0, 20, 12),
    f("PASID", 0, 32, 16, "PASID [15:0]"),
    FLAG_FIELDS.GN,
    rsvd("Rsvd1", 0, 49, 2),
    FLAG_FIELDS.I,
    rsvd("Rsvd2", 0, 52, 1),
    FLAG_FIELDS.RW,
    rsvd("Rsvd3", 0, 54, 1),
    FLAG_FIELDS.RZ,
    FLAG_FIELDS.TR,
    rsvd("Rsvd4", 0, 57, 3),
    code(0x1),
    addr,
  ]),
  IO_PAGE_FAULT: new Layout("IO_PAGE_FAULT", 16, [
    devid,
    f("PASIDHi", 0, 16, 4, "PASID [19:16]"),
    rsvd("Rsvd0", 0, 20, 12),
    f("DomainID", 0, 32, 16, "domain ID (or PASID [15:0] when GN)"),
    ...Object.values(FLAG_FIELDS),
    rsvd("Rsvd1", 0, 57, 3),
    code(0x2),
    addr,
  ]),
  DEV_TAB_HARDWARE_ERROR: new Layout("DEV_TAB_HARDWARE_ERROR", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 35),
    FLAG_FIELDS.I,
    rsvd("Rsvd1", 0, 52, 1),
    FLAG_FIELDS.RW,
    rsvd("Rsvd2", 0, 54, 2),
    FLAG_FIELDS.TR,
    f("Type", 0, 57, 2, "hardware error type", { values: HW_ERR_TYPE }),
    rsvd("Rsvd3", 0, 59, 1),
    code(0x3),
    addr,
  ]),
  PAGE_TAB_HARDWARE_ERROR: new Layout("PAGE_TAB_HARDWARE_ERROR", 16, [
    devid,
    f("PASIDHi", 0, 16, 4, "PASID [19:16]"),
    rsvd("Rsvd0", 0, 20, 12),
    f("DomainID", 0, 32, 16, "domain ID (or PASID [15:0] when GN)"),
    FLAG_FIELDS.GN,
    rsvd("Rsvd1", 0, 49, 2),
    FLAG_FIELDS.I,
    rsvd("Rsvd2", 0, 52, 1),
    FLAG_FIELDS.RW,
    rsvd("Rsvd3", 0, 54, 2),
    FLAG_FIELDS.TR,
    f("Type", 0, 57, 2, "hardware error type", { values: HW_ERR_TYPE }),
    rsvd("Rsvd4", 0, 59, 1),
    code(0x4),
    addr,
  ]),
  ILLEGAL_COMMAND_ERROR: new Layout("ILLEGAL_COMMAND_ERROR", 16, [
    rsvd("Rsvd0", 0, 0, 60),
    code(0x5),
    addr,
  ]),
  COMMAND_HARDWARE_ERROR: new Layout("COMMAND_HARDWARE_ERROR", 16, [
    rsvd("Rsvd0", 0, 0, 57),
    f("Type", 0, 57, 2, "hardware error type", { values: HW_ERR_TYPE }),
    rsvd("Rsvd1", 0, 59, 1),
    code(0x6),
    addr,
  ]),
  IOTLB_INV_TIMEOUT: new Layout("IOTLB_INV_TIMEOUT", 16, [
    devid,
    rsvd("Rsvd0", 0, 16, 44),
    code(0x7),
    addr,
  ]),
  INVALID_DEVICE_REQUEST: new Layout("INVALID_DEVICE_REQUEST", 16, [
    devid,
    f("PASIDHi", 0, 16, 4, "PASID [19:16]"),
    rsvd("Rsvd0", 0, 20, 12),
    f("PASID", 0, 32, 16, "PASID [15:0]"),
    FLAG_FIELDS.GN,
    rsvd("Rsvd1", 0, 49, 1),
    FLAG_FIELDS.US,
    rsvd("Rsvd2", 0, 51, 5),
    FLAG_FIELDS.TR,
    f("Type", 0, 57, 3, "request type", {
      values: {
        0: "read/non-posted write",
        1: "pre-translated transaction",
        2: "port I/O",
        3: "SysMgt",
        4: "interrupt range",
        5: "reserved interrupt range",
        6: "SysMgt address",
        7: "translation request not allowed",
      },
    }),
    code(0x8),
    addr,
  ]),
  // PPR-style operands (reference §6, §8): PASID[15:0] 31:16, Tag 41:32, PASID[19:16] 45:42.
  INVALID_PPR_REQUEST: new Layout("INVALID_PPR_REQUEST", 16, [
    devid,
    f("PASID", 0, 16, 16, "PASID [15:0]"),
    f("Tag", 0, 32, 10, "PPR tag"),
    f("PASIDHi", 0, 42, 4, "PASID [19:16]"),
    rsvd("Rsvd0", 0, 46, 14),
    code(0x9),
    addr,
  ]),
};

/** Flag bits of a PPR log entry's 12-bit Flags field (Linux PPR_FAULT_*). */
export const PPR_FLAGS = {
  EXEC: 0x002,
  READ: 0x004,
  WRITE: 0x020,
  USER: 0x040,
  RSVD: 0x080,
  GN: 0x100,
} as const;

/** A PPR log entry (reference §8): 16 bytes, Type 1 = page request. */
export const PPR_ENTRY: Layout = new Layout("PPR_ENTRY", 16, [
  devid,
  f("PASID", 0, 16, 16, "PASID [15:0]"),
  f("Tag", 0, 32, 10, "PPR tag"),
  f("PASIDHi", 0, 42, 4, "PASID [19:16]"),
  rsvd("Rsvd0", 0, 46, 2),
  f("Flags", 0, 48, 12, "request flags (PPR_FLAGS)"),
  f("Type", 0, 60, 4, "entry type", { values: { 1: "page request" } }),
  addr,
]);

/** Reads the event code of an entry (q0 63:60). */
export function eventCode(w: Dwords, off = 0): number {
  return (w[off + 1] >>> 28) & 0xf;
}

/**
 * The 12-bit `flags` value Linux prints (q0 59:48): each declared flag field of the event's
 * layout at its bit position minus 48. Derived from the declarations above.
 */
export function eventFlags(w: Dwords, off = 0): number {
  const name = eventName(eventCode(w, off));
  if (!name) return (w[off + 1] >>> 16) & 0xfff;
  let flags = 0;
  for (const fd of EVENT_LAYOUTS[name].fields) {
    if (fd.reserved || fd.q !== 0 || fd.lo < 48 || fd.lo >= 60) continue;
    flags |= fd.get(w, off) << (fd.lo - 48);
  }
  return flags;
}

/** IO_PAGE_FAULT flag names by their value in the 12-bit flags (`PR` = 0x010 ...). */
export const FAULT_FLAG_VALUES: Record<keyof typeof FLAG_FIELDS, number> = Object.fromEntries(
  Object.entries(FLAG_FIELDS).map(([k, v]) => [k, 1 << (v.lo - 48)]),
) as Record<keyof typeof FLAG_FIELDS, number>;

/** Bytes per event-log entry (EVENT_ENTRY_SIZE). */
export const EVENT_BYTES = 16;
