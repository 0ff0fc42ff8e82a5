/**
 * runtime/lab/verify.ts on a hand-made machine state: a dump read back from the disk's media
 * and compared page by page with memory at the panic (the copy-on-write snapshot).
 */
import assert from "node:assert/strict";
import { PAGE_SIZE, PhysMem } from "../../runtime/hw/memory.ts";
import { type Disk, DiskMedia } from "../../runtime/hw/pci/disk.ts";
import { VMCORE_MAGIC } from "../../runtime/kernel/vmcore.ts";
import type { PostPanicWrites } from "../../runtime/lab/recorder.ts";
import { verifyDump } from "../../runtime/lab/verify.ts";

/** Memory with pfns 5 and 6 written before the panic; the snapshot taken at the panic. */
function atPanic(): PhysMem {
  const mem = new PhysMem([{ base: 0, size: 1 << 20, kind: "ram", name: "System RAM" }]);
  for (const pfn of [5, 6]) {
    mem.setOwner(pfn * PAGE_SIZE, PAGE_SIZE, { who: "kernel1", what: "slab" });
    mem.write32(pfn * PAGE_SIZE, 0x1000 + pfn);
  }
  mem.beginSnapshot();
  return mem;
}

/** A disk whose media holds a dump of `pages` (pfn → first dword of the page). */
function dumpOf(pages: [number, number][]): Disk {
  const media = new DiskMedia();
  media.set(0, Uint32Array.of(VMCORE_MAGIC, 1, pages.length, 2));
  media.set(1, Uint32Array.from(pages.flatMap(([pfn]) => [pfn, 0])));
  pages.forEach(([, first], i) => media.set(2 + i, Uint32Array.of(first)));
  return { media } as unknown as Disk;
}

Deno.test("verifyDump: a page overwritten after the panic by a stray DMA names its writers by BDF", () => {
  const mem = atPanic();
  mem.write32(5 * PAGE_SIZE, 0xdead);
  const afterPanic = new Map<number, PostPanicWrites>([
    [5, { legit: false, writers: new Set([0x300, 0x10]) }],
  ]);
  const check = verifyDump(mem, dumpOf([[5, 0xdead], [6, 0x1006]]), [5, 6], afterPanic);
  assert.equal(check.readable, true);
  assert.equal(check.pages, 2);
  assert.equal(check.badPages, 1);
  assert.deepEqual(check.examples, [{
    pfn: "0x5",
    owner: "kernel1:slab",
    why: "overwritten after the panic by DMA from 03:00.0, 00:02.0",
  }]);
});

Deno.test("verifyDump: a buffer its own device kept writing is volatile; a page left out is bad", () => {
  const mem = atPanic();
  mem.write32(5 * PAGE_SIZE, 0xbeef);
  const afterPanic = new Map<number, PostPanicWrites>([
    [5, { legit: true, writers: new Set([0x300]) }],
  ]);
  const check = verifyDump(mem, dumpOf([[5, 0xbeef]]), [5, 6], afterPanic);
  assert.equal(check.volatilePages, 1);
  assert.equal(check.badPages, 1);
  assert.deepEqual(check.examples.map((e) => [e.pfn, e.why]), [
    ["0x6", "page of the first kernel missing from the dump"],
  ]);
});
