/**
 * iommu/amd: Allocate memory below 4G for dev table if translation pre-enabled
 *
 * The IOMMU latches the Device Table Base register as two 32-bit writes, so rewriting it
 * while translation is on is only safe if the high half does not change: the device table
 * (and the copy of the old one) is allocated with GFP_DMA32, below 4 GiB. An old table found
 * above 4 GiB cannot have been set up that way and is not trusted: the copy is refused (the
 * check runs once, after every IOMMU's register was read).
 *
 * @module
 */
import { GFP } from "../../runtime/kernel/alloc.ts";
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { OldTableCtx } from "./copy-dev-tables.ts";

export default definePlugin({
  id: "dev-table-below-4g",
  title: "iommu/amd: Allocate memory below 4G for dev table if translation pre-enabled",
  requires: ["copy-dev-tables"],
  hooks: {
    "amd_iommu.early_amd_iommu_init.dev_table_gfp": (gfp) => gfp | GFP.DMA32,
    "amd_iommu.copy_device_table.old_table": (
      address: number,
      { k, abort }: OldTableCtx & PluginCtx,
    ) => {
      if (address >= 0x1_0000_0000) {
        k.pr_err("The address of old device table is above 4G, not trustworthy!");
        abort();
      }
      return address;
    },
  },
});
