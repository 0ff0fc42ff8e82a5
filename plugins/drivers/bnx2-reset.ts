/**
 * bnx2: wait for in-flight DMA to complete at probe in a kdump kernel
 *
 * The crashed kernel's bnx2 chip keeps DMAing into its old buffers: the kdump kernel's probe
 * does not reset it, and with the IOMMU series its DTE keeps translating until the driver's
 * first DMA-API call attaches the new domain. In a kdump kernel, bnx2_init_one() now stops
 * the chip's DMA engines and waits for pending transactions (bnx2_wait_dma_complete) right
 * after bnx2_init_board() — which already made that first DMA-API call (the statistics block).
 *
 * @module
 */
import { bnx2_wait_dma_complete } from "../../runtime/kernel/drivers/bnx2.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "bnx2-reset",
  title: "bnx2: wait for in-flight DMA to complete at probe in a kdump kernel",
  hooks: {
    "bnx2.bnx2_init_one": ({ k, dev }) => {
      if (k.is_kdump_kernel()) bnx2_wait_dma_complete(k, dev);
    },
  },
});
