/**
 * iommu/amd: Don't copy GCR3 table root pointer
 *
 * A device set up with guest translation in the crashed kernel (DTE.GV=1: PASID traffic
 * through a GCR3 table of process page tables) must not keep walking those tables: in the
 * copy of a valid entry with a domain ID and GV set, the three parts of the GCR3 table root
 * pointer and GV itself are cleared (GLX is left alone). The patch's amd_iommu_v2.c hunk
 * answers the page requests such a device then sends: while translation was pre-enabled and
 * the device's attach is still deferred, ppr_notifier() completes them with PPR_INVALID
 * instead of handing them to a device state.
 *
 * @module
 */
import type { AmdIommuDev, IommuDevData } from "../../runtime/kernel/amd_iommu/types.ts";
import { PPR_STATUS } from "../../runtime/kernel/amd_iommu/v2.ts";
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { CopyEntriesCtx } from "./copy-dev-tables.ts";
import type { DTE_FIELDS } from "./dte-bit-fields.ts";

export default definePlugin({
  id: "drop-gcr3-root",
  title: "iommu/amd: Don't copy GCR3 table root pointer",
  requires: [
    "copy-dev-tables",
    "sanity-check-old-dte",
    "dte-bit-fields",
    "detect-pre-enabled",
    "amd-use-attach-deferred",
  ],
  hooks: {
    "amd_iommu.copy_device_table.entries": (ctx: CopyEntriesCtx & PluginCtx) => {
      const F = ctx.symbol<() => typeof DTE_FIELDS>("dte_fields")();
      const { count, old, copy } = ctx;
      for (let at = 0; at < count * 8; at += 8) {
        const V = F.DTE_FLAG_V.get(old, at), GV = F.DTE_FLAG_GV.get(old, at);
        if (!V || !F.DEV_DOMID_MASK.get(old, at) || !GV) continue;
        F.DTE_GCR3_VAL_A.set(copy, 0, at);
        F.DTE_GCR3_VAL_B.set(copy, 0, at);
        F.DTE_GCR3_VAL_C.set(copy, 0, at);
        F.DTE_FLAG_GV.set(copy, 0, at);
      }
    },
    // "In kdump kernel pci dev is not initialized yet -> send INVALID"
    "amd_iommu_v2.ppr_notifier": ({ iommu, devData, symbol }) => {
      const preEnabled = symbol<(i: AmdIommuDev) => boolean>("translation_pre_enabled")(iommu);
      const deferred = symbol<(dd: IommuDevData) => boolean>("defer_attach")(devData);
      return preEnabled && deferred ? PPR_STATUS.INVALID : undefined;
    },
  },
});
