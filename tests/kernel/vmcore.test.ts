/**
 * The kdump capture (runtime/kernel/vmcore.ts): which pages makedumpfile -d 31 keeps, and
 * the dump's layout on the disk (header, pfn list, pages in order) written through the
 * crash kernel's NVMe driver and IOMMU.
 */
import assert from "node:assert/strict";
import { PAGE_SIZE } from "../../runtime/hw/memory.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import {
  dumpablePages,
  PFNS_PER_BLOCK,
  save_vmcore,
  VMCORE_MAGIC,
} from "../../runtime/kernel/vmcore.ts";
import type { NvmeDriver, WriteResult } from "../../runtime/kernel/drivers/nvme.ts";
import { KIT, makeKernel, makeMachine, nvmeOf, texts } from "./kit.ts";

const ELF = { ranges: [{ base: 0x1000_0000, size: 0x0100_0000 }] };
const KDUMP = "irqpoll reset_devices elfcorehdr=0x37ff0000";

Deno.test("vmcore: dumpablePages keeps written kernel1 pages in the ELF ranges, minus free/pagecache/user and blank pages", () => {
  const km = makeMachine();
  const { m } = km;
  const k2 = makeKernel(km, { id: "kernel2", cmdline: KDUMP, memory: [{ ...KIT.RESERVE }] });
  const page = (i: number) => 0x1000_0000 + i * PAGE_SIZE;
  const cases: [number, Parameters<typeof m.mem.setOwner>[2], number, boolean][] = [
    [page(0), { who: "kernel1", what: "slab" }, 1, true],
    [page(1), { who: "kernel1", what: "pagecache" }, 1, false],
    [page(2), { who: "kernel1", what: "user" }, 1, false],
    [page(3), { who: "kernel1", what: "user-page" }, 1, false],
    [page(4), { who: "kernel1", what: "free" }, 1, false],
    [page(5), { who: "free" }, 1, false],
    [page(6), { who: "kernel1", what: "slab" }, 0, false], // written, but all zeros
    [page(7), { who: "kernel1" }, 1, true],
    [page(8), { who: "crashkernel" }, 1, false],
    [page(9), { who: "kernel1", what: "rx-buffer", dev: KIT.NIC }, 1, true],
    [0x2000_0000, { who: "kernel1", what: "slab" }, 1, false], // outside the ELF ranges
  ];
  for (const [addr, owner, value] of cases) {
    m.mem.setOwner(addr, PAGE_SIZE, owner);
    m.mem.write32(addr + 0x80, value);
  }
  // A kernel1 page never written is not in the dump either.
  m.mem.setOwner(page(10), PAGE_SIZE, { who: "kernel1", what: "slab" });
  assert.deepEqual(
    dumpablePages(k2, ELF),
    cases.filter((c) => c[3]).map((c) => c[0] / PAGE_SIZE),
  );
});

function capture(pages: number) {
  const km = makeMachine({ disk: true });
  const { m } = km;
  // The first kernel's memory: `pages` slab pages with distinct contents.
  const content = (i: number) => [0xc0de_0000 | i, i * 3, 0, 0xffff_0000 | i];
  for (let i = 0; i < pages; i++) {
    const at = 0x1000_0000 + i * 2 * PAGE_SIZE; // every other page
    m.mem.setOwner(at, PAGE_SIZE, { who: "kernel1", what: "slab" });
    m.mem.writeDwords(at + 0x100, content(i).map((x) => x >>> 0));
  }
  const k2 = makeKernel(km, {
    id: "kernel2",
    cmdline: KDUMP,
    memory: [{ ...KIT.RESERVE }],
    drivers: ["nvme"],
  });
  start_kernel(k2);
  return { ...km, k2, content };
}

