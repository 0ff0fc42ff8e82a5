/**
 * iommu/amd: Do sanity check for address translation and irq remap of old dev table entry
 *
 * Per old entry: the translation words count only for a valid entry with a domain ID — that
 * domain ID is reserved in amd_iommu_pd_alloc_bitmap so this kernel never hands it out again.
 * An entry with interrupt remapping on must be in the form this kernel writes (IntCtl
 * remapped, IntTabLen 8 = 256 entries); any other non-zero IntCtl/IntTabLen is an error
 * ("Wrong old irq remapping flag") that fails the whole copy.
 *
 * @module
 */
import type { Field } from "../../runtime/hw/bits.ts";
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { CopyEntryCtx } from "./copy-dev-tables.ts";

/** IntCtl value "remapped" (DTE_IRQ_REMAP_INTCTL = 2 << 60). */
const DTE_IRQ_REMAP_INTCTL = 2;
/** IntTabLen this kernel writes (DTE_IRQ_TABLE_LEN = 8 << 1: 256 entries). */
const DTE_IRQ_TABLE_LEN = 8;

export default definePlugin({
  id: "sanity-check-old-dte",
  title: "iommu/amd: Do sanity check for address translation and irq remap of old dev table entry",
  requires: ["copy-dev-tables", "dte-bit-fields"],
  hooks: {
    "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
      const { k, devid, old, abort } = ctx;
      const F = ctx.symbol<() => Record<string, Field>>("dte_fields")();
      const domid = F.DEV_DOMID_MASK.get(old);
      if (F.DTE_FLAG_V.get(old) && domid) k.amd.pd_alloc_bitmap[domid] = 1;
      const intCtl = F.DTE_IRQ_REMAP_INTCTL_MASK.get(old);
      const tabLen = F.DTE_IRQ_TABLE_LEN_MASK.get(old);
      if (F.DTE_IRQ_REMAP_ENABLE.get(old) && (intCtl || tabLen)) {
        if (intCtl !== DTE_IRQ_REMAP_INTCTL || tabLen !== DTE_IRQ_TABLE_LEN) {
          k.pr_err(`Wrong old irq remapping flag: ${devid ? "0x" + devid.toString(16) : "0"}`);
          abort();
        }
      }
    },
  },
});
