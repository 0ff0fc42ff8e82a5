/**
 * Physical memory (runtime/hw/memory.ts): sparse RAM, holes, MMIO windows, owner tags,
 * copy-on-write snapshots.
 */
import assert from "node:assert/strict";
import { bdfText, ownerText, PhysMem } from "../../runtime/hw/memory.ts";

const GiB = 2 ** 30;

/** RAM 0..3 GiB, hole 3..4 GiB, RAM 4..8 GiB, an ACPI (reserved) page at 1 MiB. */
function mem(): PhysMem {
  return new PhysMem([
    { base: 0, size: 3 * GiB, kind: "ram", name: "System RAM" },
    { base: 3 * GiB, size: GiB, kind: "hole", name: "PCI MMIO hole" },
    { base: 4 * GiB, size: 4 * GiB, kind: "ram", name: "System RAM" },
    { base: 0x10_0000, size: 0x1000, kind: "reserved", name: "ACPI Tables" },
  ]);
}

/** Page `pfn` as it reads now (1024 dwords). */
function pageNow(m: PhysMem, pfn: number): Uint32Array {
  const w = new Uint32Array(1024);
  m.readDwords(pfn * 4096, 1024, w);
  return w;
}

Deno.test("memory: never-written RAM reads zero, and costs no storage", () => {
  const m = mem();
  assert.equal(m.read32(0x1234_5678 & ~3), 0);
  assert.equal(m.read32(5 * GiB), 0);
  const out = new Uint32Array(70).fill(7);
  m.readDwords(0x2000_0000 - 8, 70, out); // crosses storage lines
  assert.deepEqual([...out], new Array(70).fill(0));
  assert.deepEqual(m.nonBlankPages(), []);
  assert.equal(m.pageIsBlank(0x2000_0000), true);
});

Deno.test("memory: writes land where they are addressed, above and below 4 GiB", () => {
  const m = mem();
  m.write32(0x1000, 0xdead_beef);
  m.write32(4 * GiB + 0x1_0000, 0x1234_5678);
  assert.equal(m.read32(0x1000), 0xdead_beef);
  assert.equal(m.read32(0x1004), 0);
  assert.equal(m.read32(4 * GiB + 0x1_0000), 0x1234_5678);
  assert.equal(m.read32(0x1_0000), 0, "no aliasing of the high address onto low memory");
  assert.deepEqual(m.nonBlankPages(), [1, (4 * GiB + 0x1_0000) / 4096]);
  assert.throws(() => m.read32(0x1002), /unaligned/);
  assert.throws(() => m.write32(0x1001, 0), /unaligned/);
});

Deno.test("memory: a hole reads all ones, drops writes, and aborts DMA", () => {
  const m = mem();
  const hole = 3 * GiB + 0x1000;
  m.write32(hole, 0);
  assert.equal(m.read32(hole), 0xffff_ffff);
  m.writeDwords(hole, [1, 2, 3]);
  const out = new Uint32Array(3);
  m.readDwords(hole, 3, out);
  assert.deepEqual([...out], [0xffff_ffff, 0xffff_ffff, 0xffff_ffff]);
  assert.deepEqual(m.nonBlankPages(), [], "dropped writes land nowhere");
  assert.equal(m.regionAt(hole).name, "PCI MMIO hole");
  assert.equal(m.dmaTarget(hole, 4), "abort");
  assert.equal(m.dmaTarget(3 * GiB - 4, 8), "abort", "a DMA running off the end of RAM aborts");
  assert.equal(m.dmaTarget(3 * GiB - 4, 4), "ram");
  assert.equal(m.dmaTarget(2 ** 52, 4), "abort", "beyond the address space");
  assert.equal(m.regionAt(2 ** 51).kind, "hole", "unmapped space is a hole");
  assert.equal(m.read32(2 ** 51), 0xffff_ffff);
});

Deno.test("memory: writeDwords writes n dwords of src from srcOff, across lines and past a hole's edge", () => {
  const m = mem();
  const src = Uint32Array.from({ length: 100 }, (_, i) => i + 1);
  m.writeDwords(0x2000 - 16, src, 10, 70); // 4 dwords in one line, 66 past it
  const out = new Uint32Array(72);
  m.readDwords(0x2000 - 20, 72, out);
  assert.deepEqual([...out], [0, ...src.subarray(10, 80), 0], "src[10..80) only, nothing beside");
  m.writeDwords(0x3000, src, 98); // n defaults to the rest of src
  assert.deepEqual([m.read32(0x3000), m.read32(0x3004), m.read32(0x3008)], [99, 100, 0]);
  const edge = 3 * GiB - 8; // 2 dwords of RAM, then the hole
  m.writeDwords(edge, src, 5, 4);
  assert.deepEqual([m.read32(edge), m.read32(edge + 4)], [6, 7]);
  assert.equal(m.read32(edge + 8), 0xffff_ffff, "the rest fell in the hole");
});