Deno.test("vmcore: save_vmcore writes the header (magic, count, header blocks), the pfn list, then the pages in order", () => {
  const N = PFNS_PER_BLOCK + 1; // the pfn list needs two blocks
  const { k2, disk, content } = capture(N);
  const nvme = nvmeOf(k2);
  const r = save_vmcore(k2, nvme, ELF, Infinity);
  assert.deepEqual(r, {
    result: "complete",
    pages: N,
    pagesWritten: N,
    ioErrors: 0,
    ioTimeouts: 0,
  });
  const media = disk!.media;
  assert.deepEqual([...media.get(0)!.slice(0, 5)], [VMCORE_MAGIC, 1, N, 3, 0]);
  const pfns = Array.from({ length: N }, (_, i) => (0x1000_0000 + i * 2 * PAGE_SIZE) / PAGE_SIZE);
  const list1 = media.get(1)!, list2 = media.get(2)!;
  for (let i = 0; i < PFNS_PER_BLOCK; i++) {
    assert.deepEqual([list1[2 * i], list1[2 * i + 1]], [pfns[i], 0]);
  }
  assert.deepEqual([...list2.slice(0, 4)], [pfns[N - 1], 0, 0, 0]);
  for (const i of [0, 1, 255, N - 1]) {
    const blk = media.get(3 + i)!;
    assert.deepEqual([...blk.slice(64, 68)], content(i).map((x) => x >>> 0), `page ${i}`);
  }
  assert.equal(media.size, 3 + N);
  // One write for the header blocks, then chunks of 32 pages: 17 writes.
  assert.equal(nvme.stats.writes, 1 + Math.ceil(N / 32));
  assert.equal(disk!.counters.readAborts, 0);
  assert.deepEqual(texts(k2).filter((t) => t.startsWith("kdump:")), [
    "kdump: saving to /dev/nvme0n1",
    "kdump: saving vmcore complete",
  ]);
});

Deno.test("vmcore: no disk → no-disk; a deadline already passed → timeout", () => {
  const km = makeMachine();
  const k2 = makeKernel(km, { id: "kernel2", cmdline: KDUMP, memory: [{ ...KIT.RESERVE }] });
  assert.deepEqual(save_vmcore(k2, undefined, ELF, Infinity), {
    result: "no-disk",
    pages: 0,
    pagesWritten: 0,
    ioErrors: 0,
    ioTimeouts: 0,
  });
  assert.deepEqual(texts(k2, "err"), ["kdump: no dump target found"]);

  const { k2: k, m, disk } = capture(3);
  const r = save_vmcore(k, nvmeOf(k), ELF, m.clock.now - 1);
  assert.equal(r.result, "timeout");
  assert.equal(r.pagesWritten, 0);
  assert.equal(disk!.media.size, 0);
  assert.ok(texts(k, "err").includes("kdump: saving vmcore failed"));
});

/**
 * Scripts the driver's next block writes: a failure is returned without touching the disk,
 * "disk" (and everything after the script) is a real write. Returns the outcomes seen.
 */
function scripted(nvme: NvmeDriver, script: (WriteResult | "disk")[]): WriteResult[] {
  const real = nvme.writeBlocks.bind(nvme);
  const seen: WriteResult[] = [];
  nvme.writeBlocks = (dev, lba, dma, blocks) => {
    const s = script.shift() ?? "disk";
    const r = s === "disk" ? real(dev, lba, dma, blocks) : s;
    seen.push(r);
    return r;
  };
  return seen;
}

Deno.test("vmcore: a failed write is retried (up to three attempts per chunk); the errors are counted and the dump completes", () => {
  const { k2, disk } = capture(40); // header chunk + two page chunks
  const nvme = nvmeOf(k2);
  const tried = scripted(nvme, ["error", "timeout", "disk", "error"]);
  const r = save_vmcore(k2, nvme, ELF, Infinity);
  assert.deepEqual(r, {
    result: "complete",
    pages: 40,
    pagesWritten: 40,
    ioErrors: 2,
    ioTimeouts: 1,
  });
  assert.deepEqual(tried, ["error", "timeout", "ok", "error", "ok", "ok"]);
  assert.equal(disk!.media.size, 2 + 40, "header, pfn list and every page on the disk");
  assert.ok(texts(k2).includes("kdump: saving vmcore complete"));
});

Deno.test("vmcore: a chunk failing three times fails the dump with its own outcome, not that of an earlier chunk's retry", () => {
  // The header chunk recovers from a timeout; the first page chunk then gets I/O errors only.
  const { k2 } = capture(3);
  const nvme = nvmeOf(k2);
  const tried = scripted(nvme, ["timeout", "disk", "error", "error", "error"]);
  const r = save_vmcore(k2, nvme, ELF, Infinity);
  assert.deepEqual(tried, ["timeout", "ok", "error", "error", "error"]);
  assert.deepEqual(r, {
    result: "failed",
    pages: 3,
    pagesWritten: 0,
    ioErrors: 3,
    ioTimeouts: 1,
  });
  assert.deepEqual(texts(k2, "err"), ["kdump: saving vmcore failed"]);
  // Three timeouts in a row: the outcome is a timeout.
  const { k2: k } = capture(3);
  scripted(nvmeOf(k), ["timeout", "timeout", "timeout"]);
  assert.equal(save_vmcore(k, nvmeOf(k), ELF, Infinity).result, "timeout");
});
