/**
 * The DMA translation decision table (reference §4, rows 1–17), event suppression (SA, SE,
 * ATS), large pages, skipped levels, Modes 1..6 and hardware errors. Every abort asserts
 * the event as software would read it from the event log: name, DeviceID, DomainID,
 * Address and the exact 12-bit flags value; every success asserts the SPA.
 */
import assert from "node:assert/strict";
import type { DmaOutcome } from "../../runtime/hw/iommu/iommu.ts";
import { DTE, type DteField } from "../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { type DmaRecord, Machine as HwMachine } from "../../runtime/hw/machine.ts";
import {
  allocTable,
  consumeEvents,
  invalidateDomain,
  invalidateDte,
  KIT,
  type Machine,
  machineUp,
  map4k,
  mapPath,
  noEvents,
  oneEvent,
  paging,
  pte,
  readEntry,
  rwDte,
  writeDte,
  writeEntry,
  writeReg,
  xlate,
} from "./kit.ts";

const DEV = 0x0100; // 01:00.0
const DOM = 0x0012;
const HOLE = 0xd000_0000; // inside the kit's PCI MMIO hole (3..4 GiB)

/** A machine with the IOMMU up and DEV's DTE written from `fields` (V, TV, IR, IW, DomainID preset). */
function setup(
  fields: Partial<Record<DteField, number>> = {},
  efr?: Record<string, number>,
): { m: Machine; root: number } {
  const m = machineUp({ efr });
  const root = allocTable(m);
  writeDte(m, DEV, rwDte(DOM, fields));
  return { m, root };
}

/** {@link setup} with DEV's DTE then pointing at the `mode`-level table at `root`. */
function setupPaged(mode = 3): { m: Machine; root: number } {
  const h = setup();
  writeDte(h.m, DEV, rwDte(DOM, paging(h.root, mode)));
  return h;
}

function expectTranslated(out: DmaOutcome, spa: number, via?: "walk" | "iotlb"): void {
  assert.equal(out.kind, "translated", JSON.stringify(out));
  if (out.kind !== "translated") return;
  assert.equal(out.spa, spa);
  assert.equal(out.domid, DOM);
  if (via) assert.equal(out.via, via);
}

function expectUntranslated(out: DmaOutcome, spa: number, why: string): void {
  assert.deepEqual(out, { kind: "untranslated", spa, why });
}

function expectAbort(out: DmaOutcome, event: string, logged = true): void {
  assert.equal(out.kind, "abort", JSON.stringify(out));
  if (out.kind !== "abort") return;
  assert.equal(out.event, event);
  assert.equal(out.logged, logged);
}

/** The one pending event, checked field by field. */
function expectEvent(
  m: Machine,
  want: { name: string; devid?: number; domid?: number; addr: number; flags: number },
): void {
  const e = oneEvent(m);
  assert.equal(e.name, want.name);
  assert.equal(e.fields.DeviceID, want.devid ?? DEV, "DeviceID");
  if (want.domid !== undefined) assert.equal(e.fields.DomainID, want.domid, "DomainID");
  assert.equal(e.address, BigInt(want.addr), "Address");
  assert.equal(e.flags, want.flags, `flags 0x${e.flags.toString(16)}`);
}

const ioPageFault = (addr: number, flags: number, domid = DOM) => ({
  name: "IO_PAGE_FAULT",
  domid,
  addr,
  flags,
});

// ---- rows 1–10: before the walk -----------------------------------------------------------

Deno.test("row 1: IommuEn=0 forwards untranslated without reading the DTE", () => {
  const m = machineUp({ enable: false });
  writeDte(m, DEV, { V: 1, TV: 0 }); // would abort if it were used
  assert.equal(m.iommus[0].control("IommuEn"), 0);
  expectUntranslated(xlate(m, DEV, 0x5000, true), 0x5000, "iommu-off");
  assert.deepEqual(m.iommus[0].dteCache.keys(), [], "no DTE was fetched");
  noEvents(m);
});

