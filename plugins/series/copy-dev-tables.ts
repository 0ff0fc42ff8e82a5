/**
 * iommu/amd: Add function copy_dev_tables()
 *
 * Adds copy_device_table() (not called yet): if every IOMMU had translation pre-enabled,
 * read each IOMMU's Device Table Base register (readq: two 32-bit halves), require one table
 * for all of them and the size this kernel expects; then, once, take the old table's address
 * (entry & PAGE_MASK), map it, allocate the copy and copy every entry 0..last_bdf verbatim.
 * Hook points let later patches check the old table's address (once, after the loop, as in
 * 4.14) and the entries — a page of them at a time (the series' checks), or one by one —
 * any of which may abort the copy, and map the old table another way.
 *
 * @module
 */
import { DTE_BYTES } from "../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { getOrder, GFP } from "../../runtime/kernel/alloc.ts";
import { COST } from "../../runtime/kernel/cost.ts";
import type { Kernel } from "../../runtime/kernel/kernel.ts";
import { definePlugin, hookPoint, type SymbolEnv } from "../../runtime/plugin/mod.ts";

/**
 * Context of amd_iommu.copy_device_table.old_table, a waterfall over old_devtb_phys (starting
 * as entry & PAGE_MASK); it runs once, after every IOMMU's register was read and checked.
 */
export interface OldTableCtx {
  k: Kernel;
  /** The Device Table Base register value read (the same on every IOMMU). */
  entry: number;
  abort(): void;
}

/** Context of amd_iommu.copy_device_table.memremap, a waterfall over the mapping's address. */
export interface MemremapCtx {
  k: Kernel;
  /** old_devtb_phys, as the old_table waterfall left it. */
  phys: number;
  /** The table's size in bytes. */
  size: number;
}

/**
 * Context of amd_iommu.copy_device_table.entries: one page of the old table (up to 128
 * entries) that has any bit set, all-zero entries included, before it is copied. Entry
 * `first + e` is at dwords `8e`..`8e + 7` of `old` and `copy`.
 */
export interface CopyEntriesCtx {
  k: Kernel;
  /** The DeviceID of the page's first entry. */
  first: number;
  /** Entries on this page (128, fewer on the page of last_bdf). */
  count: number;
  /** The old entries (read only; dwords past `count` entries are not theirs). */
  old: Uint32Array;
  /** What is written for them (starts as a verbatim copy of `old`). */
  copy: Uint32Array;
  /**
   * Fails the copy at entry `devid` (the page's first if omitted): it and later ones are not
   * copied.
   */
  abort(devid?: number): void;
}

/** Context of amd_iommu.copy_device_table.entry: one old entry with any bit set. */
export interface CopyEntryCtx {
  k: Kernel;
  devid: number;
  /** The old entry (read only). */
  old: Uint32Array;
  /** The entry written into the copy (as the entries handlers left it). */
  copy: Uint32Array;
  /** Fails the copy at this entry: it and later ones are not copied. */
  abort(): void;
}

interface State {
  /** old_dev_tbl_cpy: physical address of the copy, if one was allocated. */
  copy?: number;
}

