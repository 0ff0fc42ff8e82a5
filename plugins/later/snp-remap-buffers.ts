/**
 * iommu/amd: Add support to remap/unmap IOMMU buffers for kdump — part of the 2025 SEV-SNP host
 * kdump series (Ashish Kalra, v6, August 2025; our reference gives no commit id for it).
 *
 * A kdump kernel no longer uses freshly allocated IOMMU buffers: on an SNP host the IOMMU
 * ignores writes to their base registers, and "this approach is now used for kdump boot
 * regardless of whether SNP is enabled". init_iommu_one() reads the command buffer and event
 * log bases back from the registers (bits 51:12) and maps those buffers — the crashed kernel's
 * memory — as its own (iommu_memremap(): through the C-bit when SME is active). The
 * completion-wait semaphore is reused only with SNP, from the exclusion base register (the
 * completion store range); without SNP a new one is allocated, as before.
 *
 * @module
 */
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import type { Kernel } from "../../runtime/kernel/kernel.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

/** Bits 51:12 of a base register's value (PM_ADDR_MASK). */
const baseOf = (value: number) => (value % 2 ** 52) - (value % 4096);

/** iommu_memremap(): the old buffer at `pa` mapped, encrypted when SME is active. */
const iommu_memremap = (k: Kernel, pa: number, size: number) =>
  k.sme_active() ? k.ioremap_encrypted(k.__sme_clr(pa), size) : pa;

interface State {
  /** The pr_info_once() lines printed already. */
  said: Set<string>;
}

export default definePlugin<State>({
  id: "snp-remap-buffers",
  title: "iommu/amd: Add support to remap/unmap IOMMU buffers for kdump",
  state: () => ({ said: new Set() }),
  hooks: {
    "amd_iommu.init_iommu_one": ({ k, iommu, state }) => {
      if (!k.is_kdump_kernel()) return;
      const once = (line: string) => {
        if (!state.said.has(line)) k.pr_info(line), state.said.add(line);
      };
      const mmio = iommu.mmio_base;
      if (k.amd.check_feature(iommu, "SNPSup") === 1) {
        // With SNP the exclusion base register holds the completion wait buffer's address.
        once("AMD-Vi: Re-using CWB buffers from the previous kernel");
        iommu.cmd_sem = iommu_memremap(k, baseOf(k.readq(mmio + MMIO.EXCL_BASE)), 4096);
      }
      once("AMD-Vi: Re-using command buffer from the previous kernel");
      iommu.cmd_buf = iommu_memremap(k, baseOf(k.readq(mmio + MMIO.CMD_BUF)), 8192);
      once("AMD-Vi: Re-using event buffer from the previous kernel");
      iommu.evt_buf = iommu_memremap(k, baseOf(k.readq(mmio + MMIO.EVT_BUF)), 8192);
    },
  },
});