Deno.test("row 2: a DeviceID beyond the device table's Size aborts with IO_PAGE_FAULT", () => {
  const m = machineUp({ sizeField: 0 }); // one 4 KiB page: DeviceIDs 0x00..0x7f
  assert.deepEqual(m.iommus[0].deviceTable(), [KIT.DEV_TABLE, 4096]);
  writeDte(m, 0x7f, { V: 1, TV: 1, IR: 1, IW: 1 }); // last entry inside: Mode 0 passthrough
  writeDte(m, 0x80, { V: 1, TV: 1, IR: 1, IW: 1 }); // first entry beyond: never read
  expectUntranslated(xlate(m, 0x7f, 0x9000, true), 0x9000, "mode-0");
  const out = xlate(m, 0x80, 0x9000, true);
  expectAbort(out, "IO_PAGE_FAULT");
  expectEvent(m, { name: "IO_PAGE_FAULT", devid: 0x80, domid: 0, addr: 0x9000, flags: 0x020 });
  assert.deepEqual(m.iommus[0].dteCache.keys(), [0x7f]);
});

Deno.test("row 3: a device table in a hole gives DEV_TAB_HARDWARE_ERROR at the DTE's SPA", () => {
  const m = machineUp({ devTable: HOLE });
  const out = xlate(m, DEV, 0x4000, true);
  expectAbort(out, "DEV_TAB_HARDWARE_ERROR");
  // flags: RW (0x020) | Type 1 (master abort, bits 58:57 → 0x200)
  expectEvent(m, { name: "DEV_TAB_HARDWARE_ERROR", addr: HOLE + DEV * 32, flags: 0x220 });
  expectAbort(xlate(m, DEV, 0x4000, false), "DEV_TAB_HARDWARE_ERROR");
  expectEvent(m, { name: "DEV_TAB_HARDWARE_ERROR", addr: HOLE + DEV * 32, flags: 0x200 });
});

Deno.test("row 4: DTE.V=0 forwards untranslated with no permission checks", () => {
  const { m } = setup({ V: 0, TV: 0, IR: 0, IW: 0, Mode: 7 });
  expectUntranslated(xlate(m, DEV, 0x0123_4000, true), 0x0123_4000, "dte-invalid");
  // through the bus the write lands at SPA = IOVA
  const r = m.dmaWrite(DEV, 0x0123_4010, [0xcafe]);
  assert.deepEqual(r, { ok: true, spa: 0x0123_4010 });
  assert.equal(m.mem.read32(0x0123_4010), 0xcafe);
  noEvents(m);
});

Deno.test("row 5: reserved bits in DTE q0/q1 give ILLEGAL_DEV_TABLE_ENTRY (RZ) at the IOVA", () => {
  for (const [dword, bit] of [[0, 2], [1, 31], [3, 10]]) {
    const { m } = setup({ Mode: 0 });
    m.mem.write32(KIT.DEV_TABLE + DEV * 32 + dword * 4, 1 << bit >>> 0);
    const w = m.iommus[0].peekDte(DEV);
    w[0] |= 3; // keep V and TV set when dword 0 is the one carrying the reserved bit
    m.mem.writeDwords(KIT.DEV_TABLE + DEV * 32, w);
    assert.ok(DTE.reservedBitsSet(m.iommus[0].peekDte(DEV)));
    expectAbort(xlate(m, DEV, 0x7000, true), "ILLEGAL_DEV_TABLE_ENTRY");
    // RZ 0x080 | RW 0x020
    expectEvent(m, { name: "ILLEGAL_DEV_TABLE_ENTRY", addr: 0x7000, flags: 0x0a0 });
  }
});

Deno.test("row 5: reserved bits in DTE q2/q3 do not concern DMA", () => {
  const { m, root } = setupPaged();
  m.mem.write32(KIT.DEV_TABLE + DEV * 32 + 24, 0x1); // q3 bit 0
  map4k(m, root, 3, 0x7000, 0x0300_0000);
  expectTranslated(xlate(m, DEV, 0x7010, true), 0x0300_0010);
  noEvents(m);
});

