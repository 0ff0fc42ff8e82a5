/**
 * iommu/amd: Skip enabling command/event buffers for kdump — 9be15fbfc6c5 (Ashish Kalra, 2025
 * SEV-SNP host kdump series; taken into the 5.10–6.12 stable trees and reverted from them in
 * January 2026).
 *
 * With SNP enforcement left on by the crashed kernel the IOMMU ignores writes to the command
 * buffer and event log base registers, and the kdump kernel reuses those buffers anyway
 * (snp-remap-buffers). So in a kdump kernel iommu_enable_command_buffer() and
 * iommu_enable_event_buffer() no longer write the base registers: they only reset head and
 * tail and turn the buffer on. Whatever the register holds — the previous kernel's buffer —
 * is what the IOMMU reads.
 *
 * @module
 */
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "snp-skip-enable-buffers",
  title: "iommu/amd: Skip enabling command/event buffers for kdump",
  after: ["snp-remap-buffers"],
  hooks: {
    "amd_iommu.iommu_enable_command_buffer": ({ k, iommu }, next) => {
      if (!k.is_kdump_kernel()) return next();
      k.amd.amd_iommu_reset_cmd_buffer(iommu); // the base register is left as it is
    },
    "amd_iommu.iommu_enable_event_buffer": ({ k, iommu }, next) => {
      if (!k.is_kdump_kernel()) return next();
      k.amd.iommu_start_event_buffer(iommu); // the base register is left as it is
    },
  },
});
