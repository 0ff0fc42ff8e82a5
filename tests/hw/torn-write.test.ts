/**
 * A 64-bit Device Table Base update is two 32-bit MMIO writes. With translation enabled, a
 * device whose DTE is not cached and that DMAs between the two halves gets its DTE from
 * the half-updated address: new low half, old high half.
 */
import assert from "node:assert/strict";
import { splitNumber } from "../../runtime/hw/bits.ts";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import {
  allocTable,
  KIT,
  type Machine,
  machineUp,
  map4k,
  noEvents,
  paging,
  readReg32,
  rwDte,
  writeDte,
} from "./kit.ts";

const DEV = 0x0300; // 03:00.0
const IOVA = 0x0040_0000;
const OLD_TABLE = KIT.DEV_TABLE; // 0x0100_0000, below 4 GiB
const NEW_TABLE = 0x1_2000_0000; // above 4 GiB
const TORN = 0x2000_0000; // new low half | old (zero) high half
const SIZE = 0x1ff;

/** A translated DTE for DEV mapping IOVA to `spa` in domain `domid`, written in `table`. */
function translatedDte(m: Machine, table: number, domid: number, spa: number): void {
  const root = allocTable(m);
  map4k(m, root, 3, IOVA, spa);
  writeDte(m, DEV, rwDte(domid, paging(root, 3)), table);
}

function writeHalf(m: Machine, half: 0 | 1, value: number): void {
  m.mem.write32(KIT.MMIO + MMIO.DEV_TABLE + 4 * half, value);
}

Deno.test("torn Device Table Base: a DMA between the halves reads the DTE at new-low|old-high", () => {
  const m = machineUp();
  const u = m.iommus[0];
  translatedDte(m, OLD_TABLE, 1, 0x0500_0000);
  translatedDte(m, NEW_TABLE, 2, 0x0600_0000);
  // a stray DTE nobody meant to write sits where the torn base points: Mode 0, passthrough
  writeDte(m, DEV, rwDte(0x7777), TORN);

  // before: the old table, DTE fetched and cached
  assert.deepEqual(m.dmaWrite(DEV, IOVA, [1]), { ok: true, spa: 0x0500_0000 });
  assert.deepEqual(u.dteCache.keys(), [DEV]);

  // the kernel writes the low half of the new base: the cached DTEs go with it ...
  const [lo, hi] = splitNumber(NEW_TABLE + SIZE);
  writeHalf(m, 0, lo);
  assert.deepEqual(u.dteCache.keys(), []);
  // ... and between the halves the unit is translating, from a base nobody wrote
  assert.equal(u.control("IommuEn"), 1);
  assert.deepEqual(u.deviceTable(), [TORN, 2 * 1024 * 1024]);
  assert.deepEqual([readReg32(m, MMIO.DEV_TABLE), readReg32(m, MMIO.DEV_TABLE + 4)], [lo, 0]);
  assert.equal(u.regs.get64(MMIO.DEV_TABLE), 0x2000_01ff, "the register holds new low | old high");

  const r = m.dmaWrite(DEV, IOVA, [0xbad]);
  // the DTE came from TORN: Mode 0 with DomainID 0x7777, so the IOVA went out as an SPA
  assert.deepEqual(r, { ok: true, spa: IOVA });
  assert.equal(m.mem.read32(IOVA), 0xbad, "stray write at SPA = IOVA");
  assert.equal(m.mem.read32(0x0600_0000), 0, "the intended page was not written");
  const cached = u.dteCache.get(DEV)!.words;
  const torn = new Uint32Array(8);
  m.mem.readDwords(TORN + DEV * 32, 8, torn);
  assert.deepEqual([...cached], [...torn], "cached DTE = the words at TORN + DeviceID*32");
  assert.equal(DTE.get(cached, "DomainID"), 0x7777);
  // a device never seen before gets its DTE from the torn table too: there it is all zeros
  // (V=0), so its DMA goes out untranslated although the intended table translates it
  const FRESH = DEV + 1;
  const freshRoot = allocTable(m);
  map4k(m, freshRoot, 3, 0x0077_0000, 0x0680_0000);
  writeDte(m, FRESH, rwDte(5, paging(freshRoot, 3)), NEW_TABLE);
  writeDte(m, FRESH, { V: 1, TV: 0 }, OLD_TABLE); // the old table blocked it
  assert.deepEqual(m.dmaWrite(FRESH, 0x0077_0000, [0xf00]), { ok: true, spa: 0x0077_0000 });
  assert.equal(m.mem.read32(0x0680_0000), 0, "not where the intended table maps it");
  assert.deepEqual([...u.dteCache.get(FRESH)!.words], new Array(8).fill(0));
  noEvents(m);

  // the high half lands: the register now names the intended table
  writeHalf(m, 1, hi);
  assert.deepEqual(
    [readReg32(m, MMIO.DEV_TABLE), readReg32(m, MMIO.DEV_TABLE + 4)],
    [0x2000_01ff, 1],
    "the register reads back base 0x1_2000_0000, Size 0x1ff",
  );
  assert.deepEqual(u.deviceTable(), [NEW_TABLE, 2 * 1024 * 1024]);
  // ... and a write to the register drops the cached DTEs (the model's reading: they belong
  // to another table), so the entry read from the torn address is gone with the high half
  assert.deepEqual(u.dteCache.keys(), []);
  assert.deepEqual(m.dmaWrite(DEV, IOVA + 8, [0x600d]), { ok: true, spa: 0x0600_0008 });
  assert.equal(m.mem.read32(0x0600_0008), 0x600d);
  assert.equal(DTE.get(u.dteCache.get(DEV)!.words, "DomainID"), 2);
});