Deno.test("row 6: V=1, TV=0 aborts with IO_PAGE_FAULT, not present", () => {
  const { m } = setup({ TV: 0 });
  expectAbort(xlate(m, DEV, 0x0abc_d000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x0abc_d000, 0x000));
});

Deno.test("row 7: DTE IR/IW are checked before Mode (permission fault, PR=1 PE=1)", () => {
  const { m, root } = setup({ IW: 0, ...paging(0, 0) });
  expectAbort(xlate(m, DEV, 0x5000, true), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x5000, 0x070)); // PR | RW | PE
  expectUntranslated(xlate(m, DEV, 0x5000, false), 0x5000, "mode-0");
  // with a page table that does map the page: still refused, and no walk happens
  writeDte(m, DEV, rwDte(DOM, { IR: 0, ...paging(root, 3) }));
  invalidateDte(m, DEV);
  map4k(m, root, 3, 0x5000, 0x0400_0000);
  const walks = m.iommus[0].counters.walks;
  expectAbort(xlate(m, DEV, 0x5000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x5000, 0x050)); // PR | PE
  assert.equal(m.iommus[0].counters.walks, walks, "refused before the page walk");
  expectTranslated(xlate(m, DEV, 0x5000, true), 0x0400_0000, "walk");
});

Deno.test("row 8: Mode 0 forwards untranslated when IR/IW allow", () => {
  const { m } = setup({ Mode: 0 });
  expectUntranslated(xlate(m, DEV, 0x1_2345_6000, true), 0x1_2345_6000, "mode-0");
  expectUntranslated(xlate(m, DEV, 0x1_2345_6000, false), 0x1_2345_6000, "mode-0");
  noEvents(m);
});

Deno.test("row 9: Mode 7, or above EFR.HATS, aborts with IO_PAGE_FAULT (PR=1, RZ=1)", () => {
  const { m, root } = setup(paging(0, 7));
  expectAbort(xlate(m, DEV, 0x3000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x3000, 0x090));

  // HATS=0: four levels at most. Mode 4 walks, Mode 5 does not.
  const h = setup(paging(0, 5), { IASup: 1, HATS: 0 });
  expectAbort(xlate(h.m, DEV, 0x3000, true), "IO_PAGE_FAULT");
  expectEvent(h.m, ioPageFault(0x3000, 0x0b0));
  writeDte(h.m, DEV, rwDte(DOM, paging(h.root, 4)));
  invalidateDte(h.m, DEV);
  map4k(h.m, h.root, 4, 0x3000, 0x0500_0000);
  expectTranslated(xlate(h.m, DEV, 0x3000, true), 0x0500_0000);

  // HATS=3: no host translation at all
  const n = setup(paging(root, 1), { IASup: 1, HATS: 3 });
  expectAbort(xlate(n.m, DEV, 0x3000, false), "IO_PAGE_FAULT");
  expectEvent(n.m, ioPageFault(0x3000, 0x090));
});

Deno.test("row 10: the exclusion range forwards untranslated when Allow=1 or DTE.EX=1", () => {
  const { m, root } = setupPaged();
  map4k(m, root, 3, 0x0800_0000, 0x0600_0000); // also mapped: exclusion must win
  writeReg(m, MMIO.EXCL_LIMIT, 0x0800_1000);
  writeReg(m, MMIO.EXCL_BASE, 0x0800_0000 | 0b11); // ExEn | Allow
  expectUntranslated(xlate(m, DEV, 0x0800_1ff0, true), 0x0800_1ff0, "exclusion");
  expectUntranslated(xlate(m, DEV, 0x0800_0000, true), 0x0800_0000, "exclusion");
  expectAbort(xlate(m, DEV, 0x0800_2000, true), "IO_PAGE_FAULT"); // past the limit: walked
  expectEvent(m, ioPageFault(0x0800_2000, 0x020));

  writeReg(m, MMIO.EXCL_BASE, 0x0800_0000 | 0b01); // ExEn only: needs DTE.EX
  expectTranslated(xlate(m, DEV, 0x0800_0010, true), 0x0600_0010);
  writeDte(m, DEV, rwDte(DOM, { EX: 1, ...paging(root, 3) }));
  invalidateDte(m, DEV);
  expectUntranslated(xlate(m, DEV, 0x0800_0010, true), 0x0800_0010, "exclusion");
  assert.equal(m.mem.read32(KIT.MMIO + MMIO.EXCL_LIMIT), 0x0800_1fff, "limit bits 11:0 read 1");
});