Deno.test("memory: MMIO windows route CPU accesses to their handler and abort DMA", () => {
  const m = mem();
  const seen: string[] = [];
  const base = 3 * GiB + 0x80_0000;
  m.mapMmio(base, 0x4000, "dev", {
    read32: (off) => 0xab00 + off,
    write32: (off, v) => seen.push(`${off.toString(16)}=${v.toString(16)}`),
  });
  assert.equal(m.read32(base + 0x10), 0xab10);
  m.write64(base + 0x18, 0x1111, 0x2222);
  assert.deepEqual(seen, ["18=1111", "1c=2222"], "a 64-bit write is two 32-bit writes, low first");
  assert.equal(m.dmaTarget(base, 4), "abort");
  assert.equal(m.isRam(base), false);
  // table-read fast paths never reach MMIO
  const out = new Uint32Array(2);
  m.readDwords(base, 2, out);
  assert.deepEqual([...out], [0xffff_ffff, 0xffff_ffff]);
});

Deno.test("memory: 64-bit values are two halves, low half first", () => {
  const m = mem();
  m.write64(0x8000, 0x89ab_cdef, 0x0123_4567);
  assert.deepEqual(m.read64(0x8000), [0x89ab_cdef, 0x0123_4567]);
  assert.equal(m.read32(0x8000), 0x89ab_cdef);
  assert.equal(m.read32(0x8004), 0x0123_4567);
  // a half-updated qword is observable between the two writes
  m.write32(0x8000, 0);
  assert.deepEqual(m.read64(0x8000), [0, 0x0123_4567]);
});

Deno.test("memory: write64 and ramQword in RAM take one lookup; elsewhere they are 32-bit accesses", () => {
  const m = mem();
  // In RAM (8-aligned): one qword, as two 32-bit writes would leave it.
  m.write64(5 * GiB + 0x18, 0x89ab_cdef, 0x0123_4567);
  assert.deepEqual(m.read64(5 * GiB + 0x18), [0x89ab_cdef, 0x0123_4567]);
  const out = Uint32Array.of(7, 7);
  assert.equal(m.ramQword(5 * GiB + 0x18, out), true);
  assert.deepEqual([...out], [0x89ab_cdef, 0x0123_4567]);
  assert.equal(m.ramQword(5 * GiB + 0x1000, out), true, "never written: zeros");
  assert.deepEqual([...out], [0, 0]);
  // Not 8-aligned: two 32-bit writes all the same.
  m.write64(0x2004, 1, 2);
  assert.deepEqual(m.read64(0x2004), [1, 2]);
  // A hole, MMIO: ramQword reads nothing and says so; the caller reads 32-bit.
  out.fill(7);
  assert.equal(m.ramQword(3 * GiB, out), false);
  assert.equal(m.ramQword(0x2004, out), false, "unaligned");
  assert.deepEqual([...out], [7, 7]);
  // A snapshot keeps the line before a write64 changes it.
  m.beginSnapshot();
  m.write64(5 * GiB + 0x18, 0, 0);
  const page = new Uint32Array(1024);
  page[6] = 0x89ab_cdef;
  page[7] = 0x0123_4567;
  assert.equal(m.originalPageEquals(5 * GiB / 4096, page), true);
  assert.equal(
    m.originalPageEquals(
      5 * GiB / 4096,
      Uint32Array.of(9, 9, 9, 0, 0, 0, 0, 0, 0, 0x89ab_cdef, 0x0123_4567),
      3,
      8,
    ),
    true,
    "a span of the array",
  );
});

Deno.test("memory: disposed memory gives its storage back; using it afterwards throws", () => {
  const m = mem();
  m.write32(0x1000, 5);
  m.dispose();
  assert.throws(() => m.read32(0x1000), /disposed/);
  assert.throws(() => m.write32(0x1000, 1), /disposed/);
  m.dispose(); // twice: nothing more to give back
  const fresh = mem();
  assert.equal(fresh.read32(0x1000), 0, "a new memory does not see the old contents");
});

