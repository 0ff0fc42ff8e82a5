/**
 * iommu/amd: Detect pre enabled translation
 *
 * In init_iommu_one(), after the IOMMU's MMIO is mapped and its buffers are allocated, read
 * the control register: if IommuEn is already set, mark the IOMMU "translation pre-enabled".
 * A kernel that is not a kdump kernel disables such an IOMMU at once and warns. The global
 * amd_iommu_pre_enabled starts true and is AND-ed with each IOMMU's flag, so it stays true
 * only if every IOMMU was found enabled. Later patches read both through
 * translation_pre_enabled() and amd_iommu_pre_enabled.
 *
 * @module
 */
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import type { AmdIommuDev } from "../../runtime/kernel/amd_iommu/types.ts";
import { CTRL } from "../../runtime/kernel/amd_iommu/driver.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

interface State {
  /** amd_iommu_pre_enabled. */
  preEnabled: boolean;
  /** AMD_IOMMU_FLAG_TRANS_PRE_ENABLED of each IOMMU (by index). */
  flags: Map<number, boolean>;
}

export default definePlugin<State>({
  id: "detect-pre-enabled",
  title: "iommu/amd: Detect pre enabled translation",
  state: () => ({ preEnabled: true, flags: new Map() }),
  provides: {
    translation_pre_enabled: ({ state }) => (iommu: AmdIommuDev) =>
      state.flags.get(iommu.index) === true,
    clear_translation_pre_enabled: ({ state }) => (iommu: AmdIommuDev) =>
      state.flags.set(iommu.index, false),
    amd_iommu_pre_enabled: ({ state }) => () => state.preEnabled,
  },
  hooks: {
    "amd_iommu.init_iommu_one": (ctx) => {
      const { k, iommu, state } = ctx;
      // init_translation_status()
      const ctrl = k.readl(iommu.mmio_base + MMIO.CONTROL);
      if (ctrl & (1 << CTRL.IommuEn)) state.flags.set(iommu.index, true);
      if (state.flags.get(iommu.index) && !k.is_kdump_kernel()) {
        k.amd.iommu_disable(iommu);
        state.flags.set(iommu.index, false);
        k.pr_warn(`Translation was enabled for IOMMU:${iommu.index} but we are not in kdump mode`);
      }
      if (state.preEnabled) state.preEnabled = state.flags.get(iommu.index) === true;
    },
  },
});
