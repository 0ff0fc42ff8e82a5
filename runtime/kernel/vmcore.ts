/**
 * The kdump service in the crash kernel: makedumpfile reads the first kernel's memory
 * (/proc/vmcore, described by the ELF core header), leaves out free, page-cache, user and
 * zero pages (dump level 31), and writes the rest through the disk driver: a header (magic,
 * page count, the list of page frame numbers), then the pages in that order.
 *
 * The page filter reads the first kernel's page ownership from the model's owner tags —
 * the stand-in for makedumpfile reading the old kernel's mem_map.
 *
 * @module
 */
import { PAGE_SIZE } from "../hw/memory.ts";
import { GFP } from "./alloc.ts";
import { COST } from "./cost.ts";
import type { NvmeDriver, WriteResult } from "./drivers/nvme.ts";
import { type Kernel, machineOf } from "./kernel.ts";
import { dwords } from "../hw/dwords.ts";
import { splitNumber } from "../hw/bits.ts";

/** First dword of the dump header ("KDMP"). */
export const VMCORE_MAGIC = 0x504d_444b;
/** Page frame numbers per header block (two dwords each). */
export const PFNS_PER_BLOCK = PAGE_SIZE / 8;
/** Pages per disk write. */
const CHUNK_PAGES = 32;
/** Owner purposes makedumpfile -d 31 leaves out. */
export const EXCLUDED_PURPOSES = new Set(["free", "pagecache", "user", "user-page"]);

/** What the first kernel's ELF core header describes: its RAM. */
export interface ElfCoreHeader {
  ranges: { base: number; size: number }[];
}

/** Outcome of the capture. */
export interface VmcoreResult {
  result: "complete" | "failed" | "timeout" | "no-disk";
  pages: number;
  pagesWritten: number;
  ioErrors: number;
  ioTimeouts: number;
}

/** The pages makedumpfile would dump, ascending. */
export function dumpablePages(k: Kernel, elf: ElfCoreHeader): number[] {
  const out: number[] = [];
  const ranges = elf.ranges;
  // The page filter reads the owner tags (the lab's record of what each page holds).
  const mem = machineOf(k).mem;
  // Zero pages are left out: only pages with a non-zero line are candidates.
  for (const pfn of mem.nonBlankPages()) {
    const a = pfn * PAGE_SIZE;
    let inRanges = false;
    for (let i = 0; i < ranges.length && !inRanges; i++) {
      inRanges = a >= ranges[i].base && a < ranges[i].base + ranges[i].size;
    }
    if (!inRanges) continue;
    const o = mem.ownerOf(a);
    if (o.who !== "kernel1") continue;
    if (!(o.what && EXCLUDED_PURPOSES.has(o.what))) out.push(pfn);
  }
  return out;
}

/** save_vmcore: the kdump service's capture to the first disk. */
export function save_vmcore(
  k: Kernel,
  nvme: NvmeDriver | undefined,
  elf: ElfCoreHeader,
  deadline: number,
): VmcoreResult {
  const out: VmcoreResult = {
    result: "no-disk",
    pages: 0,
    pagesWritten: 0,
    ioErrors: 0,
    ioTimeouts: 0,
  };
  const disk = nvme?.firstDisk();
  if (!nvme || !disk) {
    k.pr_err("kdump: no dump target found");
    return out;
  }
  k.pr_info("kdump: saving to /dev/nvme0n1");
  const pages = dumpablePages(k, elf);
  out.pages = pages.length;
  const bounce = k.alloc.allocPages(GFP.KERNEL, Math.log2(CHUNK_PAGES), "vmcore-buffer");
  if (bounce === undefined) {
    out.result = "failed";
    k.pr_err("kdump: saving vmcore failed");
    return out;
  }
  // Header: block 0 = magic, count, header blocks; then the pfn list.
  const listBlocks = Math.ceil(pages.length / PFNS_PER_BLOCK);
  const header = dwords(PAGE_SIZE / 4);
  header[0] = VMCORE_MAGIC;
  header[1] = 1;
  header[2] = pages.length;
  header[3] = 1 + listBlocks;
  const blocks: Uint32Array[] = [header];
  for (let b = 0; b < listBlocks; b++) {
    const blk = dwords(PAGE_SIZE / 4);
    pages.slice(b * PFNS_PER_BLOCK, (b + 1) * PFNS_PER_BLOCK).forEach((pfn, i) => {
      blk.set(splitNumber(pfn), i * 2);
    });
    blocks.push(blk);
  }
  const write = (lba: number, fill: (i: number) => void, n: number): WriteResult => {
    for (let i = 0; i < n; i++) fill(i);
    k.spend(COST.pageCopy * n); // copy into the buffer
    let r: WriteResult = "error";
    for (let attempt = 0; attempt < 3; attempt++) {
      if (machineOf(k).clock.now > deadline) return "timeout";
      const dma = k.dma.dma_map_single(disk, bounce, n * PAGE_SIZE, "to-device");
      if (dma === undefined) return "error";
      r = nvme.writeBlocks(disk, lba, dma, n);
      k.dma.dma_unmap_single(disk, dma, n * PAGE_SIZE, "to-device");
      if (r === "ok") return r;
      if (r === "error") out.ioErrors++;
      else out.ioTimeouts++;
    }
    return r; // the last attempt's outcome
  };
  for (let i = 0; i < blocks.length; i += CHUNK_PAGES) {
    const n = Math.min(CHUNK_PAGES, blocks.length - i);
    const r = write(i, (j) => k.mem.writeDwords(bounce + j * PAGE_SIZE, blocks[i + j]), n);
    if (r !== "ok") return fail(k, out, r);
  }
  const base = blocks.length;
  // /proc/vmcore reads the old memory through a mapping of its own; with SME active, an
  // encrypted one (read_from_oldmem(..., sme_active()) — the vmcore half of the 4.19 SME kdump
  // series, taken as present here: this lab models the IOMMU half, a plugin).
  const old = (pfn: number) =>
    k.sme_active() ? k.ioremap_encrypted(pfn * PAGE_SIZE, PAGE_SIZE) : pfn * PAGE_SIZE;
  for (let i = 0; i < pages.length; i += CHUNK_PAGES) {
    const n = Math.min(CHUNK_PAGES, pages.length - i);
    const r = write(
      base + i,
      (j) => k.mem.copy(bounce + j * PAGE_SIZE, old(pages[i + j]), PAGE_SIZE),
      n,
    );
    if (r !== "ok") return fail(k, out, r);
    out.pagesWritten += n;
  }
  k.pr_info("Copying data                       : [100.0 %] |");
  k.pr_info("The dumpfile is saved to /var/crash/vmcore.");
  k.pr_info("kdump: saving vmcore complete");
  out.result = "complete";
  return out;
}

function fail(k: Kernel, out: VmcoreResult, r: WriteResult): VmcoreResult {
  out.result = r === "timeout" ? "timeout" : "failed";
  k.pr_err("kdump: saving vmcore failed");
  return out;
}
