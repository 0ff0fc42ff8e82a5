/**
 * bnx2, the NetXtreme II driver, for the model's BCM5709 (runtime/hw/pci/nic.ts), as in 4.13.
 *
 * probe (bnx2_init_one): bnx2_init_board — DMA mask, BAR, chip id, the status + statistics
 * block with dma_alloc_coherent (the driver's first DMA-API call) — then, in a kdump kernel
 * only, bnx2_wait_dma_complete(): the crashed kernel's in-flight DMA is stopped and waited for
 * (in 4.12 and 4.13 alike, so before the IOMMU series). That wait is the hook point
 * `bnx2.bnx2_init_one.wait_dma`; the `bnx2.bnx2_init_one` hook follows it, before the net
 * device is registered. Note the order: the stats block's allocation comes first, so with
 * the series' deferred attach the device gets its new domain a moment before its DMA stops.
 *
 * open (bnx2_open), the NAPI poll and shutdown: see rxring.ts.
 *
 * @module
 */
import { NIC_REG } from "../../hw/pci/nic.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import { nic_stop_dma, type NicParams, RxRingNicDriver } from "./rxring.ts";

/** Settings a scenario gives bnx2 (the shared NIC settings). */
export type Bnx2Params = NicParams;

/** bnx2_pci_tbl, reduced: Broadcom's NetXtreme II 5706, 5708 and 5709. */
const BNX2_PCI_IDS = [0x164a, 0x164c, 0x1639];

/** bnx2_wait_dma_complete(): stop the DMA engines and wait for pending transactions (≤ 100 ms). */
export function bnx2_wait_dma_complete(k: Kernel, dev: PciDev): boolean {
  return nic_stop_dma(k, dev);
}

/** The bnx2 driver of one kernel. */
export class Bnx2Driver extends RxRingNicDriver {
  readonly name = "bnx2";

  constructor(k: Kernel, params: (devid: number) => Bnx2Params) {
    super(k, params);
  }

  matches(dev: PciDev): boolean {
    return dev.id.vendor === 0x14e4 && BNX2_PCI_IDS.includes(dev.id.device);
  }

  /** bnx2_init_one(). */
  probe(dev: PciDev): boolean {
    const k = this.k;
    const bp = this.bind(dev);
    // bnx2_init_board(): DMA mask, ioremap, chip id, bnx2_alloc_stats_blk().
    k.dma.dma_set_mask(dev, bp.p.dmaMaskBits);
    k.readl(dev.bar + NIC_REG.STATUS);
    bp.blk = k.dma.dma_alloc_coherent(dev, PAGE_SIZE, "bnx2-status-stats-blk");
    if (!bp.blk) {
      k.dev_err(dev, "Cannot allocate status/statistics block, aborting");
      return false;
    }
    // "In-flight DMA from 1st kernel could continue going in kdump kernel": wait for it.
    k.hooks.wrap("bnx2.bnx2_init_one.wait_dma", { k, dev }, () => {
      if (k.is_kdump_kernel()) bnx2_wait_dma_complete(k, dev);
    });
    k.hooks.runAll("bnx2.bnx2_init_one", { k, dev });
    k.netdev_info(
      dev,
      this.ifname(dev),
      `Broadcom NetXtreme II BCM5709 1000Base-T (C0) PCI Express found at mem ${
        dev.bar.toString(16)
      }`,
    );
    return true;
  }

  protected linkUpText(): string {
    return "NIC Copper Link is Up, 1000 Mbps full duplex";
  }
}