// ---- rows 11–17: the page walk --------------------------------------------------------------

Deno.test("row 11: a table pointer into a hole gives PAGE_TAB_HARDWARE_ERROR at the entry", () => {
  const { m, root } = setup();
  // root itself in the hole
  writeDte(m, DEV, rwDte(DOM, paging(HOLE, 3)));
  const iova = 0x4030_5000; // L3 index 1
  expectAbort(xlate(m, DEV, iova, true), "PAGE_TAB_HARDWARE_ERROR");
  expectEvent(m, {
    name: "PAGE_TAB_HARDWARE_ERROR",
    domid: DOM,
    addr: HOLE + 1 * 8,
    flags: 0x220, // RW | Type 1
  });
  // a level-2 PDE pointing into the hole
  writeDte(m, DEV, rwDte(DOM, paging(root, 3)));
  invalidateDte(m, DEV);
  const l2 = allocTable(m);
  writeEntry(m, root + 1 * 8, pte(l2, 2));
  writeEntry(m, l2 + 0x80 * 8, pte(HOLE + 0x1000, 1));
  const iova2 = 0x5000_7000; // L3 idx 1, L2 idx 0x80, L1 idx 7
  expectAbort(xlate(m, DEV, iova2, false), "PAGE_TAB_HARDWARE_ERROR");
  expectEvent(m, {
    name: "PAGE_TAB_HARDWARE_ERROR",
    domid: DOM,
    addr: HOLE + 0x1000 + 7 * 8,
    flags: 0x200,
  });
});

Deno.test("row 12: a not-present entry (leaf or directory) aborts with PR=0", () => {
  const { m, root } = setupPaged();
  const leaf = map4k(m, root, 3, 0x20_0000, 0x0700_0000);
  writeEntry(m, leaf, readEntry(m, leaf) & ~1n);
  expectAbort(xlate(m, DEV, 0x20_0000, true), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x20_0000, 0x020));
  // nothing mapped at all under L3 index 2
  expectAbort(xlate(m, DEV, 0x8000_0000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x8000_0000, 0x000));
});

Deno.test("row 13: reserved bits in a PDE or PTE abort with PR=1, RZ=1", () => {
  const { m, root } = setupPaged();
  const [l3, , leaf] = mapPath(m, root, 3, 0x1000, 0x0710_0000);
  writeEntry(m, leaf, readEntry(m, leaf) | (1n << 55n)); // PTE reserved 58:52
  expectAbort(xlate(m, DEV, 0x1000, true), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x1000, 0x0b0)); // PR | RW | RZ
  writeEntry(m, leaf, (readEntry(m, leaf) & ~(1n << 55n)) | (1n << 59n) | (1n << 60n));
  expectTranslated(xlate(m, DEV, 0x1000, false), 0x0710_0000, "walk"); // U, FC: not reserved
  invalidateDomain(m, DOM);
  writeEntry(m, l3, readEntry(m, l3) | (1n << 59n)); // PDE reserved 60:52
  expectAbort(xlate(m, DEV, 0x1000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x1000, 0x090)); // PR | RZ
});

