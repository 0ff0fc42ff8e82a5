/**
 * The pieces of physical memory's contents (runtime/hw/memory/): the pfn index, the line
 * arena, and the page-keyed store with its snapshot — each against a plain model (a Map of
 * dwords) over random operations (fast-check, fixed seed printed below), plus the cases the
 * storage forms change at: a page's second line, a dropped line reused.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { LineArena } from "../../../runtime/hw/memory/arena.ts";
import { PfnIndex } from "../../../runtime/hw/memory/pfn-index.ts";
import { LineStore } from "../../../runtime/hw/memory/store.ts";

const SEED = 0x5eed_9;
console.log(`memory/store.test.ts: fast-check seed ${SEED}`);

Deno.test("PfnIndex: slots in first-added order, found again after growth, pfns above 2^32 too", () => {
  const x = new PfnIndex(4);
  const pfns: number[] = [];
  for (let i = 0; i < 5000; i++) pfns.push(i % 2 ? i * 256 : 2 ** 39 + i * 7);
  pfns.forEach((p, i) => assert.equal(x.add(p), i));
  assert.equal(x.size, 5000);
  pfns.forEach((p, i) => {
    assert.equal(x.get(p), i);
    assert.equal(x.pfnAt(i), p);
    assert.equal(x.add(p), i, "adding again finds the slot");
  });
  assert.equal(x.get(3), -1);
  assert.equal(x.get(2 ** 39 + 1), -1);
});

Deno.test("LineArena: lines are handed out zeroed, freed ones reused", () => {
  const a = new LineArena();
  const l0 = a.alloc(), l1 = a.alloc();
  a.chunk(l0).fill(7, a.offset(l0), a.offset(l0) + 64);
  a.release(l0);
  assert.equal(a.used, 1);
  const again = a.alloc();
  assert.equal(again, l0);
  assert.ok(a.chunk(again).subarray(a.offset(again), a.offset(again) + 64).every((v) => v === 0));
  assert.notEqual(l1, l0);
  for (let i = 0; i < 600; i++) a.alloc(); // across chunks
  assert.equal(a.used, 602);
});

Deno.test("LineStore: a page's second line moves it to a block; dropping lines keeps the rest", () => {
  const s = new LineStore();
  s.write32(0x5000 + 0x300, 3); // line 3
  assert.equal(s.pageMask(5), 1 << 3);
  s.write32(0x5000 + 0xa00, 10); // line 10: the page now has two
  s.write32(0x5000 + 0x304, 4);
  assert.equal(s.pageMask(5), (1 << 3) | (1 << 10));
  assert.deepEqual([s.read32(0x5300), s.read32(0x5304), s.read32(0x5a00)], [3, 4, 10]);
  s.zero(0x5300, 256); // drop line 3
  assert.equal(s.pageMask(5), 1 << 10);
  assert.equal(s.read32(0x5300), 0);
  assert.equal(s.read32(0x5a00), 10);
  s.zero(0x5000, 4096);
  assert.equal(s.pageMask(5), 0);
  s.write32(0x5000, 1); // single-line form again, on a reused line
  assert.deepEqual([s.read32(0x5000), s.read32(0x5004), s.read32(0x5a00)], [1, 0, 0]);
});

/** Operations on the store and on a model of dwords by address. */
type Op =
  | { op: "write"; addr: number; n: number; v: number }
  | { op: "zero"; addr: number; len: number }
  | { op: "copy"; dst: number; src: number; pages: number }
  | { op: "snapshot" };

const PAGES = 6; // a small window, so operations meet
const addrArb = fc.nat(PAGES * 1024 - 1).map((d) => d * 4);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("write" as const),
      addr: addrArb,
      n: fc.integer({ min: 1, max: 80 }),
      v: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("zero" as const),
      addr: addrArb,
      len: fc.nat(700).map((l) => l * 4),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("copy" as const),
      dst: fc.nat(PAGES - 2),
      src: fc.nat(PAGES - 2),
      pages: fc.constant(1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: "snapshot" as const }) },
);

Deno.test("LineStore: reads, non-blank pages and the snapshot agree with a plain model", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const s = new LineStore();
      let now = new Map<number, number>();
      let orig: Map<number, number> | undefined;
      const limit = PAGES * 4096;
      for (const o of ops) {
        if (o.op === "write") {
          const n = Math.min(o.n, (limit - o.addr) / 4);
          const src = Array.from({ length: n }, (_, i) => (o.v + i) >>> 0);
          s.write(o.addr, src, 0, n);
          src.forEach((v, i) => now.set(o.addr + 4 * i, v));
        } else if (o.op === "zero") {
          const len = Math.min(o.len, limit - o.addr);
          s.zero(o.addr, len);
          for (let a = o.addr; a < o.addr + len; a += 4) now.delete(a);
        } else if (o.op === "copy") {
          s.copyLines(o.dst * 4096, o.src * 4096, 4096);
          const next = new Map(now);
          for (let a = 0; a < 4096; a += 4) {
            const v = now.get(o.src * 4096 + a);
            if (v) next.set(o.dst * 4096 + a, v);
            else next.delete(o.dst * 4096 + a);
          }
          now = next;
        } else {
          s.beginSnapshot();
          orig = new Map(now);
        }
      }
      const page = new Uint32Array(1024);
      const nonBlank: number[] = [];
      for (let pfn = 0; pfn < PAGES; pfn++) {
        s.read(pfn * 4096, 1024, page, 0);
        for (let i = 0; i < 1024; i++) assert.equal(page[i], now.get(pfn * 4096 + i * 4) ?? 0);
        if (page.some((v) => v !== 0)) nonBlank.push(pfn);
        const was = new Uint32Array(1024).map((_, i) => (orig ?? now).get(pfn * 4096 + i * 4) ?? 0);
        assert.equal(s.originalPageEquals(pfn, was), true, `page ${pfn} as at the snapshot`);
        assert.equal(s.originalPageIsBlank(pfn), was.every((v) => v === 0));
      }
      assert.deepEqual(s.nonBlankPages(), nonBlank);
    }),
    { seed: SEED, numRuns: 200 },
  );
});
