/**
 * The IOVA allocator (runtime/kernel/iova.ts): top-down below the limit, next-fit from the
 * cached node (which moves back up when something above it is freed), reserved ranges,
 * size alignment, and the range cache that recycles freed sizes of up to 32 pages LIFO.
 *
 * The domains here reserve what a DMA domain of the kit's machine reserves: the PCI window
 * 0xc0000..0xfebff, the MSI window 0xfee00..0xfeeff and the HyperTransport range (pfns).
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { IovaDomain, roundupPow2 } from "../../runtime/kernel/iova.ts";

const PFN32 = 0xfffff;
const RESERVED: [number, number][] = [
  [0xc0000, 0xfebff],
  [0xfee00, 0xfeeff],
  [0xfd_0000_0, 0xff_ffff_f],
];

function domain(): IovaDomain {
  const d = new IovaDomain(1, PFN32);
  for (const [lo, hi] of RESERVED) d.reserve(lo, hi);
  return d;
}

Deno.test("iova: top-down below the 32-bit limit; another limit searches from that limit and leaves the cached node alone", () => {
  const d = domain();
  assert.equal(d.alloc(1, PFN32, true), 0xfffff);
  assert.equal(d.alloc(1, PFN32, true), 0xffffe);
  assert.equal(d.alloc(4, PFN32, true), 0xffff8, "4 pages, 4-aligned, right below");
  // A lower limit (a 31-bit mask): top-down from there, not from the cached node.
  assert.equal(d.alloc(1, 0x7ffff, true), 0x7ffff);
  // The 32-bit search goes on from where it stopped.
  assert.equal(d.alloc(1, PFN32, true), 0xffff7);
  assert.deepEqual(d.allocated(), [
    { lo: 0x7ffff, hi: 0x7ffff },
    { lo: 0xffff7, hi: 0xffff7 },
    { lo: 0xffff8, hi: 0xffffb },
    { lo: 0xffffe, hi: 0xffffe },
    { lo: 0xfffff, hi: 0xfffff },
  ]);
});

Deno.test("iova: next-fit from the cached node skips a gap above it until a free above moves the cache back up", () => {
  const d = domain();
  assert.equal(d.alloc(1, PFN32, true), 0xfffff);
  // 64 pages, 64-aligned: 0xfff80..0xfffbf, leaving 0xfffc0..0xffffe free above it.
  assert.equal(d.alloc(64, PFN32, true), 0xfff80);
  // Next-fit: the search starts at the cached node (0xfff80), not at the top.
  assert.equal(d.alloc(1, PFN32, true), 0xfff7f);
  assert.equal(d.alloc(1, PFN32, true), 0xfff7e);
  // Freeing the 64-page range (too big for the range cache: back to the tree) moves the
  // cached node up to the node above it, so the gap is found.
  d.free(0xfff80, 64);
  assert.equal(d.alloc(1, PFN32, true), 0xffffe);
  assert.equal(d.alloc(2, PFN32, true), 0xffffc, "searching on from 0xffffe");
  // Freed below the cached node: the cache stays; the next search continues downwards.
  assert.equal(d.alloc(64, PFN32, true), 0xfff80, "0xfff80..0xffffb: 64-aligned fits again");
  assert.equal(d.alloc(64, PFN32, true), 0xfff00);
  d.free(0xfff80, 64); // above the cached node (0xfff00): the cache moves up to 0xffffc
  assert.equal(d.alloc(1, PFN32, true), 0xffffb);
});

Deno.test("iova: reserved ranges are never handed out; allocations go around the MSI window and the PCI window", () => {
  const d = domain();
  const got: number[] = [];
  for (let i = 0; i < 20; i++) got.push(d.alloc(256, PFN32, true));
  // 17 blocks fill 0xfef00..0xfffff (above the MSI window), two fit between the PCI window
  // and the MSI window (0xfec00..0xfedff), the next one is below the PCI window.
  assert.deepEqual(got.slice(0, 3), [0xfff00, 0xffe00, 0xffd00]);
  assert.equal(got[16], 0xfef00);
  assert.deepEqual(got.slice(17), [0xfed00, 0xfec00, 0xbff00]);
  // A request that fits nowhere below the limit fails with 0.
  const small = new IovaDomain(1, 0xf);
  assert.equal(small.alloc(8, 0xf, true), 8);
  assert.equal(small.alloc(8, 0xf, true), 0, "pfn 0 is not allocatable (start pfn 1)");
  assert.equal(small.alloc(4, 0xf, true), 4);
  assert.equal(small.alloc(4, 0xf, true), 0);
});

Deno.test("iova: size-aligned requests are aligned to their size, others are not", () => {
  const d = domain();
  assert.equal(d.alloc(1, PFN32, true), 0xfffff);
  assert.equal(d.alloc(1, PFN32, true), 0xffffe);
  assert.equal(d.alloc(8, PFN32, false), 0xffff6, "unaligned: right below");
  assert.equal(d.alloc(8, PFN32, true), 0xfffe8, "aligned: down to a multiple of 8");
  assert.equal(d.alloc(32, PFN32, true), 0xfffc0);
  assert.deepEqual([1, 2, 3, 5, 8, 9, 33].map(roundupPow2), [1, 2, 4, 8, 8, 16, 64]);
});

Deno.test("iova: the range cache hands freed sizes ≤ 32 pages back LIFO; bigger sizes go back to the tree", () => {
  const d = domain();
  const [a, b, c] = [0, 1, 2].map(() => d.allocFast(1, PFN32, true));
  assert.deepEqual([a, b, c], [0xfffff, 0xffffe, 0xffffd]);
  d.free(a, 1);
  d.free(c, 1);
  // Cached IOVAs stay allocated in the tree while the cache holds them.
  assert.equal(d.allocated().length, 3);
  assert.equal(d.allocFast(2, PFN32, true), 0xffffa, "another size does not take them");
  assert.equal(d.allocFast(1, PFN32, true), c, "last freed, first reused");
  assert.equal(d.allocFast(1, PFN32, true), a);
  assert.equal(d.allocFast(1, PFN32, true), 0xffff9, "cache empty: from the tree");
  // 32 pages: cached.
  const x = d.allocFast(32, PFN32, true);
  assert.equal(x, 0xfffc0);
  d.free(x, 32);
  assert.equal(d.allocFast(32, PFN32, true), x);
  // 64 pages: not cached, the range leaves the tree.
  const y = d.allocFast(64, PFN32, true);
  assert.equal(y, 0xfff80);
  const before = d.allocated().length;
  d.free(y, 64);
  assert.equal(d.allocated().length, before - 1);
  // A cached IOVA above the caller's limit is not handed out.
  const z = d.allocFast(1, PFN32, true);
  d.free(z, 1);
  assert.equal(d.allocFast(1, 0x7ffff, true), 0x7ffff);
  assert.equal(d.allocFast(1, PFN32, true), z);
  // Freeing a range the tree does not hold is a bug.
  assert.throws(() => d.free(0x12345, 64), /not allocated/);
});

Deno.test("iova (property): allocations stay in [1, limit], are aligned when asked, never overlap each other or a reserved range", () => {
  const op = fc.record({
    pages: fc.constantFrom(1, 2, 4, 8, 16, 32, 64, 128),
    limit: fc.constantFrom(PFN32, 0x7ffff, 0xfffff_f),
    aligned: fc.boolean(),
    fast: fc.boolean(),
    free: fc.nat(),
    doFree: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
      const d = domain();
      const live: [number, number][] = [];
      for (const o of ops) {
        if (o.doFree && live.length) {
          const [pfn, n] = live.splice(o.free % live.length, 1)[0];
          d.free(pfn, n);
          continue;
        }
        const pfn = o.fast
          ? d.allocFast(o.pages, o.limit, o.aligned)
          : d.alloc(o.pages, o.limit, o.aligned);
        assert.ok(pfn >= 1, "this much space is always there");
        const hi = pfn + o.pages - 1;
        assert.ok(hi <= o.limit, `0x${hi.toString(16)} above limit 0x${o.limit.toString(16)}`);
        // The range cache hands back what was freed at that size, aligned as it was first.
        if (o.aligned && !o.fast) assert.equal(pfn % o.pages, 0);
        for (const [lo, rhi] of RESERVED) assert.ok(hi < lo || pfn > rhi, "reserved range");
        for (const [q, n] of live) assert.ok(hi < q || pfn > q + n - 1, "overlap");
        live.push([pfn, o.pages]);
      }
    }),
    { seed: 4131, numRuns: 200 },
  );
});
