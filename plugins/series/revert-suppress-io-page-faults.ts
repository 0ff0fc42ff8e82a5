/**
 * Revert "iommu/amd: Suppress IO_PAGE_FAULTs in kdump kernel"
 *
 * The reverted patch had init_device_table_dma() set DTE bit 98 (SA, "suppress all I/O page
 * fault events") on every DeviceID of a kdump kernel, and set_dte_entry() clear it again
 * whenever it rewrote an entry. With the series in-flight DMA keeps translating through the
 * copied tables instead, so faults are reported normally again: SA is set nowhere and
 * set_dte_entry() only replaces the domain ID.
 *
 * @module
 */
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "revert-suppress-io-page-faults",
  title: 'Revert "iommu/amd: Suppress IO_PAGE_FAULTs in kdump kernel"',
  hooks: {
    "amd_iommu.init_device_table_dma.bits": (bits) => bits.filter((b) => b !== "SA"),
    "amd_iommu.set_dte_entry.q1_clear": (fields) => fields.filter((f) => f !== "SA"),
  },
});
