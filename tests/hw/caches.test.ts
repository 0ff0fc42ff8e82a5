/**
 * The IOMMU's caches (runtime/hw/iommu/caches.ts): software that changes a PTE or a DTE
 * keeps getting the cached copy until it sends the right invalidation command.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { DTE_SUM, DteCache, Iotlb, summarizeDte } from "../../runtime/hw/iommu/caches.ts";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { INV_ALL_PAGES_ADDRESS } from "../../runtime/hw/layouts/command.ts";
import {
  allocTable,
  drainCommands,
  invalidateDte,
  type Machine,
  machineUp,
  map4k,
  noEvents,
  oneEvent,
  paging,
  queueCommand,
  rwDte,
  writeDte,
  writeEntry,
  xlate,
} from "./kit.ts";

const DEV = 0x0100;
const DOM = 5;
const PAGE_A = 0x0300_0000, PAGE_B = 0x0310_0000;

function setup(): { m: Machine; root: number } {
  const m = machineUp();
  const root = allocTable(m);
  writeDte(m, DEV, rwDte(DOM, paging(root, 3)));
  return { m, root };
}

/** Where a DMA write from DEV to `iova` lands now (or "abort"). */
function target(m: Machine, iova: number): number | "abort" {
  const out = xlate(m, DEV, iova, true);
  return out.kind === "translated" ? out.spa : "abort";
}

function invalidatePages(m: Machine, domid: number, address: number, s = 0): void {
  queueCommand(m, "INVALIDATE_IOMMU_PAGES", { DomainID: domid, S: s, Address: address / 4096 });
  drainCommands(m);
}

Deno.test("IOTLB: a changed PTE is not seen until INVALIDATE_IOMMU_PAGES for its domain and page", () => {
  const { m, root } = setup();
  const leaf = map4k(m, root, 3, 0x7000, PAGE_A);
  assert.equal(target(m, 0x7010), PAGE_A + 0x10);
  map4k(m, root, 3, 0x7000, PAGE_B); // the kernel remaps the page, no flush yet
  assert.equal(leaf, map4k(m, root, 3, 0x7000, PAGE_B), "same PTE rewritten");
  const out = xlate(m, DEV, 0x7010, true);
  assert.equal(out.kind === "translated" && out.via, "iotlb");
  assert.equal(target(m, 0x7010), PAGE_A + 0x10, "stale: still the old page");
  invalidatePages(m, DOM + 1, 0x7000); // wrong domain
  assert.equal(target(m, 0x7010), PAGE_A + 0x10);
  invalidatePages(m, DOM, 0x8000); // right domain, another page
  assert.equal(target(m, 0x7010), PAGE_A + 0x10);
  invalidatePages(m, DOM, 0x7000); // right domain and page
  const fresh = xlate(m, DEV, 0x7010, true);
  assert.equal(fresh.kind === "translated" && fresh.via, "walk");
  assert.equal(target(m, 0x7010), PAGE_B + 0x10);
});

Deno.test("IOTLB: an unmapped page keeps taking DMA until it is flushed", () => {
  const { m, root } = setup();
  const leaf = map4k(m, root, 3, 0x5000, PAGE_A);
  assert.equal(m.dmaWrite(DEV, 0x5000, [1]).ok, true);
  writeEntry(m, leaf, 0n); // unmap without a flush
  assert.deepEqual(m.dmaWrite(DEV, 0x5004, [2]), { ok: true, spa: PAGE_A + 4 });
  assert.equal(m.mem.read32(PAGE_A + 4), 2);
  noEvents(m);
  invalidatePages(m, DOM, 0x5000);
  assert.equal(m.dmaWrite(DEV, 0x5008, [3]).ok, false);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.address, e.flags], ["IO_PAGE_FAULT", 0x5008n, 0x020]);
});

Deno.test("IOTLB: not-present translations are not cached (a new mapping needs no flush)", () => {
  const { m, root } = setup();
  assert.equal(target(m, 0x6000), "abort");
  oneEvent(m);
  map4k(m, root, 3, 0x6000, PAGE_A);
  assert.equal(target(m, 0x6000), PAGE_A);
});