function copy_device_table({ k, state, symbol, hooks }: SymbolEnv<State>): boolean {
  const d = k.amd;
  if (!symbol<() => boolean>("amd_iommu_pre_enabled")()) return false;
  k.pr_warn("Translation is already enabled - trying to copy translation structures");
  let entry = 0, aborted = false;
  const abort = () => void (aborted = true);
  for (const iommu of d.iommus) {
    const e = k.readq(iommu.mmio_base + MMIO.DEV_TABLE);
    if (entry !== 0 && e !== entry) {
      k.pr_err(`IOMMU:${iommu.index} should use the same dev table as others!`);
      return false;
    }
    entry = e;
    const size = entry % 4096; // the Size field: pages - 1
    if ((size + 1) * 4096 !== d.dev_table_size) {
      k.pr_err(`The device table size of IOMMU:${iommu.index} is not expected!`);
      return false;
    }
  }
  const address = hooks.waterfall(
    "amd_iommu.copy_device_table.old_table",
    entry - (entry % 4096), // old_devtb_phys = entry & PAGE_MASK
    { k, entry, abort },
  );
  if (aborted) return false;
  // old_devtb = memremap(old_devtb_phys, dev_table_size, MEMREMAP_WB): the CPU's way to the
  // old table (not this kernel's RAM: a mapping without the C-bit when SME is active).
  const old_devtb = hooks.waterfall("amd_iommu.copy_device_table.memremap", address, {
    k,
    phys: address,
    size: d.dev_table_size,
  });
  if (!k.mem.isRam(old_devtb, d.dev_table_size)) return false; // memremap() failed
  const gfp = hooks.waterfall(
    "amd_iommu.early_amd_iommu_init.dev_table_gfp",
    GFP.KERNEL | GFP.ZERO,
    { k },
  );
  state.copy = k.alloc.allocPages(gfp, getOrder(d.dev_table_size), "old_dev_tbl_cpy");
  if (state.copy === undefined) {
    k.pr_err("Failed to allocate memory for copying old device table!");
    return false;
  }
  if (!copyEntries(k, old_devtb, state.copy, d.last_bdf, hooks)) return false;
  k.spend(COST.pageCopy * (d.dev_table_size / 4096));
  return true;
}

/** DTEs per 4 KiB page of a device table. */
const DTES_PER_PAGE = 4096 / DTE_BYTES;
/** Dwords per DTE. */
const DTE_DWORDS = DTE_BYTES / 4;
/** DTEs per 256-byte storage line. */
const DTES_PER_LINE = 8;

/**
 * Copies every entry 0..`last` of the old table at `from` into the copy at `to`, a page at a
 * time. A page with any bit set is shown whole to the entries hook, then each of its entries
 * with a bit set to the entry hook; what they leave in the copy is written for those entries,
 * up to the entry an abort named. All-zero entries are left as the copy has them.
 */
function copyEntries(
  k: Kernel,
  from: number,
  to: number,
  last: number,
  hooks: SymbolEnv<State>["hooks"],
): boolean {
  const oldPage = new Uint32Array(1024), copyPage = new Uint32Array(1024);
  const scratch = new Uint32Array(1024), live = new Uint8Array(DTES_PER_PAGE);
  /** The entry (index in the page) where an abort stopped the copy; -1: none. */
  let stop = -1, at = 0;
  const stopAt = (e: number) => {
    const i = Math.max(0, Math.min(page.count, e));
    if (stop < 0 || i < stop) stop = i;
  };
  const page: CopyEntriesCtx & { [field: string]: unknown } = {
    k,
    first: 0,
    count: 0,
    old: oldPage,
    copy: scratch,
    abort: (devid?: number) => stopAt((devid ?? page.first) - page.first),
  };
  // One context for every entry: its old entry and copy are views made when a handler asks.
  const entry: CopyEntryCtx & { [field: string]: unknown } = {
    k,
    devid: 0,
    get old() {
      return oldPage.subarray(at, at + DTE_DWORDS);
    },
    get copy() {
      return scratch.subarray(at, at + DTE_DWORDS);
    },
    abort: () => stopAt(at / DTE_DWORDS),
  };
  // Users' plugins may tap the per-entry point; the series does not (a call would do nothing).
  const perEntry = hooks.has("amd_iommu.copy_device_table.entry");
  for (let first = 0; first <= last; first += DTES_PER_PAGE) {
    const n = Math.min(DTES_PER_PAGE, last + 1 - first);
    const oldBase = from + first * DTE_BYTES, copyBase = to + first * DTE_BYTES;
    const extent = k.mem.readDwords(oldBase, n * DTE_DWORDS, oldPage);
    if (extent === 0) continue; // no old entry on this page has a bit set
    let any = 0;
    for (let e = 0; e < n; e++) {
      let bits = 0;
      for (let i = e * DTE_DWORDS; i < (e + 1) * DTE_DWORDS && i < extent; i++) bits |= oldPage[i];
      live[e] = bits === 0 ? 0 : 1;
      any |= bits;
    }
    if (any === 0) continue;
    for (let i = 0; i < n * DTE_DWORDS; i++) scratch[i] = oldPage[i];
    page.first = first;
    page.count = n;
    stop = -1;
    hooks.runAll("amd_iommu.copy_device_table.entries", page);
    for (let e = 0; perEntry && e < n && (stop < 0 || e <= stop); e++) {
      if (!live[e]) continue;
      at = e * DTE_DWORDS;
      entry.devid = first + e;
      hooks.runAll("amd_iommu.copy_device_table.entry", entry);
    }
    // Write back a storage line (8 entries) at a time: straight from the copy when all its
    // entries are written, else over what the copy's line holds.
    const end = stop < 0 ? n : stop;
    for (let e0 = 0; e0 < end; e0 += DTES_PER_LINE) {
      const e1 = Math.min(e0 + DTES_PER_LINE, end);
      let written = 0;
      for (let e = e0; e < e1; e++) written += live[e];
      if (written === 0) continue; // the copy is zeroed already
      const d = e0 * DTE_DWORDS, len = (e1 - e0) * DTE_DWORDS;
      if (written === e1 - e0) {
        k.mem.writeDwords(copyBase + d * 4, scratch, d, len);
        continue;
      }
      k.mem.readDwords(copyBase + d * 4, len, copyPage, d);
      for (let e = e0; e < e1; e++) {
        if (!live[e]) continue;
        for (let i = e * DTE_DWORDS; i < (e + 1) * DTE_DWORDS; i++) copyPage[i] = scratch[i];
      }
      k.mem.writeDwords(copyBase + d * 4, copyPage, d, len);
    }
    if (stop >= 0) return false;
  }
  return true;
}

