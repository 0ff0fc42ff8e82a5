/**
 * Field layouts (runtime/hw/layouts/*) checked bit by bit against the reference
 * (shared/reference/amd-iommu-hardware.md §1, §2, §3, §5, §6, §7). Each expectation is
 * written from the reference's tables, not from the declarations.
 */
import assert from "node:assert/strict";
import type { Layout } from "../../runtime/hw/bits.ts";
import {
  CMD_OPCODES,
  COMMAND_LAYOUTS,
  commandName,
  commandOpcode,
  decodeRange,
  INV_ALL_PAGES_ADDRESS,
} from "../../runtime/hw/layouts/command.ts";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import {
  EVENT_CODES,
  EVENT_LAYOUTS,
  eventCode,
  eventFlags,
  FAULT_FLAG_VALUES,
} from "../../runtime/hw/layouts/event.ts";
import { IRTE, IRTE_GA } from "../../runtime/hw/layouts/irte.ts";
import {
  CMD_BUF_BASE,
  CONTROL,
  DEV_TAB_BASE,
  EFR,
  EVT_HEAD,
  EVT_LOG_BASE,
  MMIO,
  PPR_LOG_BASE,
  REGISTERS,
  STATUS,
} from "../../runtime/hw/layouts/mmio.ts";
import { levelShift, modeReachBits, PDE, PTE } from "../../runtime/hw/layouts/pte.ts";
import { RegisterFile } from "../../runtime/hw/iommu/regs.ts";

/**
 * Asserts that field `name` occupies qword `q`, bits hi:lo — both in the declaration and in
 * the dwords an all-ones value of the field encodes to.
 */
function expectBits(L: Layout, name: string, q: number, hi: number, lo = hi): void {
  const fd = L.field(name);
  const width = hi - lo + 1;
  assert.deepEqual([fd.q, fd.lo, fd.width], [q, lo, width], `${L.name}.${name} declaration`);
  const want = ((1n << BigInt(width)) - 1n) << BigInt(q * 64 + lo);
  const w = new Uint32Array(L.dwords);
  if (width <= 52) fd.set(w, 2 ** width - 1);
  else for (let b = 0; b < width; b++) setBit(w, q * 64 + lo + b);
  for (let d = 0; d < L.dwords; d++) {
    const expect = Number((want >> BigInt(32 * d)) & 0xffff_ffffn);
    assert.equal(w[d] >>> 0, expect, `${L.name}.${name} dword ${d}`);
  }
  if (width <= 52) assert.equal(fd.get(w), 2 ** width - 1);
}

function setBit(w: Uint32Array, bit: number): void {
  w[bit >>> 5] = (w[bit >>> 5] | (1 << (bit & 31))) >>> 0;
}

// ---- DTE (reference §2) -------------------------------------------------------------------

Deno.test("DTE: every field at its reference position", () => {
  const table: [string, number, number, number?][] = [
    ["V", 0, 0],
    ["TV", 0, 1],
    ["Mode", 0, 11, 9],
    ["PageTableRootPtr", 0, 51, 12],
    ["PPR", 0, 52],
    ["GPRP", 0, 53],
    ["GIoV", 0, 54],
    ["GV", 0, 55],
    ["GLX", 0, 57, 56],
    ["GCR3TableRootPtrA", 0, 60, 58],
    ["IR", 0, 61],
    ["IW", 0, 62],
    ["DomainID", 1, 15, 0],
    ["GCR3TableRootPtrB", 1, 31, 16],
    ["I", 1, 32],
    ["SE", 1, 33],
    ["SA", 1, 34],
    ["IoCtl", 1, 36, 35],
    ["Cache", 1, 37],
    ["SD", 1, 38],
    ["EX", 1, 39],
    ["SysMgt", 1, 41, 40],
    ["GCR3TableRootPtrC", 1, 63, 43],
    ["IV", 2, 0],
    ["IntTabLen", 2, 4, 1],
    ["IG", 2, 5],
    ["InterruptTableRootPtr", 2, 51, 6],
    ["InitPass", 2, 56],
    ["EIntPass", 2, 57],
    ["NMIPass", 2, 58],
    ["IntCtl", 2, 61, 60],
    ["Lint0Pass", 2, 62],
    ["Lint1Pass", 2, 63],
  ];
  for (const [name, q, hi, lo] of table) expectBits(DTE, name, q, hi, lo);
});

