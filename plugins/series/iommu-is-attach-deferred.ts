/**
 * iommu: Add is_attach_deferred call-back to iommu-ops
 *
 * A new iommu_ops call-back, is_attach_deferred(domain, dev): "Check if domain attach should
 * be deferred from iommu driver init to device driver init (default no)". When it says yes,
 * __iommu_attach_device() returns at once without calling the driver's attach_dev — so the
 * default-domain attach done when a device joins its group does not touch the device's DTE.
 * The patch also skips __iommu_detach_device for deferred devices; the model has no detach
 * path, so that half is not modelled.
 *
 * @module
 */
import type { AttachCtx } from "../../runtime/kernel/hooks.ts";
import { definePlugin, hookPoint, type PluginCtx } from "../../runtime/plugin/mod.ts";

/** Context of iommu_ops.is_attach_deferred: that of __iommu_attach_device. */
export type AttachDeferredCtx = AttachCtx;

const deferred = (ctx: AttachDeferredCtx & PluginCtx) =>
  ctx.hooks.bail<boolean>("iommu_ops.is_attach_deferred", {
      k: ctx.k,
      dev: ctx.dev,
      domain: ctx.domain,
    }) === true
    ? true
    : undefined;

export default definePlugin({
  id: "iommu-is-attach-deferred",
  title: "iommu: Add is_attach_deferred call-back to iommu-ops",
  defines: {
    "iommu_ops.is_attach_deferred": hookPoint<"bail", AttachDeferredCtx, boolean>(
      "bail",
      "iommu_ops->is_attach_deferred(domain, dev): true defers attach/detach from IOMMU init to the device driver.",
      "(defined by iommu-is-attach-deferred; no driver implements it: never deferred)",
    ),
  },
  hooks: {
    "iommu.__iommu_attach_device": deferred,
  },
});
