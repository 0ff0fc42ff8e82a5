/**
 * iommu/amd: Simplify and Consolidate Virtual APIC (AVIC) Enablement — c5e1a1eb9279 (Suravee
 * Suthikulpanit, Linux 6.0 cycle), its kdump part.
 *
 * The GA log "could have been enabled in the previous boot before kdump": before the GA log
 * is enabled, a running one is disabled (GALogEn and GAIntEn off) and Status.GALogRun polled
 * until it clears; only then are the base and tail programmed and the log enabled, so the
 * IOMMU logs into this kernel's buffer, and the already-running check never fires.
 *
 * @module
 */
import { CTRL } from "../../runtime/kernel/amd_iommu/driver.ts";
import { LOOP_TIMEOUT } from "../../runtime/kernel/amd_iommu/types.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "ga-log-disable-running",
  title: "iommu/amd: Simplify and Consolidate Virtual APIC (AVIC) Enablement",
  requires: ["ga-log-warn-running"],
  after: ["ga-log-warn-running"],
  hooks: {
    "amd_iommu.iommu_ga_log_enable": ({ k, iommu }, next) => {
      const d = k.amd;
      if (iommu.ga_log !== undefined && d.ga_log_running(iommu)) {
        d.iommu_feature_disable(iommu, CTRL.GALogEn);
        d.iommu_feature_disable(iommu, CTRL.GAIntEn);
        k.pollWait(() => !d.ga_log_running(iommu), 1000, LOOP_TIMEOUT);
      }
      next();
    },
  },
});