Deno.test("DTE: absolute bit numbers from the reference (SA 98, IntCtl 189:188, DomainID 79:64)", () => {
  assert.equal(DTE.field("SA").bit, 98);
  assert.equal(DTE.field("SE").bit, 97);
  assert.equal(DTE.field("IntCtl").bit, 188);
  assert.equal(DTE.field("DomainID").bit, 64);
  assert.equal(DTE.field("IV").bit, 128);
  assert.equal(DTE.bytes, 32);
  // SA alone is dword 3 bit 2; IntCtl=2 is dword 5 bit 29
  assert.deepEqual([...DTE.encode({ SA: 1 })], [0, 0, 0, 4, 0, 0, 0, 0]);
  assert.deepEqual([...DTE.encode({ IntCtl: 2 })], [0, 0, 0, 0, 0, 0x2000_0000, 0, 0]);
});

Deno.test("DTE: GCR3 table root pointer splits into parts A/B/C as Linux DTE_GCR3_VAL_A/B/C", () => {
  const gcr3 = 0xf_edcb_a987_6000;
  const w = DTE.encode({ GCR3TableRootPtr: gcr3 });
  const big = BigInt(gcr3);
  assert.equal(BigInt(DTE.get(w, "GCR3TableRootPtrA")), (big >> 12n) & 0x7n);
  assert.equal(BigInt(DTE.get(w, "GCR3TableRootPtrB")), (big >> 15n) & 0xffffn);
  assert.equal(BigInt(DTE.get(w, "GCR3TableRootPtrC")), (big >> 31n) & 0x1f_ffffn);
  assert.equal(DTE.value(w, "GCR3TableRootPtr"), gcr3);
  assert.equal(DTE.toJSON(w).GCR3TableRootPtr, "0xfedcba9876000");
  // nothing else in the DTE was touched
  const only = DTE.maskWhere((x) => x.name.startsWith("GCR3TableRootPtr"));
  for (let d = 0; d < 8; d++) assert.equal(w[d] & ~only[d], 0);
});

Deno.test("DTE: reserved bits are q0 8:2 and 63, q1 42, q2 55:52 and 59, all of q3", () => {
  assert.deepEqual(
    [...DTE.reservedMask],
    [0x0000_01fc, 0x8000_0000, 0, 0x0000_0400, 0, 0x08f0_0000, 0xffff_ffff, 0xffff_ffff],
  );
});

Deno.test("DTE: JSON keys, in order, and value formats", () => {
  const w = DTE.encode({
    V: 1,
    TV: 1,
    Mode: 3,
    PageTableRootPtr: 0x1234_5000 / 4096,
    DomainID: 0x42,
    IR: 1,
    IntTabLen: 8,
    InterruptTableRootPtr: 0x7654_3280 / 64,
    IntCtl: 2,
  });
  const j = DTE.toJSON(w);
  assert.deepEqual(
    Object.keys(j).join(" "),
    "V TV Mode PageTableRootPtr PPR GPRP GIoV GV GLX GCR3TableRootPtr IR IW DomainID I SE SA " +
      "IoCtl Cache SD EX SysMgt IV IntTabLen IG InterruptTableRootPtr InitPass EIntPass NMIPass " +
      "IntCtl Lint0Pass Lint1Pass",
  );
  assert.equal(j.PageTableRootPtr, "0x12345000");
  assert.equal(j.InterruptTableRootPtr, "0x76543280");
  assert.equal(j.DomainID, 0x42);
  assert.equal(j.Mode, 3);
  assert.equal(j.IntCtl, 2);
  assert.equal(j.GCR3TableRootPtr, "0x0");
});

Deno.test("DTE: encode/decode round trip of all visible fields", () => {
  const values: Record<string, number> = {};
  for (const fd of DTE.fields) {
    if (fd.reserved) continue;
    values[fd.name] = (2 ** Math.min(fd.width, 52) - 1) - (fd.width > 1 ? 1 : 0);
  }
  const d = DTE.decode(DTE.encode(values));
  for (const [k, v] of Object.entries(values)) assert.equal(d[k as keyof typeof d], v, k);
  assert.equal(DTE.reservedBitsSet(DTE.encode(values)), false);
});

// ---- page tables (reference §3) -----------------------------------------------------------