Deno.test("memory: owner tags, small and large ranges, later tags win", () => {
  const m = mem();
  assert.deepEqual(m.ownerOf(0x10_0000), { who: "firmware", what: "ACPI Tables" });
  assert.deepEqual(m.ownerOf(0x20_0000), { who: "free" });
  m.setOwner(0, GiB, { who: "kernel1" }); // large range
  m.setOwner(0x100_0000, 0x2000, { who: "kernel1", what: "dev-table" }); // small, inside it
  assert.equal(ownerText(m.ownerOf(0x100_1fff)), "kernel1:dev-table");
  assert.equal(ownerText(m.ownerOf(0x100_2000)), "kernel1");
  assert.equal(ownerText(m.ownerOf(0x10_0000)), "kernel1", "the large range overrides firmware");
  // a later large range over the small one wins there
  m.setOwner(0x100_0000, 0x100_0000, { who: "crashkernel" });
  assert.equal(ownerText(m.ownerOf(0x100_0000)), "crashkernel");
  assert.equal(ownerText(m.ownerOf(0x1ff_ffff)), "crashkernel");
  assert.equal(ownerText(m.ownerOf(0x200_0000)), "kernel1");
  // and a later small range inside that wins again
  m.setOwner(0x180_0000, 1, { who: "kernel2", what: "rx-buffer", dev: 0x0100 });
  assert.equal(ownerText(m.ownerOf(0x180_0fff)), "kernel2:rx-buffer@01:00.0");
  assert.equal(ownerText(m.ownerOf(0x180_1000)), "crashkernel");
  assert.equal(ownerText(m.ownerOf(2 * GiB)), "free", "past every range");
});

Deno.test("memory: bdfText formats bus:device.function", () => {
  assert.equal(bdfText(0x0100), "01:00.0");
  assert.equal(bdfText(0x00a3), "00:14.3");
  assert.equal(bdfText(0xffff), "ff:1f.7");
});

Deno.test("memory: zero() clears a range, whole storage lines and partial ones", () => {
  const m = mem();
  for (let a = 0x4000; a < 0x6000; a += 4) m.write32(a, a);
  m.zero(0x4010, 0x1000); // partial line at both ends
  assert.equal(m.read32(0x400c), 0x400c);
  assert.equal(m.read32(0x4010), 0);
  assert.equal(m.read32(0x500c), 0);
  assert.equal(m.read32(0x5010), 0x5010);
  m.zero(0x5000, 0x1000);
  assert.equal(m.pageIsBlank(0x5000), true);
  assert.throws(() => m.zero(0x5001, 4), /unaligned/);
});

Deno.test("memory: copy() moves data, and copies never-written source as zeros", () => {
  const m = mem();
  m.writeDwords(0x1_0000, [1, 2, 3, 4]);
  m.writeDwords(0x3_0000, [9, 9, 9, 9]);
  m.writeDwords(0x3_0100, [8, 8]);
  m.copy(0x3_0000, 0x1_0000, 0x200);
  const out = new Uint32Array(4);
  m.readDwords(0x3_0000, 4, out);
  assert.deepEqual([...out], [1, 2, 3, 4]);
  assert.equal(m.read32(0x3_0100), 0, "blank source line copied as zeros over old data");
  m.copy(4 * GiB, 0x1_0000, 16);
  assert.equal(m.read32(4 * GiB + 12), 4);
});

Deno.test("memory: snapshot keeps the original of written pages (copy-on-write)", () => {
  const m = mem();
  m.write32(0x7000, 0x1111);
  m.write32(0x9000, 0x2222);
  const page7 = pageNow(m, 7);
  m.beginSnapshot();
  for (const pfn of [7, 9, 0xa]) {
    assert.equal(m.originalPageEquals(pfn, pageNow(m, pfn)), true, `page ${pfn}: no change yet`);
  }
  m.write32(0x7004, 0x3333); // modify a page with data
  m.write32(0x7008, 0x5555); // the line again: the snapshot keeps it as before the first write
  m.write32(0xa000, 0x4444); // write a blank page
  m.write32(0x9000, 0x2222); // rewrite the same value: no change
  m.zero(0xa000, 0x100); // ... and the blank page becomes blank again
  m.write32(0xa100, 5);
  assert.equal(m.originalPageEquals(7, pageNow(m, 7)), false, "page 7 changed");
  assert.equal(m.originalPageEquals(9, pageNow(m, 9)), true, "page 9 did not");
  assert.equal(m.originalPageEquals(0xa, pageNow(m, 0xa)), false, "page 0xa changed");
  // the original contents read back: 0x1111 at 0x7000, zeros after it (a short `data` counts
  // as zeros beyond its end)
  assert.equal(m.originalPageEquals(7, page7), true);
  assert.equal(m.originalPageEquals(7, Uint32Array.of(0x1111)), true);
  assert.equal(m.originalPageEquals(7, Uint32Array.of(0x1111, 0x3333)), false);
  assert.equal(m.read32(0x7004), 0x3333);
  assert.equal(m.originalPageIsBlank(0xa), true, "page 0xa was blank at the snapshot");
  assert.equal(m.originalPageEquals(0xa, Uint32Array.of(0x4444)), false);
  assert.equal(m.pageIsBlank(0xa000), false, "... and is not now");
  assert.equal(m.originalPageIsBlank(7), false);
});

