/**
 * amd/iommu: Preserve domain ids inside the kdump kernel — c2e8dc1222c2 (Sairaj Kodilkar,
 * 6.18 stable, December 2025).
 *
 * The reuse path (snp-reuse-devtab) took over the old device table without reserving the
 * DomainIDs its entries carry, "which can lead to potential IO_PAGE_FAULTs": a new domain may
 * get an ID an old entry still uses, and the two then share IOTLB tags. After the table is
 * reused, every valid entry's DomainID is reserved in the domain ID allocator; an ID already
 * reserved (several devices in one domain) is expected, not an error.
 *
 * @module
 */
import { DTE, DTE_BYTES } from "../../runtime/hw/layouts/dte.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "preserve-domain-ids",
  title: "amd/iommu: Preserve domain ids inside the kdump kernel",
  requires: ["snp-reuse-devtab"],
  after: ["snp-reuse-devtab"],
  hooks: {
    "amd_iommu.early_enable_iommus": ({ k, symbol }, next) => {
      next();
      const table = symbol<() => number | undefined>("reused_dev_table")();
      if (table === undefined) return;
      const d = k.amd, w = new Uint32Array(DTE_BYTES / 4);
      for (let devid = 0; devid <= d.last_bdf; devid++) {
        k.mem.readDwords(table + devid * DTE_BYTES, w.length, w);
        const id = DTE.get(w, "DomainID");
        // ida_alloc_range(&pdom_ids, id, id): -ENOSPC for an ID taken already is expected.
        if (DTE.get(w, "V") && id) d.pd_alloc_bitmap[id] = 1;
      }
    },
  },
});