Deno.test("PDE/PTE: field positions and reserved masks", () => {
  for (const L of [PDE, PTE]) {
    expectBits(L, "PR", 0, 0);
    expectBits(L, "A", 0, 5);
    expectBits(L, "NextLevel", 0, 11, 9);
    expectBits(L, "Address", 0, 51, 12);
    expectBits(L, "IR", 0, 61);
    expectBits(L, "IW", 0, 62);
  }
  expectBits(PTE, "D", 0, 6);
  expectBits(PTE, "U", 0, 59);
  expectBits(PTE, "FC", 0, 60);
  // PDE 0x1ff0000000000000, PTE 0x07f0000000000000 (reference: V-H newer)
  assert.deepEqual([...PDE.reservedMask], [0, 0x1ff0_0000]);
  assert.deepEqual([...PTE.reservedMask], [0, 0x07f0_0000]);
  // Linux PM_LEVEL_PDE(2, 0x5000) = 0x5000 | 2<<9 | PR | IR | IW
  const pde = PDE.encode({ PR: 1, NextLevel: 2, Address: 0x5000 / 4096, IR: 1, IW: 1 });
  assert.deepEqual([...pde], [0x5401, 0x6000_0000]);
});

Deno.test("page tables: level shifts 12,21,30,39,48,57 and reach per mode", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(levelShift), [12, 21, 30, 39, 48, 57]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(modeReachBits), [21, 30, 39, 48, 57, 64]);
});

// ---- IRTE (reference §5) ------------------------------------------------------------------

Deno.test("IRTE (legacy 32-bit): fields and reserved bits 31:24", () => {
  expectBits(IRTE, "RemapEn", 0, 0);
  expectBits(IRTE, "SupIOPF", 0, 1);
  expectBits(IRTE, "IntType", 0, 4, 2);
  expectBits(IRTE, "RqEoi", 0, 5);
  expectBits(IRTE, "DM", 0, 6);
  expectBits(IRTE, "GuestMode", 0, 7);
  expectBits(IRTE, "Destination", 0, 15, 8);
  expectBits(IRTE, "Vector", 0, 23, 16);
  assert.equal(IRTE.bytes, 4);
  assert.deepEqual([...IRTE.reservedMask], [0xff00_0000]);
  assert.deepEqual([...IRTE.encode({ RemapEn: 1, Destination: 3, Vector: 0x41 })], [0x0041_0301]);
});

Deno.test("IRTE (128-bit GA): fields, and Destination assembled from [23:0] and [31:24]", () => {
  expectBits(IRTE_GA, "RemapEn", 0, 0);
  expectBits(IRTE_GA, "GuestMode", 0, 7);
  expectBits(IRTE_GA, "DestinationLo", 0, 31, 8);
  expectBits(IRTE_GA, "GATag", 0, 63, 32);
  expectBits(IRTE_GA, "Vector", 1, 7, 0);
  expectBits(IRTE_GA, "GARootPtr", 1, 51, 12);
  expectBits(IRTE_GA, "DestinationHi", 1, 63, 56);
  const w = IRTE_GA.encode({ RemapEn: 1, Vector: 0x99, Destination: 0x1234_5678 });
  assert.equal(IRTE_GA.get(w, "DestinationLo"), 0x34_5678);
  assert.equal(IRTE_GA.get(w, "DestinationHi"), 0x12);
  assert.equal(IRTE_GA.value(w, "Destination"), 0x1234_5678);
  assert.deepEqual([...w], [0x3456_7801, 0, 0x99, 0x1200_0000]);
});

// ---- events (reference §6) ----------------------------------------------------------------

Deno.test("events: codes and EventCode at q0 63:60 for every event", () => {
  assert.deepEqual(EVENT_CODES, {
    ILLEGAL_DEV_TABLE_ENTRY: 0x1,
    IO_PAGE_FAULT: 0x2,
    DEV_TAB_HARDWARE_ERROR: 0x3,
    PAGE_TAB_HARDWARE_ERROR: 0x4,
    ILLEGAL_COMMAND_ERROR: 0x5,
    COMMAND_HARDWARE_ERROR: 0x6,
    IOTLB_INV_TIMEOUT: 0x7,
    INVALID_DEVICE_REQUEST: 0x8,
    INVALID_PPR_REQUEST: 0x9,
  });
  for (const [name, code] of Object.entries(EVENT_CODES)) {
    const L = EVENT_LAYOUTS[name as keyof typeof EVENT_CODES];
    expectBits(L, "EventCode", 0, 63, 60);
    expectBits(L, "Address", 1, 63, 0);
    const w = L.encode({ EventCode: code });
    assert.equal(w[1] >>> 28, code);
    assert.equal(eventCode(w), code);
    assert.equal(L.bytes, 16);
  }
});