Deno.test("memory: a page's blankness and snapshot equality depend on contents, not on how it was written", () => {
  const m = mem();
  m.write32(0x2_0000, 0); // a line of zeros is allocated but the page is still blank
  assert.equal(m.pageIsBlank(0x2_0000), true);
  m.beginSnapshot();
  m.write32(0x2_0040, 0);
  m.write32(0x2_1000, 0); // page 0x21: zeros written over a blank page
  for (const pfn of [0x20, 0x21]) {
    assert.equal(
      m.originalPageEquals(pfn, pageNow(m, pfn)),
      true,
      "writing zeros over zeros changes nothing",
    );
    assert.equal(m.originalPageIsBlank(pfn), true);
  }
  m.write32(0x2_0040, 1);
  assert.equal(m.pageIsBlank(0x2_0000), false);
  assert.equal(m.originalPageEquals(0x20, pageNow(m, 0x20)), false);
  assert.equal(m.originalPageEquals(0x21, pageNow(m, 0x21)), true);
  assert.equal(m.originalPageIsBlank(0x20), true, "blank at the snapshot, written after it");
});

Deno.test("memory: regions are validated; later regions win where they overlap", () => {
  assert.throws(() => new PhysMem([{ base: 0, size: 0, kind: "ram", name: "x" }]), /bad range/);
  assert.throws(
    () => new PhysMem([{ base: 2 ** 52 - 4096, size: 8192, kind: "ram", name: "x" }]),
    /bad range/,
  );
  const m = mem();
  assert.equal(m.regionAt(0x10_0800).kind, "reserved");
  assert.equal(m.isRam(0x10_0800, 4), true, "reserved RAM is RAM");
  assert.equal(m.memoryMap().length, 4);
});

Deno.test("memory: a sparse read fills what its extent covers and leaves the rest of `out` alone", () => {
  const m = mem();
  m.write32(0x5000 + 4 * 70, 7); // line 1 of the page
  const full = new Uint32Array(1024).fill(9), sparse = new Uint32Array(1024).fill(9);
  assert.equal(m.readDwords(0x5000, 1024, full), 128);
  assert.equal(m.readDwords(0x5000, 1024, sparse, 0, true), 128);
  assert.deepEqual(
    [...sparse.subarray(0, 128)],
    [...full.subarray(0, 128)],
    "the extent: as a full read",
  );
  assert.equal(full[200], 0);
  assert.equal(sparse[200], 9, "beyond the extent: untouched");
  assert.equal(sparse[3], 0, "a never-written line before the extent reads as zeros");
});

Deno.test("memory: orStrided ORs a bit into every record, as or32 on each would (RAM, and across a hole)", () => {
  for (const base of [0x7000, 3 * GiB - 0x100]) {
    const a = mem(), b = mem();
    for (let i = 0; i < 40; i++) a.write32(base + i * 32 + 4, i), b.write32(base + i * 32 + 4, i);
    a.beginSnapshot();
    b.beginSnapshot();
    a.orStrided(base, 32, 40, 1, 0x100);
    for (let i = 0; i < 40; i++) {
      const at = base + i * 32 + 4;
      if (b.isRam(at, 4)) b.write32(at, (b.read32(at) | 0x100) >>> 0);
    }
    const pa = new Uint32Array(40 * 8), pb = new Uint32Array(40 * 8);
    a.readDwords(base, pa.length, pa);
    b.readDwords(base, pb.length, pb);
    assert.deepEqual([...pa], [...pb]);
    const pfn = Math.floor(base / 4096);
    assert.equal(
      a.originalPageEquals(pfn, pageNow(b, pfn)),
      b.originalPageEquals(pfn, pageNow(b, pfn)),
    );
  }
});
