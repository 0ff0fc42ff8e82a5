/**
 * iommu/amd: Reuse device table for kdump — 38e5f33ee359 (Ashish Kalra, 2025 SEV-SNP host
 * kdump series; iommu-next, 6.17 stable).
 *
 * In a kdump kernel whose IOMMUs still translate, early_enable_iommus() no longer copies the
 * old device table: it checks that every IOMMU uses one table of the expected size and takes
 * that table, in the crashed kernel's memory, as its own ("trying to reuse translation
 * structures", "Reused DEV table from previous kernel."), without the per-entry checks of the
 * copy. iommu_set_device_table() is skipped in kdump — with SNP enforced the IOMMU would ignore
 * the write anyway — so every DTE the kdump kernel writes lands in the table the IOMMU reads.
 * The IOMMUs get their command and event buffers (re)enabled, GA mode, and a flush of all
 * caches. A failed reuse falls back to a cold start, except with SNP: BUG_ON.
 *
 * @module
 */
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import type { AmdIommuDev } from "../../runtime/kernel/amd_iommu/types.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

type Fn = (iommu: AmdIommuDev) => void;

interface State {
  /** The reused table's address, once reused. */
  reused?: number;
}

export default definePlugin<State>({
  id: "snp-reuse-devtab",
  title: "iommu/amd: Reuse device table for kdump",
  requires: ["detect-pre-enabled", "helper-functions"],
  state: () => ({}),
  provides: {
    /** The reused device table's address (undefined: not reused). */
    reused_dev_table: ({ state }) => () => state.reused,
  },
  hooks: {
    "amd_iommu.early_enable_iommus": ({ k, state, symbol }, next) => {
      const d = k.amd;
      if (!k.is_kdump_kernel() || !symbol<() => boolean>("amd_iommu_pre_enabled")()) {
        return next();
      }
      k.pr_warn("Translation is already enabled - trying to reuse translation structures");
      let entry = 0, ok = true;
      for (const iommu of d.iommus) {
        const e = k.readq(iommu.mmio_base + MMIO.DEV_TABLE);
        if ((entry !== 0 && e !== entry) || ((e % 4096) + 1) * 4096 !== d.dev_table_size) {
          ok = false;
          break;
        }
        entry = e;
      }
      if (!ok) {
        k.pr_err("Failed to reuse DEV table from previous kernel.");
        const snp = d.iommus.some((iommu) => d.check_feature(iommu, "SNPSup") === 1);
        if (snp) {
          k.panic("kernel BUG at drivers/iommu/amd/init.c: BUG_ON(check_feature(FEATURE_SNP))");
        }
        for (const iommu of d.iommus) {
          symbol<Fn>("clear_translation_pre_enabled")(iommu);
          symbol<Fn>("early_enable_iommu")(iommu);
        }
        return;
      }
      // old_devtb_phys = __sme_clr(entry) & PAGE_MASK, mapped through the C-bit when SME is
      // active (iommu_memremap(): encrypted when host memory encryption is on).
      const phys = k.__sme_clr((entry % 2 ** 52) - (entry % 4096));
      const old = k.sme_active() ? k.ioremap_encrypted(phys, d.dev_table_size) : phys;
      k.alloc.freePages(d.dev_table);
      d.dev_table = old;
      state.reused = old;
      k.pr_info("Reused DEV table from previous kernel.");
      for (const iommu of d.iommus) {
        symbol<Fn>("iommu_disable_command_buffer")(iommu);
        symbol<Fn>("iommu_disable_event_buffer")(iommu);
        d.iommu_enable_command_buffer(iommu);
        d.iommu_enable_event_buffer(iommu);
        d.iommu_enable_ga(iommu);
        // iommu_set_device_table() returns early in kdump: the register keeps the old table.
        d.iommu_flush_all_caches(iommu);
      }
    },
  },
});
