/**
 * iommu/amd: Use is_attach_deferred call-back
 *
 * A device behind an IOMMU found with translation pre-enabled gets defer_attach set when its
 * iommu_dev_data is allocated, and amd_iommu_is_attach_deferred() reports it — so at IOMMU
 * init the device keeps the DTE copied from the crashed kernel. The attach happens in
 * get_domain(), on the first DMA-API call the device's driver makes: defer_attach is cleared
 * and the device attached to its group's domain (set_dte_entry, DTE and TLB flushes). A
 * device still without a domain gets -EBUSY instead of a NULL dereference.
 *
 * @module
 */
import { attach_device } from "../../runtime/kernel/amd_iommu/domain.ts";
import type { AmdIommuDev, IommuDevData } from "../../runtime/kernel/amd_iommu/types.ts";
import { definePlugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { AttachDeferredCtx } from "./iommu-is-attach-deferred.ts";

/** defer_attach of each iommu_dev_data. */
type State = WeakMap<IommuDevData, boolean>;

export default definePlugin<State>({
  id: "amd-use-attach-deferred",
  title: "iommu/amd: Use is_attach_deferred call-back",
  requires: ["detect-pre-enabled", "iommu-is-attach-deferred"],
  state: () => new WeakMap(),
  provides: {
    defer_attach: ({ state }) => (dd: IommuDevData) => state.get(dd) === true,
  },
  hooks: {
    "amd_iommu.find_dev_data": ({ devData, iommu, state, symbol }) => {
      if (symbol<(i: AmdIommuDev) => boolean>("translation_pre_enabled")(iommu)) {
        state.set(devData, true);
      }
    },
    "iommu_ops.is_attach_deferred": (ctx: AttachDeferredCtx & PluginCtx<State>) => {
      const dd = ctx.k.amd.dev_data.get(ctx.dev.devid);
      return dd ? ctx.state.get(dd) === true : false;
    },
    "amd_iommu.get_domain": ({ k, dev, devData, state }, next) => {
      if (devData.domain === null && state.get(devData)) {
        state.set(devData, false);
        const domain = k.core.iommu_get_domain_for_dev(dev);
        if (domain) attach_device(k.amd, dev, domain);
      }
      if (devData.domain === null) return { err: "EBUSY" };
      return next();
    },
  },
});
