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
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "helper-functions",
  title: "iommu/amd: add several helper functions",
  provides: {
    early_enable_iommu: ({ k }) => (iommu: AmdIommuDev) => k.amd.early_enable_iommu(iommu),
    iommu_disable_command_buffer: ({ k }) => (iommu: AmdIommuDev) =>
      k.amd.iommu_feature_disable(iommu, CTRL.CmdBufEn),
    iommu_disable_event_buffer: ({ k }) => (iommu: AmdIommuDev) =>
      k.amd.iommu_feature_disable(iommu, CTRL.EventLogEn),
  },
  hooks: {
    // A replacement (next() is not called): the loop now calls the helper.
    "amd_iommu.early_enable_iommus": ({ k }) => {
      for (const iommu of k.amd.iommus) k.amd.early_enable_iommu(iommu);
    },
  },
});
