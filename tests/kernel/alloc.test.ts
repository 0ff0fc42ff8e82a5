/**
 * The page allocator (runtime/kernel/alloc.ts): zones, natural alignment, top-down order,
 * confinement to the kernel's own memory, owner tags and failure counting.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { ownerText, PAGE_SIZE, PhysMem } from "../../runtime/hw/memory.ts";
import { DMA32_LIMIT, getOrder, GFP, gfpText, PageAllocator } from "../../runtime/kernel/alloc.ts";

const LOW = { base: 0x1000_0000, size: 0x0100_0000 }; // 16 MiB at 256 MiB
const HIGH = { base: 0x1_0000_0000, size: 0x0100_0000 }; // 16 MiB at 4 GiB

function mem(): PhysMem {
  return new PhysMem([
    { base: 0, size: 0xc000_0000, kind: "ram", name: "System RAM" },
    { base: 0x1_0000_0000, size: 0x1_0000_0000, kind: "ram", name: "System RAM" },
  ]);
}

Deno.test("alloc: GFP_DMA32 stays below 4 GiB, GFP_KERNEL takes ZONE_NORMAL first, both top-down", () => {
  const a = new PageAllocator(mem(), "kernel1", [LOW, HIGH]);
  assert.deepEqual(a.freeBytes(), { DMA32: 0x0100_0000, Normal: 0x0100_0000 });
  // The top page of each zone, then the one below it.
  assert.equal(a.allocPages(GFP.DMA32, 0, "x"), 0x10ff_f000);
  assert.equal(a.allocPages(GFP.DMA32, 0, "x"), 0x10ff_e000);
  assert.equal(a.allocPages(GFP.KERNEL, 0, "x"), 0x1_00ff_f000);
  assert.equal(a.allocPages(GFP.KERNEL, 0, "x"), 0x1_00ff_e000);
  assert.equal(PageAllocator.zoneOf(0x10ff_f000), "DMA32");
  assert.equal(PageAllocator.zoneOf(DMA32_LIMIT), "Normal");
  assert.equal(a.allocatedPages, 4);
  assert.deepEqual(a.freeBytes(), { DMA32: 0x0100_0000 - 0x2000, Normal: 0x0100_0000 - 0x2000 });
});

Deno.test("alloc: GFP_KERNEL falls back to ZONE_DMA32 once ZONE_NORMAL is exhausted; DMA32 never goes high", () => {
  const a = new PageAllocator(mem(), "kernel1", [LOW, HIGH]);
  // 16 MiB = order 12: the whole Normal zone in one block.
  assert.equal(a.allocPages(GFP.KERNEL, 12, "big"), 0x1_0000_0000);
  assert.equal(a.freeBytes().Normal, 0);
  assert.equal(a.allocPages(GFP.KERNEL, 0, "x"), 0x10ff_f000, "fell back to DMA32");
  // A kernel with only high memory has no ZONE_DMA32: a DMA32 request fails.
  const b = new PageAllocator(mem(), "kernel1", [HIGH]);
  assert.equal(b.allocPages(GFP.DMA32, 0, "x"), undefined, "no DMA32 memory: no high page either");
  assert.equal(b.failures, 1);
  assert.equal(b.allocatedPages, 0);
});

Deno.test("alloc: blocks are naturally aligned; a range without an aligned block fails and counts", () => {
  // 36 KiB at 0x10001000: the only 16 KiB-aligned block inside is 0x10004000..0x10008000.
  const a = new PageAllocator(mem(), "kernel1", [{ base: 0x1000_1000, size: 0x9000 }]);
  assert.equal(a.allocPages(GFP.KERNEL, 3, "x"), undefined, "no 32 KiB-aligned block fits");
  assert.equal(a.failures, 1);
  assert.equal(a.allocPages(GFP.KERNEL, 2, "x"), 0x1000_4000);
  assert.equal(a.allocPages(GFP.KERNEL, 2, "x"), undefined);
  assert.equal(a.failures, 2);
  // What is left are single pages: 0x10009000 (top) first, down to 0x10001000.
  const got: number[] = [];
  for (let i = 0; i < 6; i++) got.push(a.allocPages(GFP.KERNEL, 0, "x")!);
  assert.deepEqual(got, [
    0x1000_9000,
    0x1000_8000,
    0x1000_3000,
    0x1000_2000,
    0x1000_1000,
    undefined,
  ]);
  assert.equal(a.failures, 3);
  // Unaligned range edges are trimmed to whole pages.
  const c = new PageAllocator(mem(), "kernel1", [{ base: 0x2000_0800, size: 0x2000 }]);
  assert.deepEqual(c.freeBytes(), { DMA32: 0x1000, Normal: 0 });
  assert.equal(c.allocPages(GFP.KERNEL, 0, "x"), 0x2000_1000);
});

Deno.test("alloc: owner tags are set on allocation and reset on free (kernel1 → free, crash kernel → crashkernel)", () => {
  const m = mem();
  const a = new PageAllocator(m, "kernel1", [LOW]);
  const p = a.allocPages(GFP.KERNEL, 1, "rx-buffer", 0x0100)!;
  assert.equal(p, 0x10ff_e000);
  for (const at of [p, p + PAGE_SIZE]) {
    assert.equal(ownerText(m.ownerOf(at)), "kernel1:rx-buffer@01:00.0");
  }
  assert.equal(ownerText(m.ownerOf(p - PAGE_SIZE)), "free", "the page below is untouched");
  a.freePages(p);
  assert.equal(ownerText(m.ownerOf(p)), "free:free");
  assert.equal(ownerText(m.ownerOf(p + PAGE_SIZE)), "free:free");
  assert.equal(a.allocatedPages, 0);
  assert.throws(() => a.freePages(p), /was not allocated/);

  const k2 = new PageAllocator(m, "kernel2", [{ base: 0x2800_0000, size: 0x10_0000 }]);
  const q = k2.allocPages(GFP.KERNEL, 0, "iommu-page-table")!;
  assert.equal(ownerText(m.ownerOf(q)), "kernel2:iommu-page-table");
  k2.freePages(q);
  assert.equal(ownerText(m.ownerOf(q)), "crashkernel:free");
});

Deno.test("alloc: __GFP_ZERO zeroes the block; without it old contents stay", () => {
  const m = mem();
  const a = new PageAllocator(m, "kernel1", [{ base: 0x1000_0000, size: 0x1000 }]);
  const p = a.allocPages(GFP.KERNEL, 0, "x")!;
  m.write32(p + 0x40, 0xdead_beef);
  a.freePages(p);
  assert.equal(a.allocPages(GFP.KERNEL, 0, "x"), p);
  assert.equal(m.read32(p + 0x40), 0xdead_beef);
  a.freePages(p);
  assert.equal(a.allocPages(GFP.KERNEL | GFP.ZERO, 0, "x"), p);
  assert.equal(m.read32(p + 0x40), 0);
});

Deno.test("alloc: freed blocks coalesce, so a big block fits again after its pieces are freed", () => {
  const a = new PageAllocator(mem(), "kernel1", [{ base: 0x1000_0000, size: 0x4000 }]);
  const pages = [0, 1, 2, 3].map(() => a.allocPages(GFP.KERNEL, 0, "x")!);
  assert.deepEqual(pages, [0x1000_3000, 0x1000_2000, 0x1000_1000, 0x1000_0000]);
  assert.equal(a.allocPages(GFP.KERNEL, 2, "x"), undefined);
  for (const p of [pages[2], pages[0], pages[3], pages[1]]) a.freePages(p);
  assert.equal(a.allocPages(GFP.KERNEL, 2, "x"), 0x1000_0000);
});

Deno.test("alloc: getOrder and gfpText", () => {
  assert.equal(getOrder(1), 0);
  assert.equal(getOrder(4096), 0);
  assert.equal(getOrder(4097), 1);
  assert.equal(getOrder(0x300 * 32), 3); // a device table for DeviceIDs 0..0x2ff: 32 KiB
  assert.equal(getOrder(0x10000 * 32), 9); // 2 MiB
  assert.equal(gfpText(GFP.KERNEL | GFP.ZERO), "GFP_KERNEL|__GFP_ZERO");
  assert.equal(gfpText(GFP.KERNEL | GFP.ZERO | GFP.DMA32), "GFP_KERNEL|__GFP_ZERO|GFP_DMA32");
  assert.equal(gfpText(0), "0");
});

Deno.test("alloc (property): random alloc/free sequences stay inside the kernel's ranges, aligned, disjoint, zone-correct", () => {
  const ranges = [
    { base: 0x1000_3000, size: 0x0004_5000 },
    { base: 0x3000_0000, size: 0x0002_0000 },
    { base: 0x1_0000_8000, size: 0x0003_0000 },
  ];
  const inRanges = (a: number, size: number) =>
    ranges.some((r) => a >= r.base && a + size <= r.base + r.size);
  const op = fc.oneof(
    fc.record({
      kind: fc.constant("alloc" as const),
      order: fc.integer({ min: 0, max: 5 }),
      dma32: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
      const m = mem();
      const a = new PageAllocator(m, "kernel1", ranges);
      const total = a.freeBytes();
      const live = new Map<number, number>();
      let failures = 0;
      for (const o of ops) {
        if (o.kind === "alloc") {
          const size = PAGE_SIZE * 2 ** o.order;
          const p = a.allocPages(o.dma32 ? GFP.DMA32 : GFP.KERNEL, o.order, "p");
          if (p === undefined) {
            failures++;
            continue;
          }
          assert.ok(inRanges(p, size), `0x${p.toString(16)} outside the kernel's memory`);
          assert.equal(p % size, 0, "naturally aligned");
          if (o.dma32) assert.ok(p + size <= DMA32_LIMIT);
          for (const [q, s] of live) assert.ok(p + size <= q || q + s <= p, "overlap");
          assert.equal(ownerText(m.ownerOf(p)), "kernel1:p");
          live.set(p, size);
        } else if (live.size) {
          const keys = [...live.keys()];
          const p = keys[o.pick % keys.length];
          a.freePages(p);
          live.delete(p);
          assert.equal(ownerText(m.ownerOf(p)), "free:free");
        }
      }
      assert.equal(a.failures, failures);
      assert.equal(a.allocatedPages, [...live.values()].reduce((s, x) => s + x / PAGE_SIZE, 0));
      for (const p of [...live.keys()]) a.freePages(p);
      assert.deepEqual(a.freeBytes(), total, "everything freed: the zones are whole again");
    }),
    { seed: 4130, numRuns: 200 },
  );
});