Deno.test("IOTLB: S=1 invalidates the naturally aligned 2^(13+n) range; all ones, everything", () => {
  const { m, root } = setup();
  const pages = Array.from({ length: 16 }, (_, i) => 0x10_000 + i * 0x1000);
  for (const p of pages) map4k(m, root, 3, p, PAGE_A + p);
  for (const p of pages) assert.equal(target(m, p), PAGE_A + p);
  assert.equal(m.iommus[0].iotlb.count, 16);
  for (const p of pages) map4k(m, root, 3, p, PAGE_B + p); // remap all, no flush
  const stale = () => pages.filter((p) => target(m, p) === PAGE_A + p).map((p) => p / 4096);
  assert.equal(stale().length, 16);

  // bit 12 set, bit 13 clear: n = 1, 16 KiB aligned → pages 0x14..0x17
  invalidatePages(m, DOM, 0x15_000, 1);
  assert.deepEqual(stale(), [
    0x10,
    0x11,
    0x12,
    0x13,
    0x18,
    0x19,
    0x1a,
    0x1b,
    0x1c,
    0x1d,
    0x1e,
    0x1f,
  ]);
  // bit 12 clear: n = 0, 8 KiB → pages 0x1a, 0x1b
  invalidatePages(m, DOM, 0x1a_000, 1);
  assert.deepEqual(stale(), [0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1c, 0x1d, 0x1e, 0x1f]);
  // S=1 for another domain, whole range: nothing
  invalidatePages(m, DOM + 1, INV_ALL_PAGES_ADDRESS, 1);
  assert.equal(stale().length, 10);
  // CMD_INV_IOMMU_ALL_PAGES_ADDRESS (0x7fffffffffffffff) with S=1: the whole domain
  invalidatePages(m, DOM, INV_ALL_PAGES_ADDRESS, 1);
  assert.deepEqual(stale(), []);
  for (const p of pages) assert.equal(target(m, p), PAGE_B + p);
});

Deno.test("IOTLB: large-page translations are dropped by a range covering the IOVA page", () => {
  const { m, root } = setup();
  const l2 = allocTable(m);
  writeEntry(m, root, BigInt(l2) | (2n << 9n) | 1n | (3n << 61n));
  writeEntry(m, l2 + 8, BigInt(0x4000_0000) | 1n | (3n << 61n)); // 2 MiB leaf at IOVA 2 MiB
  assert.equal(target(m, 0x20_5000), 0x4000_5000);
  writeEntry(m, l2 + 8, BigInt(0x4060_0000) | 1n | (3n << 61n));
  assert.equal(target(m, 0x20_5000), 0x4000_5000, "stale");
  // 2 MiB range: address bits 19:12 set (n = 8), aligned to 2 MiB
  invalidatePages(m, DOM, 0x20_0000 | 0xff_000, 1);
  assert.equal(target(m, 0x20_5000), 0x4060_5000);
});

Deno.test("DTE cache: a changed DTE is not seen until INVALIDATE_DEVTAB_ENTRY for that DeviceID", () => {
  const { m, root } = setup();
  map4k(m, root, 3, 0x7000, PAGE_A);
  const root2 = allocTable(m);
  map4k(m, root2, 3, 0x7000, PAGE_B);
  assert.equal(target(m, 0x7000), PAGE_A);
  // the kernel moves DEV to another domain with another page table
  writeDte(m, DEV, rwDte(9, paging(root2, 3)));
  const t = xlate(m, DEV, 0x7000, true);
  assert.equal(t.kind === "translated" && t.domid, DOM, "the cached DTE's domain");
  invalidateDte(m, 0x0101); // another device
  assert.equal(target(m, 0x7000), PAGE_A);
  invalidateDte(m, DEV);
  const t2 = xlate(m, DEV, 0x7000, true);
  assert.equal(t2.kind === "translated" && t2.domid, 9);
  assert.equal(target(m, 0x7000), PAGE_B);
});

Deno.test("DTE cache: clearing V in memory does not stop translation until invalidated", () => {
  const { m, root } = setup();
  map4k(m, root, 3, 0x7000, PAGE_A);
  assert.equal(target(m, 0x7000), PAGE_A);
  writeDte(m, DEV, { V: 1, TV: 1, Mode: 0 }); // "block all DMA" DTE (IR=IW=0)
  assert.equal(target(m, 0x7000), PAGE_A, "still the cached translating DTE");
  invalidateDte(m, DEV);
  assert.equal(target(m, 0x7000), "abort");
  assert.equal(oneEvent(m).flags, 0x070);
});

Deno.test("INVALIDATE_IOMMU_ALL drops the DTE cache and the IOTLB", () => {
  const { m, root } = setup();
  map4k(m, root, 3, 0x7000, PAGE_A);
  assert.equal(target(m, 0x7000), PAGE_A);
  const u = m.iommus[0];
  assert.deepEqual(u.dteCache.keys(), [DEV]);
  assert.equal(u.iotlb.count, 1);
  map4k(m, root, 3, 0x7000, PAGE_B);
  queueCommand(m, "INVALIDATE_IOMMU_ALL", {});
  drainCommands(m);
  assert.deepEqual(u.dteCache.keys(), []);
  assert.equal(u.iotlb.count, 0);
  assert.equal(target(m, 0x7000), PAGE_B);
});