Deno.test("torn Device Table Base: a device first seen after the high half uses the new table", () => {
  const m = machineUp();
  translatedDte(m, NEW_TABLE, 2, 0x0600_0000);
  writeHalf(m, 0, 0x2000_0000 + SIZE);
  writeHalf(m, 1, 1);
  assert.deepEqual(m.iommus[0].deviceTable()[0], NEW_TABLE);
  assert.deepEqual(m.dmaWrite(DEV, IOVA, [7]), { ok: true, spa: 0x0600_0000 });
  assert.equal(DTE.get(m.iommus[0].dteCache.get(DEV)!.words, "DomainID"), 2);
});

Deno.test("torn Device Table Base: with IommuEn=0 the half-written base is never used", () => {
  const m = machineUp({ enable: false });
  translatedDte(m, NEW_TABLE, 2, 0x0600_0000);
  writeHalf(m, 0, 0x2000_0000 + SIZE);
  assert.equal(m.iommus[0].deviceTable()[0], TORN);
  assert.deepEqual(m.dmaWrite(DEV, IOVA, [7]), { ok: true, spa: IOVA });
  assert.deepEqual(m.iommus[0].dteCache.keys(), [], "no DTE read while translation is off");
});

Deno.test("a Device Table Base change below 4 GiB is atomic: the high half does not change", () => {
  const m = machineUp();
  const u = m.iommus[0];
  const LOW_NEW = 0x0300_0000;
  translatedDte(m, OLD_TABLE, 1, 0x0500_0000);
  translatedDte(m, LOW_NEW, 3, 0x0700_0000);
  writeHalf(m, 0, LOW_NEW + SIZE);
  // after the first write the base is already entirely the new one
  assert.deepEqual(u.deviceTable(), [LOW_NEW, 2 * 1024 * 1024]);
  assert.equal(m.dmaWrite(DEV, IOVA, [1]).ok, true);
  assert.equal(m.mem.read32(0x0700_0000), 1, "the intended table's mapping was used");
  assert.equal(DTE.get(u.dteCache.get(DEV)!.words, "DomainID"), 3);
  writeHalf(m, 1, 0); // the high half is rewritten with the value it already had
  assert.deepEqual(u.deviceTable(), [LOW_NEW, 2 * 1024 * 1024]);
  assert.deepEqual(m.dmaWrite(DEV, IOVA + 4, [2]), { ok: true, spa: 0x0700_0004 });
  assert.equal(m.mem.read32(IOVA), 0, "nothing went out untranslated");
});
