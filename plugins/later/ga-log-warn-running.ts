/**
 * iommu/amd: Restore GA log/tail pointer on host resume — a8d4a37d1bb9 (Maxim Levitsky, 2021;
 * not a kdump fix: the change whose check the 2022 kdump report tripped over).
 *
 * iommu_ga_log_enable() now programs the GA log's base and tail address itself (so a resumed
 * host gets them back), after a check that the log is not running already — which warns: a
 * running log is WARN_ON(status & MMIO_STATUS_GALOG_RUN_MASK), and the function returns
 * without touching it. In a kdump kernel that finds the crashed kernel's GA log still running,
 * that is the "WARNING: … iommu_ga_log_enable" of the report.
 *
 * @module
 */
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { CTRL } from "../../runtime/kernel/amd_iommu/driver.ts";
import { LOOP_TIMEOUT } from "../../runtime/kernel/amd_iommu/types.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

/** GA_LOG_SIZE_512: the length field Linux writes (8, bits 59:56). */
const GA_LOG_SIZE_512 = 8 * 2 ** 56;

export default definePlugin({
  id: "ga-log-warn-running",
  title: "iommu/amd: Restore GA log/tail pointer on host resume",
  hooks: {
    "amd_iommu.iommu_ga_log_enable": ({ k, iommu }) => {
      const d = k.amd;
      if (iommu.ga_log === undefined || iommu.ga_log_tail === undefined) return;
      if (d.ga_log_running(iommu)) {
        k.printk("warn", "WARNING: CPU: 0 PID: 1 at drivers/iommu/amd/init.c iommu_ga_log_enable");
        return;
      }
      k.writeq(k.__sme_set(iommu.ga_log) + GA_LOG_SIZE_512, iommu.mmio_base + MMIO.GA_LOG_BASE);
      k.writeq(k.__sme_set(iommu.ga_log_tail), iommu.mmio_base + MMIO.GA_LOG_TAIL);
      k.writel(0, iommu.mmio_base + MMIO.GA_HEAD);
      k.writel(0, iommu.mmio_base + MMIO.GA_TAIL);
      d.iommu_feature_enable(iommu, CTRL.GAIntEn);
      d.iommu_feature_enable(iommu, CTRL.GALogEn);
      if (k.pollWait(() => d.ga_log_running(iommu), 1000, LOOP_TIMEOUT) < 0) {
        k.printk("warn", "WARNING: CPU: 0 PID: 1 at drivers/iommu/amd/init.c iommu_ga_log_enable");
      }
    },
  },
});