Deno.test("events: IO_PAGE_FAULT operands and flag values (PR=0x010 RW=0x020 PE=0x040 ...)", () => {
  const L = EVENT_LAYOUTS.IO_PAGE_FAULT;
  expectBits(L, "DeviceID", 0, 15, 0);
  expectBits(L, "PASIDHi", 0, 19, 16);
  expectBits(L, "DomainID", 0, 47, 32);
  const flagBits: [string, number, number][] = [
    ["GN", 48, 0x001],
    ["NX", 49, 0x002],
    ["US", 50, 0x004],
    ["I", 51, 0x008],
    ["PR", 52, 0x010],
    ["RW", 53, 0x020],
    ["PE", 54, 0x040],
    ["RZ", 55, 0x080],
    ["TR", 56, 0x100],
  ];
  for (const [name, bit, value] of flagBits) {
    expectBits(L, name, 0, bit);
    assert.equal(FAULT_FLAG_VALUES[name as keyof typeof FAULT_FLAG_VALUES], value, name);
    // Linux: flags = (dw1 >> 16) & 0xfff
    const w = L.encode({ [name]: 1 });
    assert.equal((w[1] >>> 16) & 0xfff, value, `${name} as Linux reads it`);
    assert.equal(eventFlags(w), value);
  }
  // "flags=0x0070": present, write, permission denied (real dmesg, reference §6)
  assert.equal(eventFlags(L.encode({ PR: 1, RW: 1, PE: 1, EventCode: 2 })), 0x070);
});

Deno.test("events: other operand positions (hardware-error Type, device-request Type, PPR)", () => {
  expectBits(EVENT_LAYOUTS.DEV_TAB_HARDWARE_ERROR, "Type", 0, 58, 57);
  expectBits(EVENT_LAYOUTS.DEV_TAB_HARDWARE_ERROR, "I", 0, 51);
  expectBits(EVENT_LAYOUTS.DEV_TAB_HARDWARE_ERROR, "RW", 0, 53);
  expectBits(EVENT_LAYOUTS.PAGE_TAB_HARDWARE_ERROR, "DomainID", 0, 47, 32);
  expectBits(EVENT_LAYOUTS.INVALID_DEVICE_REQUEST, "Type", 0, 59, 57);
  expectBits(EVENT_LAYOUTS.COMMAND_HARDWARE_ERROR, "Type", 0, 58, 57);
  expectBits(EVENT_LAYOUTS.ILLEGAL_DEV_TABLE_ENTRY, "RZ", 0, 55);
  // INVALID_DEVICE_REQUEST flags=0x0a00 decodes as Type 5 (reference §6, GH1)
  const w = EVENT_LAYOUTS.INVALID_DEVICE_REQUEST.encode({ Type: 5, EventCode: 8 });
  assert.equal((w[1] >>> 16) & 0xfff, 0xa00);
  // INVALID_PPR_REQUEST: PPR-style PASID, tag = dw1 9:0
  const P = EVENT_LAYOUTS.INVALID_PPR_REQUEST;
  expectBits(P, "PASID", 0, 31, 16);
  expectBits(P, "Tag", 0, 41, 32);
  expectBits(P, "PASIDHi", 0, 45, 42);
  const p = P.encode({ DeviceID: 0x100, PASID: 0x2345, PASIDHi: 1, Tag: 0x3ff, EventCode: 9 });
  assert.equal(p[1] & 0x3ff, 0x3ff, "Linux: tag = event[1] & 0x3ff");
  assert.equal((p[0] >>> 16) | (((p[1] >>> 10) & 0xf) << 16), 0x1_2345, "Linux PPR_PASID");
});

// ---- commands (reference §7) --------------------------------------------------------------

