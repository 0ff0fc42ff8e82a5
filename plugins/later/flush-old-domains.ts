/**
 * iommu/amd: Flush old domains in kdump kernel — 36b7200f67df (Stuart Hayes, Linux 5.3-rc7;
 * in 4.19.75 stable).
 *
 * set_dte_entry() reads the DomainID of the entry it is about to overwrite; once the new
 * entry is written, if that old ID was not 0, it flushes everything the IOMMU cached for the
 * old domain (INVALIDATE_IOMMU_PAGES over the whole address space, PDE set) and waits for
 * completion. In a kdump kernel the entries it overwrites are the ones copied from the
 * crashed kernel, so the flush drops the crashed kernel's translations as each device is
 * attached anew. Reported for tg3 dumps over the network timing out; a 2025 maintainer review
 * called the approach "just getting lucky" (old IDs must be reserved, not flushed at random).
 *
 * @module
 */
import { build_inv_iommu_pages } from "../../runtime/kernel/amd_iommu/cmd.ts";
import { readDteWords } from "../../runtime/kernel/amd_iommu/domain.ts";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "flush-old-domains",
  title: "iommu/amd: Flush old domains in kdump kernel",
  hooks: {
    "amd_iommu.set_dte_entry": ({ k, devid }, next) => {
      const old = DTE.get(readDteWords(k.amd, devid), "DomainID");
      next();
      const iommu = k.amd.rlookup.get(devid);
      if (!old || !iommu) return;
      k.amd.queue(iommu, build_inv_iommu_pages(0, Infinity, old, true));
      k.amd.completion_wait(iommu);
    },
  },
});
