/**
 * iommu/amd: Add function copy_dev_tables()
 *
 * Adds copy_device_table() (not called yet): if every IOMMU had translation pre-enabled,
 * read each IOMMU's Device Table Base register (readq: two 32-bit halves), require one table
 * for all of them and the size this kernel expects; then, once, take the old table's address
 * (entry & PAGE_MASK), map it, allocate the copy and copy every entry 0..last_bdf verbatim.
 * Hook points let later patches check the old table's address (once, after the loop, as in
 * 4.14) and each entry — either may abort the copy — and map the old table another way.
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

/** Context of amd_iommu.copy_device_table.entry. */
export interface CopyEntryCtx {
  k: Kernel;
  devid: number;
  /** The old entry (read only). */
  old: Uint32Array;
  /** The entry written into the copy (starts as a verbatim copy of `old`). */
  copy: Uint32Array;
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
 * Copies every entry 0..`last` of the old table at `from` into the copy at `to`: each old
 * entry with any bit set is shown to the entry hook (which may change its copy, or abort)
 * and written; all-zero entries are left as the copy has them. The tables are read and
 * written a page at a time (a page of the copy is written back, a line per entry-holding
 * 256 bytes, once its entries are done — or, on abort, up to the entry before). One context
 * object carries each entry to the hook.
 */
function copyEntries(
  k: Kernel,
  from: number,
  to: number,
  last: number,
  hooks: SymbolEnv<State>["hooks"],
): boolean {
  const oldPage = new Uint32Array(1024), copyPage = new Uint32Array(1024);
  const written = new Uint8Array(DTES_PER_PAGE / DTES_PER_LINE);
  const ctx: CopyEntryCtx & { [field: string]: unknown } = {
    k,
    devid: 0,
    old: new Uint32Array(DTE_DWORDS),
    copy: new Uint32Array(DTE_DWORDS),
    abort: () => void (aborted = true),
  };
  let aborted = false;
  /** Writes back the lines of the copy's page at `base` where an entry was written. */
  const flush = (base: number) => {
    for (let l = 0; l < written.length; l++) {
      if (!written[l]) continue;
      const at = l * DTES_PER_LINE * DTE_DWORDS;
      k.mem.writeDwords(base + at * 4, copyPage.subarray(at, at + DTES_PER_LINE * DTE_DWORDS));
    }
  };
  for (let first = 0; first <= last; first += DTES_PER_PAGE) {
    const n = Math.min(DTES_PER_PAGE, last + 1 - first);
    const oldBase = from + first * DTE_BYTES, copyBase = to + first * DTE_BYTES;
    const extent = k.mem.readDwords(oldBase, n * DTE_DWORDS, oldPage);
    if (extent === 0) continue; // no old entry on this page has a bit set
    k.mem.readDwords(copyBase, n * DTE_DWORDS, copyPage);
    written.fill(0);
    for (let e = 0; e < n; e++) {
      const at = e * DTE_DWORDS;
      if (at >= extent) break;
      let any = 0;
      for (let i = at; i < at + DTE_DWORDS; i++) any |= oldPage[i];
      if (any === 0) continue; // the copy is zeroed already
      ctx.devid = first + e;
      const { old, copy } = ctx;
      for (let i = 0; i < DTE_DWORDS; i++) old[i] = copy[i] = oldPage[at + i];
      hooks.runAll("amd_iommu.copy_device_table.entry", ctx);
      if (aborted) {
        flush(copyBase);
        return false;
      }
      for (let i = 0; i < DTE_DWORDS; i++) copyPage[at + i] = copy[i];
      written[e >> 3] = 1;
    }
    flush(copyBase);
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
    "amd_iommu.copy_device_table.entry": hookPoint<"run-all", CopyEntryCtx>(
      "run-all",
      "copy_device_table(): an old DTE with any bit set was copied; handlers may change ctx.copy or ctx.abort().",
      "(defined by copy-dev-tables)",
    ),
  },
  provides: {
    copy_device_table: (env) => () => copy_device_table(env),
    old_dev_tbl_cpy: ({ state }) => () => state.copy,
  },
});