Deno.test("commands: opcodes at q0 63:60", () => {
  assert.deepEqual(CMD_OPCODES, {
    COMPLETION_WAIT: 0x1,
    INVALIDATE_DEVTAB_ENTRY: 0x2,
    INVALIDATE_IOMMU_PAGES: 0x3,
    INVALIDATE_IOTLB_PAGES: 0x4,
    INVALIDATE_INTERRUPT_TABLE: 0x5,
    PREFETCH_IOMMU_PAGES: 0x6,
    COMPLETE_PPR_REQUEST: 0x7,
    INVALIDATE_IOMMU_ALL: 0x8,
  });
  for (const [name, op] of Object.entries(CMD_OPCODES)) {
    const L = COMMAND_LAYOUTS[name as keyof typeof CMD_OPCODES];
    expectBits(L, "Opcode", 0, 63, 60);
    const w = L.encode({ Opcode: op });
    assert.equal(w[1] >>> 28, op, "Linux CMD_SET_TYPE: dword1 31:28");
    assert.equal(commandOpcode(w), op);
    assert.equal(commandName(op), name);
  }
  assert.equal(commandName(0), undefined);
  assert.equal(commandName(0xf), undefined);
});

Deno.test("commands: operand positions", () => {
  const C = COMMAND_LAYOUTS;
  expectBits(C.COMPLETION_WAIT, "S", 0, 0);
  expectBits(C.COMPLETION_WAIT, "I", 0, 1);
  expectBits(C.COMPLETION_WAIT, "F", 0, 2);
  expectBits(C.COMPLETION_WAIT, "StoreAddress", 0, 51, 3);
  expectBits(C.COMPLETION_WAIT, "StoreData", 1, 63, 0);
  expectBits(C.INVALIDATE_DEVTAB_ENTRY, "DeviceID", 0, 15, 0);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "PASID", 0, 19, 0);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "DomainID", 0, 47, 32);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "S", 1, 0);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "PDE", 1, 1);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "GN", 1, 2);
  expectBits(C.INVALIDATE_IOMMU_PAGES, "Address", 1, 63, 12);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "DeviceID", 0, 15, 0);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "PASIDHi", 0, 23, 16);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "Maxpend", 0, 31, 24);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "QueueID", 0, 47, 32);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "PASIDLo", 0, 55, 48);
  expectBits(C.INVALIDATE_IOTLB_PAGES, "Type", 1, 5, 4);
  expectBits(C.INVALIDATE_INTERRUPT_TABLE, "DeviceID", 0, 15, 0);
  expectBits(C.PREFETCH_IOMMU_PAGES, "PFCount", 0, 31, 24);
  expectBits(C.PREFETCH_IOMMU_PAGES, "PASID", 0, 51, 32);
  expectBits(C.PREFETCH_IOMMU_PAGES, "Inval", 1, 4);
  expectBits(C.COMPLETE_PPR_REQUEST, "DeviceID", 0, 15, 0);
  expectBits(C.COMPLETE_PPR_REQUEST, "PASID", 0, 51, 32);
  expectBits(C.COMPLETE_PPR_REQUEST, "GN", 1, 2);
  expectBits(C.COMPLETE_PPR_REQUEST, "CompletionTag", 1, 40, 32);
  expectBits(C.COMPLETE_PPR_REQUEST, "Status", 1, 47, 44);
});

Deno.test("commands: reserved masks (DEVTAB/IRT take only a DeviceID; IOMMU_ALL nothing)", () => {
  const C = COMMAND_LAYOUTS;
  const devOnly = [0xffff_0000, 0x0fff_ffff, 0xffff_ffff, 0xffff_ffff];
  assert.deepEqual([...C.INVALIDATE_DEVTAB_ENTRY.reservedMask], devOnly);
  assert.deepEqual([...C.INVALIDATE_INTERRUPT_TABLE.reservedMask], devOnly);
  assert.deepEqual([...C.INVALIDATE_IOMMU_ALL.reservedMask], [
    0xffff_ffff,
    0x0fff_ffff,
    0xffff_ffff,
    0xffff_ffff,
  ]);
  assert.deepEqual([...C.COMPLETION_WAIT.reservedMask], [0, 0x0ff0_0000, 0, 0]);
  assert.deepEqual([...C.INVALIDATE_IOMMU_PAGES.reservedMask], [
    0xfff0_0000,
    0x0fff_0000,
    0x0000_0ff8,
    0,
  ]);
});

