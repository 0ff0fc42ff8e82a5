/**
 * iommu/amd: Define bit fields for DTE particularly
 *
 * Gives the device-table-entry bits names of their own (DTE_FLAG_V, DTE_FLAG_TV, DTE_FLAG_IR,
 * DTE_FLAG_IW, DEV_DOMID_MASK, DTE_FLAG_GV, the GCR3 parts, DTE_IRQ_REMAP_INTCTL_MASK,
 * DTE_IRQ_TABLE_LEN_MASK, ...) instead of reusing page-table-entry macros. Values are
 * unchanged: a pure renaming that the copy, sanity-check, deferred-attach and GCR3 patches
 * build on. Here the names come from the one DTE declaration the hardware model uses.
 *
 * @module
 */
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

/** The DTE fields by their 4.14 kernel names. */
export const DTE_FIELDS = {
  DTE_FLAG_V: DTE.field("V"),
  DTE_FLAG_TV: DTE.field("TV"),
  DTE_FLAG_IR: DTE.field("IR"),
  DTE_FLAG_IW: DTE.field("IW"),
  DTE_FLAG_GV: DTE.field("GV"),
  DTE_FLAG_SA: DTE.field("SA"),
  DEV_DOMID_MASK: DTE.field("DomainID"),
  DTE_GCR3_VAL_A: DTE.field("GCR3TableRootPtrA"),
  DTE_GCR3_VAL_B: DTE.field("GCR3TableRootPtrB"),
  DTE_GCR3_VAL_C: DTE.field("GCR3TableRootPtrC"),
  DTE_IRQ_REMAP_ENABLE: DTE.field("IV"),
  DTE_IRQ_REMAP_INTCTL_MASK: DTE.field("IntCtl"),
  DTE_IRQ_TABLE_LEN_MASK: DTE.field("IntTabLen"),
} as const;

export default definePlugin({
  id: "dte-bit-fields",
  title: "iommu/amd: Define bit fields for DTE particularly",
  provides: {
    dte_fields: () => () => DTE_FIELDS,
  },
});
