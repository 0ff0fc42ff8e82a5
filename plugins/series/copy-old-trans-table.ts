/**
 * iommu/amd: copy old trans table from old kernel
 *
 * early_enable_iommus() now tries copy_device_table() first. On failure it prints "Failed to
 * copy DEV table from previous kernel." (if translation was pre-enabled), frees the copy,
 * clears every IOMMU's pre-enabled flag and brings each IOMMU up from scratch as before. On
 * success the copy becomes the device table, and without ever turning translation off each
 * IOMMU gets fresh command and event buffers, its GA mode, the new table's address written
 * into the Device Table Base register while IommuEn stays 1, and a flush of all caches.
 *
 * @module
 */
import type { AmdIommuDev } from "../../runtime/kernel/amd_iommu/types.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

type Fn = (iommu: AmdIommuDev) => void;

export default definePlugin({
  id: "copy-old-trans-table",
  title: "iommu/amd: copy old trans table from old kernel",
  requires: ["helper-functions", "copy-dev-tables", "detect-pre-enabled"],
  hooks: {
    "amd_iommu.early_enable_iommus": ({ k, symbol }) => {
      const d = k.amd;
      const copied = symbol<() => boolean>("copy_device_table")();
      const copy = symbol<() => number | undefined>("old_dev_tbl_cpy")();
      if (!copied) {
        if (symbol<() => boolean>("amd_iommu_pre_enabled")()) {
          k.pr_err("Failed to copy DEV table from previous kernel.");
        }
        if (copy !== undefined) k.alloc.freePages(copy);
        for (const iommu of d.iommus) {
          symbol<Fn>("clear_translation_pre_enabled")(iommu);
          symbol<Fn>("early_enable_iommu")(iommu);
        }
        return;
      }
      k.pr_info("Copied DEV table from previous kernel.");
      k.alloc.freePages(d.dev_table);
      d.dev_table = copy!;
      for (const iommu of d.iommus) {
        symbol<Fn>("iommu_disable_command_buffer")(iommu);
        symbol<Fn>("iommu_disable_event_buffer")(iommu);
        d.iommu_enable_command_buffer(iommu);
        d.iommu_enable_event_buffer(iommu);
        d.iommu_enable_ga(iommu);
        d.iommu_set_device_table(iommu); // IommuEn stays 1: the hardware sees both halves land
        d.iommu_flush_all_caches(iommu);
      }
    },
  },
});
