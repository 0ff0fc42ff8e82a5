/**
 * iommu/amd: Disable iommu only if amd_iommu=off is specified
 *
 * early_amd_iommu_init() used to disable every IOMMU unconditionally ("Disable any
 * previously enabled IOMMUs"). In a kdump kernel that would stop the crashed kernel's
 * translation before the device table can be copied, and the copy path never turns it on
 * again. Now the IOMMUs are disabled there only outside kdump, or when amd_iommu=off asks
 * for it.
 *
 * @module
 */
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "disable-only-if-off",
  title: "iommu/amd: Disable iommu only if amd_iommu=off is specified",
  requires: ["detect-pre-enabled"],
  hooks: {
    "amd_iommu.early_amd_iommu_init.disable_iommus": (disable, { k }) =>
      disable && (!k.is_kdump_kernel() || k.amd.disabled),
  },
});
