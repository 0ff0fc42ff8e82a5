/**
 * Checks the dump that reached the disk against the first kernel's memory at the moment
 * of the panic: it reads the dump's header and page list from the disk's media (not from
 * the kdump kernel's memory), and compares every page with the copy-on-write snapshot
 * taken at the panic.
 *
 * A page that differs is bad, unless every write it received after the panic was DMA by
 * the device whose buffer it is (an RX buffer the NIC kept filling: its contents are in
 * flight by nature, and any dump would catch them mid-way). Pages that should have been in
 * the dump and are missing, or that are in it but were blank (unused) at the panic — a stray
 * write made them non-zero — are bad too.
 *
 * @module
 */
import { hex, joinQword } from "../hw/bits.ts";
import type { Disk, MediaSpan } from "../hw/pci/disk.ts";
import { bdfText, ownerText, PAGE_SIZE, type PhysMem } from "../hw/memory.ts";
import { PFNS_PER_BLOCK, VMCORE_MAGIC } from "../kernel/vmcore.ts";
import type { PostPanicWrites } from "./recorder.ts";

/** Outcome of the comparison. */
export interface DumpCheck {
  readable: boolean;
  pages: number;
  badPages: number;
  volatilePages: number;
  examples: { pfn: string; owner: string; why: string }[];
}

/**
 * Compares the dump on `disk` with memory at the panic. `expected`: the pages the dump must
 * hold (`dumpablePages` at the panic, excluded page types already left out). `encrypted`: the
 * first kernel ran with SME, so its memory is compared as it reads through the C-bit (what
 * its CPU saw), not as stored.
 */
export function verifyDump(
  mem: PhysMem,
  disk: Disk,
  expected: number[],
  afterPanic: Map<number, PostPanicWrites>,
  encrypted = false,
): DumpCheck {
  const res: DumpCheck = { readable: false, pages: 0, badPages: 0, volatilePages: 0, examples: [] };
  const bad = (pfn: number, why: string) => {
    res.badPages++;
    if (res.examples.length < 20) {
      res.examples.push({
        pfn: hex(pfn),
        owner: ownerText(mem.ownerOf(pfn * PAGE_SIZE)),
        why,
      });
    }
  };
  const header = disk.media.get(0);
  if (!header || header[0] !== VMCORE_MAGIC) return res;
  const count = header[2], headerBlocks = header[3];
  const pfns: number[] = [];
  const span: MediaSpan = { data: header, at: 0, n: 0 };
  for (let i = 0; i < count; i++) {
    if (i % PFNS_PER_BLOCK === 0 && !disk.media.locate(1 + i / PFNS_PER_BLOCK, span)) return res;
    // Dwords past the block's stored length read as zeros (trailing zeros are not kept).
    const j = (i % PFNS_PER_BLOCK) * 2, d = span.data, at = span.at, n = span.n;
    pfns.push(joinQword(j < n ? d[at + j] : 0, j + 1 < n ? d[at + j + 1] : 0));
  }
  res.readable = true;
  res.pages = count;
  const inDump = new Set(pfns);
  for (let i = 0; i < count; i++) {
    const pfn = pfns[i];
    if (!disk.media.locate(headerBlocks + i, span)) {
      bad(pfn, "page missing on disk");
      continue;
    }
    if (mem.originalPageEquals(pfn, span.data, span.at, span.n, encrypted)) continue;
    const w = afterPanic.get(pfn);
    if (w?.legit) {
      res.volatilePages++;
      continue;
    }
    if (mem.originalPageIsBlank(pfn)) bad(pfn, "page was unused at the panic; written after it");
    else if (w) {
      bad(pfn, `overwritten after the panic by DMA from ${[...w.writers].map(bdfText).join(", ")}`);
    } else if (pageNowEquals(mem, pfn, span, encrypted)) {
      // Not DMA, and the disk holds what memory holds now: the CPU changed the page after the
      // panic — the kdump kernel writing into the crashed kernel's memory (e.g. structures it
      // took over rather than copied).
      bad(pfn, "changed in memory after the panic by the kdump kernel (no DMA)");
    } else bad(pfn, "differs on disk from memory (corrupted on its way to the disk)");
  }
  for (const pfn of expected) {
    if (!inDump.has(pfn)) bad(pfn, "page of the first kernel missing from the dump");
  }
  return res;
}

/** One page of memory as it is now, for {@link pageNowEquals}. */
const PAGE_NOW = new Uint32Array(PAGE_SIZE / 4);

/** Whether the page `pfn` in memory now holds what the disk holds (`span`, zero-extended). */
function pageNowEquals(mem: PhysMem, pfn: number, span: MediaSpan, encrypted: boolean): boolean {
  mem.readDwords(pfn * PAGE_SIZE + (encrypted ? mem.cBit : 0), PAGE_NOW.length, PAGE_NOW);
  for (let i = 0; i < PAGE_NOW.length; i++) {
    const onDisk = i < span.n ? span.data[span.at + i] : 0;
    if (PAGE_NOW[i] !== onDisk) return false;
  }
  return true;
}