Deno.test("row 14: permissions are the AND of every entry on the path", () => {
  const { m, root } = setupPaged();
  const [l3, l2, leaf] = mapPath(m, root, 3, 0x4000, 0x0720_0000, true, false);
  expectAbort(xlate(m, DEV, 0x4000, true), "IO_PAGE_FAULT"); // leaf IW=0
  expectEvent(m, ioPageFault(0x4000, 0x070));
  expectTranslated(xlate(m, DEV, 0x4000, false), 0x0720_0000);
  invalidateDomain(m, DOM);
  writeEntry(m, leaf, readEntry(m, leaf) | (1n << 62n)); // leaf allows writes now ...
  writeEntry(m, l2, readEntry(m, l2) & ~(1n << 62n)); // ... but the L2 PDE does not
  expectAbort(xlate(m, DEV, 0x4000, true), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x4000, 0x070));
  writeEntry(m, l2, readEntry(m, l2) | (1n << 62n));
  writeEntry(m, l3, readEntry(m, l3) & ~(1n << 61n)); // the root PDE refuses reads
  expectAbort(xlate(m, DEV, 0x4000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x4000, 0x050));
  expectTranslated(xlate(m, DEV, 0x4000, true), 0x0720_0000, "walk");
  // the IOTLB keeps the ANDed permissions: a read hitting the cached entry is still refused
  expectAbort(xlate(m, DEV, 0x4000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x4000, 0x050));
});

Deno.test("row 15: Next Level not below the current level aborts with PR=1", () => {
  const { m, root } = setupPaged();
  const [l3] = mapPath(m, root, 3, 0x9000, 0x0730_0000);
  const target = readEntry(m, l3) & 0x000f_ffff_ffff_f000n;
  for (const nl of [3, 4, 6]) {
    writeEntry(m, l3, pte(Number(target), nl));
    expectAbort(xlate(m, DEV, 0x9000, false), "IO_PAGE_FAULT");
    expectEvent(m, ioPageFault(0x9000, 0x010));
  }
});

Deno.test("row 15: skipped levels need zero IOVA bits for the skipped indexes", () => {
  const { m, root } = setupPaged();
  const l1 = allocTable(m);
  writeEntry(m, root + 1 * 8, pte(l1, 1)); // L3 → L1 directly, skipping L2
  writeEntry(m, l1 + 5 * 8, pte(0x0740_0000, 0));
  // L3 idx 1, L2 idx 0 (skipped, zero), L1 idx 5
  expectTranslated(xlate(m, DEV, 0x4000_5abc, true), 0x0740_0abc);
  // L2 idx 1: the skipped index is not zero
  expectAbort(xlate(m, DEV, 0x4020_5000, true), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(0x4020_5000, 0x030));

  // Mode 4 skipping two levels (L4 → L1): both L3 and L2 indexes must be zero
  const r4 = allocTable(m), t1 = allocTable(m);
  writeDte(m, DEV, rwDte(DOM, paging(r4, 4)));
  invalidateDte(m, DEV);
  writeEntry(m, r4 + 2 * 8, pte(t1, 1));
  writeEntry(m, t1 + 3 * 8, pte(0x0750_0000, 0));
  const base = 2 * 2 ** 39;
  expectTranslated(xlate(m, DEV, base + 0x3008, false), 0x0750_0008);
  expectAbort(xlate(m, DEV, base + 2 ** 30 + 0x3000, false), "IO_PAGE_FAULT"); // L3 idx 1
  expectEvent(m, ioPageFault(base + 2 ** 30 + 0x3000, 0x010));
  expectAbort(xlate(m, DEV, base + 2 ** 21 + 0x3000, false), "IO_PAGE_FAULT"); // L2 idx 1
  expectEvent(m, ioPageFault(base + 2 ** 21 + 0x3000, 0x010));
});

Deno.test("rows 16/17: default-size leaves at levels 2 and 3 (2 MiB, 1 GiB pages)", () => {
  const { m, root } = setupPaged();
  const l2 = allocTable(m);
  writeEntry(m, root + 0, pte(l2, 2));
  writeEntry(m, l2 + 3 * 8, pte(0x0860_0000, 0)); // 2 MiB leaf at L2
  writeEntry(m, root + 2 * 8, pte(0x4000_0000, 0)); // 1 GiB leaf at L3
  expectTranslated(xlate(m, DEV, 3 * 2 ** 21 + 0x1_2344, true), 0x0860_0000 + 0x1_2344);
  expectTranslated(xlate(m, DEV, 2 * 2 ** 30 + 0x0abc_def0, true), 0x4abc_def0);
  noEvents(m);
});