Deno.test("Iotlb: bounded, evicts the oldest insertion, counts survive invalidations", () => {
  const t = new Iotlb(3);
  const e = (spaPage: number) => ({ spaPage, ir: true, iw: true });
  t.insert(1, 10, e(0xa000));
  t.insert(1, 11, e(0xb000));
  t.insert(2, 10, e(0xc000));
  t.insert(1, 10, e(0xd000)); // update in place: no eviction
  assert.equal(t.count, 3);
  assert.equal(t.lookup(1, 10)?.spaPage, 0xd000);
  t.insert(2, 11, e(0xe000)); // evicts (1, 10), the oldest insertion
  assert.equal(t.lookup(1, 10), undefined);
  assert.equal(t.count, 3);
  assert.equal(t.invalidateRange(1, 11 * 4096, 4096), 1);
  assert.equal(t.count, 2);
  t.insert(3, 1, e(0xf000));
  t.insert(3, 2, e(0x1_0000)); // evicts (2, 10); the stale record of (1, 11) is skipped
  assert.equal(t.count, 3);
  assert.deepEqual(t.domainIds().sort(), [2, 3]);
  assert.equal(t.lookup(2, 10), undefined);
  assert.equal(t.lookup(2, 11)?.spaPage, 0xe000);
  assert.equal(t.invalidateRange(3, 0, Infinity), 2);
  assert.equal(t.count, 1);
});

Deno.test("Iotlb: a page invalidated and cached again is as young as its new insertion", () => {
  const t = new Iotlb(3);
  const e = (spaPage: number) => ({ spaPage, ir: true, iw: true });
  t.insert(1, 1, e(0x1000));
  t.insert(1, 2, e(0x2000));
  t.insert(1, 3, e(0x3000));
  assert.equal(t.invalidateRange(1, 1 * 4096, 4096), 1);
  t.insert(1, 1, e(0x4000)); // the newest entry now; its first record is stale
  t.insert(1, 4, e(0x5000)); // evicts (1, 2), the oldest live entry, not (1, 1)
  assert.equal(t.lookup(1, 1)?.spaPage, 0x4000);
  assert.equal(t.lookup(1, 2), undefined);
  assert.equal(t.lookup(1, 3)?.spaPage, 0x3000);
  assert.equal(t.count, 3);
});

Deno.test("DteCache: bounded, evicts the oldest DeviceID; invalidate and clear", () => {
  const c = new DteCache(2);
  c.put(1, new Uint32Array(8));
  c.put(2, new Uint32Array(8));
  c.put(1, new Uint32Array(8).fill(1)); // replace: no eviction
  assert.deepEqual(c.keys().sort(), [1, 2]);
  c.put(3, new Uint32Array(8)); // evicts 1, the first one cached
  assert.deepEqual(c.keys(), [2, 3]);
  assert.equal(c.get(3)?.faultLogged, false);
  c.invalidate(3);
  assert.equal(c.get(3), undefined);
  c.clear();
  assert.deepEqual(c.keys(), []);
});

const SUM_SEED = 20171005;
console.log(`caches.test.ts: fast-check seed ${SUM_SEED}`);

Deno.test("DteCache: each slot's summary is the DTE layout's V, TV, IR, IW, Mode, DomainID and q0/q1 reserved bits", () => {
  const c = new DteCache(4);
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 0xffff }),
      (list, devid) => {
        const w = Uint32Array.from(list);
        const want = (DTE.field("DomainID").get(w)) |
          (DTE.field("Mode").get(w) << DTE_SUM.MODE_SHIFT) |
          (DTE.field("V").get(w) ? DTE_SUM.V : 0) |
          (DTE.field("TV").get(w) ? DTE_SUM.TV : 0) |
          (DTE.field("IR").get(w) ? DTE_SUM.IR : 0) |
          (DTE.field("IW").get(w) ? DTE_SUM.IW : 0) |
          (DTE.reservedBitsSet(w, 0, 0, 4) ? DTE_SUM.RSVD : 0);
        assert.equal(summarizeDte(w), want);
        const slot = c.store(devid, w);
        assert.equal(c.summary(slot), want, "decoded when cached");
        assert.deepEqual(c.view(slot), w);
      },
    ),
    { seed: SUM_SEED, numRuns: 500 },
  );
});