Deno.test("commands: S-bit range encoding", () => {
  // S=0: one 4 KiB page (low bits of the address ignored)
  assert.deepEqual(decodeRange(0x0012_3456, 0, 0), [0x12_3000, 4096]);
  // S=1, bit 12 clear: 8 KiB, aligned
  assert.deepEqual(decodeRange(0x0012_2000, 0, 1), [0x12_2000, 8192]);
  // S=1, bits 12 and 13 set, 14 clear: 2^(13+2) = 32 KiB
  assert.deepEqual(decodeRange(0x0010_3000, 0, 1), [0x10_0000, 32768]);
  // S=1, bits 19:12 set (n = 8): 2 MiB; bits 20:12 set (n = 9): 4 MiB
  assert.deepEqual(decodeRange(0x400f_f000, 0, 1), [0x4000_0000, 2 ** 21]);
  assert.deepEqual(decodeRange(0x401f_f000, 0, 1), [0x4000_0000, 2 ** 22]);
  // an address above 4 GiB
  assert.deepEqual(decodeRange(0x0000_1000, 0x2, 1), [0x2_0000_0000, 16384]);
  // CMD_INV_IOMMU_ALL_PAGES_ADDRESS 0x7fffffffffffffff: everything
  assert.deepEqual(decodeRange(0xffff_ffff, 0x7fff_ffff, 1), [0, Infinity]);
  assert.equal(INV_ALL_PAGES_ADDRESS, 0x7fff_ffff_ffff_f000);
  const w = COMMAND_LAYOUTS.INVALIDATE_IOMMU_PAGES.encode({ S: 1, Address: 0x7_ffff_ffff_ffff });
  assert.deepEqual([w[2], w[3]], [0xffff_f001, 0x7fff_ffff]);
});

// ---- MMIO registers (reference §1) --------------------------------------------------------

Deno.test("MMIO: register offsets", () => {
  assert.deepEqual(MMIO, {
    DEV_TABLE: 0x0000,
    CMD_BUF: 0x0008,
    EVT_BUF: 0x0010,
    CONTROL: 0x0018,
    EXCL_BASE: 0x0020,
    EXCL_LIMIT: 0x0028,
    EXT_FEATURES: 0x0030,
    PPR_LOG: 0x0038,
    GA_LOG_BASE: 0x00e0,
    GA_LOG_TAIL: 0x00e8,
    CMD_HEAD: 0x2000,
    CMD_TAIL: 0x2008,
    EVT_HEAD: 0x2010,
    EVT_TAIL: 0x2018,
    STATUS: 0x2020,
    PPR_HEAD: 0x2030,
    PPR_TAIL: 0x2038,
    GA_HEAD: 0x2040,
    GA_TAIL: 0x2048,
  });
  for (const r of REGISTERS) assert.equal(r.layout.bytes, 8, r.name);
  const status = REGISTERS.find((r) => r.offset === 0x2020)!;
  assert.equal(status.linux, "MMIO_STATUS_OFFSET");
  assert.equal(status.layout, STATUS);
});

Deno.test("MMIO: Device Table Base (Size 8:0, base 51:12) and ring base registers (Len 59:56)", () => {
  expectBits(DEV_TAB_BASE, "Size", 0, 8, 0);
  expectBits(DEV_TAB_BASE, "DevTabBase", 0, 51, 12);
  assert.deepEqual([...DEV_TAB_BASE.reservedMask], [0x0000_0e00, 0xfff0_0000]);
  for (
    const [L, len] of [[CMD_BUF_BASE, "ComLen"], [EVT_LOG_BASE, "EventLen"], [
      PPR_LOG_BASE,
      "PPRLogLen",
    ]] as const
  ) {
    expectBits(L, "Base", 0, 51, 12);
    expectBits(L, len, 0, 59, 56);
    // Linux MMIO_CMD_SIZE_512 = 0x9 << 56
    assert.deepEqual([...L.encode({ [len]: 9 })], [0, 0x0900_0000]);
  }
  // head/tail: byte offset, bits 18:4 (valid mask 0x7fff0)
  expectBits(EVT_HEAD, "Ptr", 0, 18, 4);
  assert.equal(EVT_HEAD.encode({ Ptr: 0x7fff })[0], 0x7fff0);
});