Deno.test("row 16/17: Next Level 7 large pages of valid sizes", () => {
  const { m, root } = setupPaged();
  const l2 = allocTable(m), l1 = allocTable(m);
  writeEntry(m, root, pte(l2, 2));
  // 4 MiB page at L2 (address bits 20:12 all ones → 2^(13+9)), replicated in slots 2 and 3
  const big = 0x4000_0000 | 0x1f_f000;
  writeEntry(m, l2 + 2 * 8, pte(big, 7));
  writeEntry(m, l2 + 3 * 8, pte(big, 7));
  expectTranslated(xlate(m, DEV, 0x60_1234, true), 0x4020_1234);
  expectTranslated(xlate(m, DEV, 0x40_0008, false), 0x4000_0008);
  // 16 KiB page at L1 (bit 12 one, bit 13 zero → 2^14)
  writeEntry(m, l2 + 0, pte(l1, 1));
  const p16 = 0x0880_0000 | 0x1000;
  for (let s = 4; s < 8; s++) writeEntry(m, l1 + s * 8, pte(p16, 7));
  expectTranslated(xlate(m, DEV, 0x6ff0, true), 0x0880_2ff0);
  expectTranslated(xlate(m, DEV, 0x4000, true), 0x0880_0000);
  noEvents(m);
});

Deno.test("row 16: Next Level 7 with a size not between this level's and the next's aborts", () => {
  const { m, root } = setupPaged();
  const l2 = allocTable(m), l1 = allocTable(m);
  writeEntry(m, root, pte(l2, 2));
  writeEntry(m, l2 + 1 * 8, pte(l1, 1));
  const cases: [number, number, number][] = [
    // [table, IOVA, encoded address]
    [l2, 0x0, 0x4000_0000 | 0x0f_f000], // 2 MiB at L2: not larger than the default
    [l2, 0x0, 0x4000_0000 | 0x3fff_f000], // 2^31 at L2: not below 1 GiB
    [l1, 0x20_0000, 0x0800_0000 | 0x0f_f000], // 2 MiB at L1: not below 2 MiB
  ];
  for (const [table, iova, addr] of cases) {
    const slot = table + (Math.floor(iova / (table === l2 ? 2 ** 21 : 4096)) % 512) * 8;
    writeEntry(m, slot, pte(addr, 7));
    expectAbort(xlate(m, DEV, iova, true), "IO_PAGE_FAULT");
    expectEvent(m, ioPageFault(iova, 0x030)); // PR | RW
  }
});

Deno.test("row 17: a translation is cached in the IOTLB, tagged by DomainID", () => {
  const { m, root } = setupPaged();
  map4k(m, root, 3, 0xabc_d000, 0x0910_0000);
  expectTranslated(xlate(m, DEV, 0xabc_d123, true), 0x0910_0123, "walk");
  expectTranslated(xlate(m, DEV, 0xabc_d456, false), 0x0910_0456, "iotlb");
  assert.deepEqual(m.iommus[0].iotlb.domainIds(), [DOM]);
  assert.equal(m.iommus[0].iotlb.lookup(DOM, 0xabcd)?.spaPage, 0x0910_0000);
  const c = m.iommus[0].counters;
  assert.deepEqual([c.dma, c.translated, c.walks], [2, 2, 1]);
});

Deno.test("walk: an IOVA beyond the reach of the DTE's Mode aborts, not present", () => {
  const { m, root } = setupPaged();
  map4k(m, root, 3, 0x1000, 0x0920_0000);
  // 2^39 has L3 index 0 after truncation: a walk that ignored the reach would translate it
  expectAbort(xlate(m, DEV, 2 ** 39 + 0x1000, false), "IO_PAGE_FAULT");
  expectEvent(m, ioPageFault(2 ** 39 + 0x1000, 0x000));
  expectTranslated(xlate(m, DEV, 0x1000, false), 0x0920_0000);
});

