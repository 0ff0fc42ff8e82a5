/**
 * A plugin file for `run --plugin`: when set_dte_entry rewrites an entry that carried a
 * domain ID (one copied from the crashed kernel), also flush that old domain's translations —
 * what upstream 36b7200f67df ("iommu/amd: Flush old domains in kdump kernel") added in 2019.
 *
 *   deno task lab run --series all --plugin ./examples/flush-old-domain.ts
 */
import { build_inv_iommu_pages, definePlugin, readDteWords } from "../plugin.ts";
import { DTE } from "../hw.ts";

export default definePlugin({
  id: "flush-old-domain",
  title: "iommu/amd: Flush old domains in kdump kernel",
  hooks: {
    "amd_iommu.set_dte_entry": ({ k, devid }, next) => {
      const oldDomain = DTE.get(readDteWords(k.amd, devid), "DomainID");
      next();
      const iommu = k.amd.rlookup.get(devid);
      if (!oldDomain || !iommu || !k.is_kdump_kernel()) return;
      k.amd.queue(iommu, build_inv_iommu_pages(0, Infinity, oldDomain, true));
      k.amd.completion_wait(iommu);
    },
  },
});
