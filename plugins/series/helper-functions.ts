/**
 * iommu/amd: add several helper functions
 *
 * Moves the per-IOMMU body of early_enable_iommus() into early_enable_iommu(), and adds
 * iommu_disable_command_buffer() and iommu_disable_event_buffer() (clear CmdBufEn /
 * EventLogEn). No behaviour changes: the loop now calls the helper. The copy patch uses
 * all three.
 *
 * @module
 */
import type { AmdIommuDev } from "../../runtime/kernel/amd_iommu/types.ts";
import { CTRL } from "../../runtime/kernel/amd_iommu/driver.ts";
import type { Kernel } from "../../runtime/kernel/kernel.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

/** early_enable_iommu(): the former loop body. */
function early_enable_iommu(k: Kernel, iommu: AmdIommuDev): void {
  const d = k.amd;
  d.iommu_disable(iommu);
  d.iommu_init_flags(iommu);
  d.iommu_set_device_table(iommu);
  d.iommu_enable_command_buffer(iommu);
  d.iommu_enable_event_buffer(iommu);
  d.iommu_set_exclusion_range(iommu);
  d.iommu_enable_ga(iommu);
  d.iommu_enable(iommu);
  d.iommu_flush_all_caches(iommu);
}

export default definePlugin({
  id: "helper-functions",
  title: "iommu/amd: add several helper functions",
  provides: {
    early_enable_iommu: ({ k }) => (iommu: AmdIommuDev) => early_enable_iommu(k, iommu),
    iommu_disable_command_buffer: ({ k }) => (iommu: AmdIommuDev) =>
      k.amd.iommu_feature_disable(iommu, CTRL.CmdBufEn),
    iommu_disable_event_buffer: ({ k }) => (iommu: AmdIommuDev) =>
      k.amd.iommu_feature_disable(iommu, CTRL.EventLogEn),
  },
  hooks: {
    "amd_iommu.early_enable_iommus": ({ k }) => {
      for (const iommu of k.amd.iommus) early_enable_iommu(k, iommu);
    },
  },
});