Deno.test("walk: Modes 1..6 each read one entry per level, including a 6-level walk", () => {
  for (let mode = 1; mode <= 6; mode++) {
    const { m, root } = setupPaged(mode);
    // an IOVA in the top half of the mode's reach; Modes 5 and 6 use 2^52 (numbers are exact
    // below 2^53): L5 index 16, and for Mode 6 an L6 index of 0
    const iova = (mode >= 5 ? 2 ** 52 : 2 ** (12 + 9 * mode - 1)) + 0x5000;
    const spa = 0x0a00_0000 + mode * 0x1000;
    const path = mapPath(m, root, mode, iova, spa);
    assert.equal(path.length, mode);
    expectTranslated(xlate(m, DEV, iova + 0x24, true), spa + 0x24, "walk");
    // every level matters: clearing PR at any one of them makes the walk fail there
    for (const entry of path) {
      const saved = readEntry(m, entry);
      writeEntry(m, entry, saved & ~1n);
      invalidateDomain(m, DOM);
      expectAbort(xlate(m, DEV, iova, true), "IO_PAGE_FAULT");
      expectEvent(m, ioPageFault(iova, 0x020));
      writeEntry(m, entry, saved);
    }
    invalidateDomain(m, DOM);
    expectTranslated(xlate(m, DEV, iova, false), spa, "walk");
  }
});

// ---- suppression ------------------------------------------------------------------------

Deno.test("SA=1 suppresses every IO_PAGE_FAULT event; the access still aborts", () => {
  const { m } = setup({ TV: 0, SA: 1 });
  const suppressed: string[] = [];
  m.iommus[0].observers.push({
    suppressed: (name, devid, addr, why) =>
      suppressed.push(`${name} ${devid.toString(16)} ${addr.toString(16)} ${why}`),
  });
  for (let i = 0; i < 3; i++) expectAbort(xlate(m, DEV, 0x1000 * i, true), "IO_PAGE_FAULT", false);
  noEvents(m);
  assert.deepEqual(suppressed, [
    "IO_PAGE_FAULT 100 0 SA",
    "IO_PAGE_FAULT 100 1000 SA",
    "IO_PAGE_FAULT 100 2000 SA",
  ]);
  // SA does not hide other event types
  m.mem.write32(KIT.DEV_TABLE + DEV * 32, 0x7); // V, TV, reserved bit 2
  invalidateDte(m, DEV);
  expectAbort(xlate(m, DEV, 0x1000, true), "ILLEGAL_DEV_TABLE_ENTRY");
  assert.equal(oneEvent(m).name, "ILLEGAL_DEV_TABLE_ENTRY");
});

Deno.test("SE=1: the first fault is logged, later ones are not until INVALIDATE_DEVTAB_ENTRY", () => {
  const { m } = setup({ TV: 0, SE: 1 });
  writeDte(m, 0x0200, { V: 1, TV: 0, SE: 1, DomainID: 7 });
  expectAbort(xlate(m, DEV, 0x1000, true), "IO_PAGE_FAULT", true);
  expectEvent(m, ioPageFault(0x1000, 0x020));
  expectAbort(xlate(m, DEV, 0x2000, false), "IO_PAGE_FAULT", false);
  expectAbort(xlate(m, DEV, 0x3000, true), "IO_PAGE_FAULT", false);
  noEvents(m);
  // another device with SE has its own latch
  expectAbort(xlate(m, 0x0200, 0x4000, true), "IO_PAGE_FAULT", true);
  expectEvent(m, { name: "IO_PAGE_FAULT", devid: 0x0200, domid: 7, addr: 0x4000, flags: 0x020 });
  // invalidating the DTE resets the latch
  invalidateDte(m, DEV);
  expectAbort(xlate(m, DEV, 0x5000, false), "IO_PAGE_FAULT", true);
  expectEvent(m, ioPageFault(0x5000, 0x000));
  expectAbort(xlate(m, DEV, 0x6000, false), "IO_PAGE_FAULT", false);
  noEvents(m);
});