export default definePlugin<State>({
  id: "copy-dev-tables",
  title: "iommu/amd: Add function copy_dev_tables()",
  requires: ["detect-pre-enabled", "dte-bit-fields"],
  state: () => ({}),
  defines: {
    "amd_iommu.copy_device_table.old_table": hookPoint<"waterfall", OldTableCtx, number>(
      "waterfall",
      "copy_device_table(): the old table's physical address (old_devtb_phys), once every IOMMU's Device Table Base was read and checked; handlers may change it or ctx.abort() the copy.",
      "(defined by copy-dev-tables) entry & PAGE_MASK",
    ),
    "amd_iommu.copy_device_table.memremap": hookPoint<"waterfall", MemremapCtx, number>(
      "waterfall",
      "copy_device_table(): how the CPU maps the old table to read it (starts as memremap(old_devtb_phys, MEMREMAP_WB), a mapping without the C-bit); handlers may map it another way (ioremap_encrypted).",
      "(defined by copy-dev-tables) memremap(old_devtb_phys)",
    ),
    "amd_iommu.copy_device_table.entries": hookPoint<"run-all", CopyEntriesCtx>(
      "run-all",
      "copy_device_table(): a page of the old table (up to 128 DTEs) with any bit set, before its entries are copied; handlers may change ctx.copy or ctx.abort(devid) the copy at an entry. Runs before the entry hook of the page's entries.",
      "(defined by copy-dev-tables)",
      {
        first: { type: "number", doc: "the DeviceID of the page's first entry" },
        count: { type: "number", doc: "entries on the page: entry first+e is at dword 8e" },
        old: { type: "Uint32Array", doc: "the old entries (read only)" },
        copy: { type: "Uint32Array", doc: "what is written for them (starts as old)" },
        abort: { type: "(devid?: number) => void", doc: "fail the copy from entry devid on" },
      },
    ),
    "amd_iommu.copy_device_table.entry": hookPoint<"run-all", CopyEntryCtx>(
      "run-all",
      "copy_device_table(): an old DTE with any bit set, before it is copied (after its page's entries hook); handlers may change ctx.copy or ctx.abort().",
      "(defined by copy-dev-tables)",
      {
        devid: { type: "number", doc: "the DeviceID of the entry" },
        old: { type: "Uint32Array", doc: "the old entry (read only)" },
        copy: { type: "Uint32Array", doc: "what is written for it" },
        abort: { type: "() => void", doc: "fail the copy from this entry on" },
      },
    ),
  },
  provides: {
    copy_device_table: (env) => () => copy_device_table(env),
    old_dev_tbl_cpy: ({ state }) => () => state.copy,
  },
});