Deno.test("MMIO: Control bit numbers (Linux CONTROL_*)", () => {
  const bits: [string, number, number?][] = [
    ["IommuEn", 0],
    ["HtTunEn", 1],
    ["EventLogEn", 2],
    ["EventIntEn", 3],
    ["ComWaitIntEn", 4],
    ["InvTimeOut", 7, 5],
    ["PassPW", 8],
    ["ResPassPW", 9],
    ["Coherent", 10],
    ["Isoc", 11],
    ["CmdBufEn", 12],
    ["PPRLogEn", 13],
    ["PPRIntEn", 14],
    ["PPREn", 15],
    ["GTEn", 16],
    ["GAEn", 17],
    ["GAMEn", 27, 25],
    ["GALogEn", 28],
    ["GAIntEn", 29],
    ["XTEn", 50],
    ["IntCapXTEn", 51],
  ];
  for (const [name, hi, lo] of bits) expectBits(CONTROL, name, 0, hi, lo);
});

Deno.test("MMIO: Status bits and access types (RW1C 0,1,2,5,6,9,10; RO 3,4,7,8)", () => {
  const bits: [string, number][] = [
    ["EventOverflow", 0],
    ["EventLogInt", 1],
    ["ComWaitInt", 2],
    ["EventLogRun", 3],
    ["CmdBufRun", 4],
    ["PprOverflow", 5],
    ["PprInt", 6],
    ["PprLogRun", 7],
    ["GALogRun", 8],
    ["GALOverflow", 9],
    ["GAInt", 10],
  ];
  for (const [name, bit] of bits) expectBits(STATUS, name, 0, bit);
  assert.deepEqual([...STATUS.maskWhere((x) => x.access === "rw1c")], [0x667, 0]);
  assert.deepEqual([...STATUS.maskWhere((x) => x.access === "ro")], [0x198, 0]);
});

Deno.test("MMIO: register file applies RW1C and read-only rules to software writes", () => {
  const r = new RegisterFile();
  r.put32(MMIO.STATUS, 0x7ff); // hardware sets every bit
  r.write32(MMIO.STATUS, 0); // writing 0 clears nothing
  assert.equal(r.get32(MMIO.STATUS), 0x7ff);
  r.write32(MMIO.STATUS, 0x2); // clears EventLogInt only
  assert.equal(r.get32(MMIO.STATUS), 0x7fd);
  r.write32(MMIO.STATUS, 0xffff_ffff); // clears every RW1C bit; RO and reserved bits stay
  assert.equal(r.get32(MMIO.STATUS), 0x198);
  r.write32(MMIO.CMD_TAIL, 0xffff_ffff); // pointer: only bits 18:4 are writable
  assert.equal(r.get32(MMIO.CMD_TAIL), 0x7fff0);
  r.put32(MMIO.STATUS, 0);
  r.write32(MMIO.STATUS, 0x198); // software cannot set RO bits
  assert.equal(r.get32(MMIO.STATUS), 0);
  r.put32(MMIO.EXT_FEATURES, 0x45); // EFR: every field read-only
  r.put32(MMIO.EXT_FEATURES + 4, 0x1f);
  r.write32(MMIO.EXT_FEATURES, 0xffff_ffff);
  r.write32(MMIO.EXT_FEATURES + 4, 0);
  assert.deepEqual([r.get32(MMIO.EXT_FEATURES), r.get32(MMIO.EXT_FEATURES + 4)], [0x45, 0x1f]);
  r.write32(MMIO.CONTROL + 4, 0x4_0000); // XTEn (bit 50) is plain RW
  assert.equal(r.field(MMIO.CONTROL, "XTEn"), 1);
  assert.equal(r.implements(0x2028), false, "0x2028 is not a register of the map");
});

Deno.test("MMIO: EFR feature positions", () => {
  const bits: [string, number, number?][] = [
    ["PreFSup", 0],
    ["PPRSup", 1],
    ["XTSup", 2],
    ["NXSup", 3],
    ["GTSup", 4],
    ["IASup", 6],
    ["GASup", 7],
    ["HESup", 8],
    ["PCSup", 9],
    ["HATS", 11, 10],
    ["GATS", 13, 12],
    ["GLXSup", 15, 14],
    ["GAMSup", 23, 21],
    ["PASMax", 36, 32],
    ["MsiCapMmioSup", 46],
    ["GIoSup", 48],
    ["HASup", 49],
    ["HDSup", 52],
  ];
  for (const [name, hi, lo] of bits) expectBits(EFR, name, 0, hi, lo);
});