Deno.test("ATS translation requests never log IO_PAGE_FAULT", () => {
  const { m, root } = setupPaged();
  expectAbort(xlate(m, DEV, 0x1000, true, { ats: true }), "IO_PAGE_FAULT", false);
  noEvents(m);
  map4k(m, root, 3, 0x1000, 0x0b00_0000);
  expectTranslated(xlate(m, DEV, 0x1000, true, { ats: true }), 0x0b00_0000);
  // the same failing access without ATS is logged
  expectAbort(xlate(m, DEV, 0x2000, true), "IO_PAGE_FAULT", true);
  expectEvent(m, ioPageFault(0x2000, 0x020));
});

// ---- through the bus -----------------------------------------------------------------------

Deno.test("bus: translated writes land at the SPA, aborted ones nowhere, holes master-abort", () => {
  const { m, root } = setupPaged();
  const recs: DmaRecord[] = [];
  m.observers.push({ dma: (r) => recs.push(r) });
  map4k(m, root, 3, 0x1000, 0x0c00_0000);
  map4k(m, root, 3, 0x2000, HOLE); // a mapping that points into the hole
  assert.deepEqual(m.dmaWrite(DEV, 0x1008, [0x1234]), { ok: true, spa: 0x0c00_0008 });
  assert.equal(m.mem.read32(0x0c00_0008), 0x1234);
  assert.equal(m.mem.read32(0x1008), 0, "not written at SPA = IOVA");
  const r = m.dmaWrite(DEV, 0x3000, [0x5678]);
  assert.deepEqual(r, { ok: false, why: "iommu-abort", detail: "level 1 entry not present" });
  assert.deepEqual(m.mem.nonBlankPages().includes(3), false);
  const h = m.dmaWrite(DEV, 0x2000, [0x9abc]);
  assert.equal(h.ok, false);
  assert.equal(!h.ok && h.why, "master-abort");
  assert.equal(recs[2].masterAbort, true);
  assert.equal(recs[2].outcome.kind, "translated");
  const out = new Uint32Array(1);
  assert.equal(m.dmaRead(DEV, 0x3000, out).ok, false);
  assert.equal(out[0], 0xffff_ffff, "an aborted read returns all ones");
  assert.deepEqual(consumeEvents(m).map((e) => [e.name, e.address, e.flags]), [
    ["IO_PAGE_FAULT", 0x3000n, 0x020],
    ["IO_PAGE_FAULT", 0x3000n, 0x000],
  ]);
});

Deno.test("bus: a machine without an IOMMU is refused (every DMA and MSI goes through one)", () => {
  assert.throws(
    () => new HwMachine({ seed: 1, memoryMap: [], iommus: [] }),
    /at least one IOMMU/,
  );
});

Deno.test("bus: resetRootComplex powers one IOMMU on again and resets only the devices behind it", () => {
  const MMIO0 = 0xfeb8_0000, MMIO1 = 0xfeb9_0000;
  const m = new HwMachine({
    seed: 1,
    memoryMap: [{ base: 0, size: 0x4000_0000, kind: "ram", name: "System RAM" }],
    iommus: [
      { index: 0, devid: 0x0002, mmioBase: MMIO0, efr: { IASup: 1 } },
      { index: 1, devid: 0x4002, mmioBase: MMIO1, efr: { IASup: 1 } },
    ],
    iommuOf: (devid) => (devid >= 0x4000 ? 1 : 0),
  });
  const resets: number[] = [];
  for (const devid of [0x0100, 0x4100, 0x4200]) {
    m.addDevice({ devid, name: `dev${devid}`, attach() {}, reset: () => resets.push(devid) });
  }
  for (const base of [MMIO0, MMIO1]) m.mem.write32(base + MMIO.CONTROL, 1); // IommuEn
  m.resetRootComplex(1);
  assert.deepEqual(resets, [0x4100, 0x4200]);
  assert.deepEqual(m.iommus.map((u) => u.control("IommuEn")), [1, 0]);
  assert.equal(m.iommus[1].feature("IASup"), 1, "the EFR is back from the configuration");
});
