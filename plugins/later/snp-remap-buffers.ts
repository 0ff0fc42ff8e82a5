/**
 * iommu/amd: remap the old IOMMU buffers for kdump — part of the 2025 SEV-SNP host kdump
 * series (Ashish Kalra, v6, August 2025; the reference gives no commit id for this patch).
 *
 * In a kdump kernel on an SNP host whose IOMMU still translates, init_iommu_one() does not use
 * freshly allocated command buffer, event log and completion-wait semaphore: with SNP enforced
 * the IOMMU ignores writes to their base registers and stores completion waits only inside
 * the first kernel's completion store range. It reads the bases the crashed kernel programmed
 * (command buffer, event log, completion store base) and uses those buffers — memory of the
 * crashed kernel — as its own.
 *
 * @module
 */
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { CTRL } from "../../runtime/kernel/amd_iommu/driver.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

/** Bits 51:12 of a base register's value: the buffer's physical address. */
const baseOf = (value: number) => (value % 2 ** 52) - (value % 4096);

export default definePlugin({
  id: "snp-remap-buffers",
  title: "iommu/amd: remap the old IOMMU buffers for kdump (SEV-SNP)",
  hooks: {
    "amd_iommu.init_iommu_one": ({ k, iommu }) => {
      if (!k.is_kdump_kernel()) return;
      const mmio = iommu.mmio_base;
      if (k.amd.check_feature(iommu, "SNPSup") !== 1) return;
      if (!(k.readl(mmio + MMIO.CONTROL) & (1 << CTRL.IommuEn))) return; // not pre-enabled
      const cwb = baseOf(k.readq(mmio + MMIO.EXCL_BASE));
      if (cwb === 0) return; // no completion store range: nothing was locked
      iommu.cmd_buf = baseOf(k.readq(mmio + MMIO.CMD_BUF));
      iommu.evt_buf = baseOf(k.readq(mmio + MMIO.EVT_BUF));
      iommu.cmd_sem = cwb;
    },
  },
});
