/**
 * iommu/amd: Remap the IOMMU device table with the memory encryption mask for kdump — Lianbo
 * Jiang's SME kdump series, Linux 4.19 (its commit id is not in our reference).
 *
 * A first kernel with SME active gives the IOMMU its Device Table Base with the C-bit set
 * (iommu_virt_to_phys), so 4.14's copy_device_table() takes entry & PAGE_MASK for an address
 * above 4G and refuses the copy ("The address of old device table is above 4G, not
 * trustworthy!"); and the old table, written through the C-bit, reads back as ciphertext
 * through memremap(). The fix strips the C-bit from the register value (old_devtb_phys =
 * __sme_clr(entry) & PAGE_MASK) before the 4G check, and with SME active in the kdump kernel
 * maps the old table with ioremap_encrypted(), so the copy reads what the old kernel wrote.
 *
 * @module
 */
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { MemremapCtx, OldTableCtx } from "../series/copy-dev-tables.ts";

export default definePlugin({
  id: "sme-remap-devtab",
  title: "iommu/amd: Remap the IOMMU device table with the memory encryption mask for kdump",
  requires: ["copy-dev-tables"],
  // old_devtb_phys is computed with the mask stripped, before the 4G check looks at it.
  before: ["dev-table-below-4g"],
  hooks: {
    "amd_iommu.copy_device_table.old_table": (_: number, { k, entry }: OldTableCtx & PluginCtx) =>
      k.__sme_clr(entry - (entry % 4096)), // __sme_clr(entry) & PAGE_MASK
    "amd_iommu.copy_device_table.memremap": (
      old_devtb: number,
      { k, phys, size }: MemremapCtx & PluginCtx,
    ) => k.sme_active() && k.is_kdump_kernel() ? k.ioremap_encrypted(phys, size) : old_devtb,
  },
});
