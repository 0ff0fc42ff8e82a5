/**
 * iommu/amd: Do sanity check for address translation and irq remap of old dev table entry
 *
 * Per old entry (a page of them at a time, in DeviceID order): the translation words count
 * only for a valid entry with a domain ID — that domain ID is reserved in
 * amd_iommu_pd_alloc_bitmap so this kernel never hands it out again.
 * An entry with interrupt remapping on must be in the form this kernel's set_dte_irq_entry()
 * writes (IntCtl remapped, IntTabLen 8 = 256 entries); any other non-zero IntCtl/IntTabLen is
 * an error ("Wrong old irq remapping flag") that fails the whole copy.
 *
 * @module
 */
import { INTCTL } from "../../runtime/hw/layouts/dte.ts";
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { CopyEntriesCtx } from "./copy-dev-tables.ts";
import type { DTE_FIELDS } from "./dte-bit-fields.ts";

export default definePlugin({
  id: "sanity-check-old-dte",
  title: "iommu/amd: Do sanity check for address translation and irq remap of old dev table entry",
  requires: ["copy-dev-tables", "dte-bit-fields"],
  hooks: {
    "amd_iommu.copy_device_table.entries": (ctx: CopyEntriesCtx & PluginCtx) => {
      const { k, first, count, old, abort } = ctx;
      const F = ctx.symbol<() => typeof DTE_FIELDS>("dte_fields")();
      for (let e = 0, at = 0; e < count; e++, at += 8) {
        const domid = F.DEV_DOMID_MASK.get(old, at);
        if (F.DTE_FLAG_V.get(old, at) && domid) k.amd.pd_alloc_bitmap[domid] = 1;
        const intCtl = F.DTE_IRQ_REMAP_INTCTL_MASK.get(old, at);
        const tabLen = F.DTE_IRQ_TABLE_LEN_MASK.get(old, at);
        if (!F.DTE_IRQ_REMAP_ENABLE.get(old, at) || !(intCtl || tabLen)) continue;
        // DTE_IRQ_REMAP_INTCTL and DTE_IRQ_TABLE_LEN: what set_dte_irq_entry() writes.
        if (intCtl !== INTCTL.REMAP || tabLen !== k.amd.irq.tableLen) {
          const devid = first + e;
          k.pr_err(`Wrong old irq remapping flag: ${devid ? "0x" + devid.toString(16) : "0"}`);
          return abort(devid);
        }
      }
    },
  },
});
