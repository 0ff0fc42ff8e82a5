/**
 * tg3, the NetXtreme (Tigon3) driver, for the model's BCM5720 (runtime/hw/pci/nic.ts).
 *
 * tg3 has no kdump-specific code: its probe (tg3_init_one) treats a chip it finds running
 * the way it treats one an option ROM (UNDI/EFI) left running — "Reset chip in case UNDI or
 * EFI driver did not shutdown": if the host-coalescing or write-DMA engine is enabled it
 * halts the chip (tg3_halt: stop the engines and wait for them, then reset). Only then comes
 * its first DMA-API call, the DMA self test's buffer (tg3_test_dma). So, unlike bnx2 (whose
 * statistics block is allocated before its kdump wait), with the series' deferred attach a
 * tg3 chip is already stopped when its new domain is attached.
 *
 * Hook point `tg3.tg3_init_one` runs after the DMA test, before the net device is
 * registered. open, the NAPI poll and shutdown: see rxring.ts.
 *
 * @module
 */
import { NIC_CTRL, NIC_REG } from "../../hw/pci/nic.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import { nic_dma_running, nic_stop_dma, type NicParams, RxRingNicDriver } from "./rxring.ts";

/** tg3_pci_tbl, reduced: the 5719 and 5720 of AMD EPYC servers' LOMs. */
const TG3_PCI_IDS = [0x1657, 0x165f];

/** TEST_BUFFER_SIZE of tg3_test_dma(). */
const TEST_BUFFER_SIZE = 0x2000;

/** tg3_halt(): stop the engines and wait for them (tg3_abort_hw), then reset the chip. */
export function tg3_halt(k: Kernel, dev: PciDev): void {
  nic_stop_dma(k, dev);
  k.writel(NIC_CTRL.SOFT_RESET, dev.bar + NIC_REG.CTRL);
  k.udelay(120); // tg3_chip_reset waits before reading the chip back
}

/** A MAC address in Broadcom's OUI (00:10:18) made from the DeviceID. */
function macOf(devid: number): string {
  const b = [0x00, 0x10, 0x18, 0x00, devid >>> 8, devid & 0xff];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** The tg3 driver of one kernel. */
export class Tg3Driver extends RxRingNicDriver {
  readonly name = "tg3";

  constructor(k: Kernel, params: (devid: number) => NicParams) {
    super(k, params);
  }

  matches(dev: PciDev): boolean {
    return dev.id.vendor === 0x14e4 && TG3_PCI_IDS.includes(dev.id.device);
  }

  /** tg3_init_one(). */
  probe(dev: PciDev): boolean {
    const k = this.k;
    const tp = this.bind(dev);
    k.dma.dma_set_mask(dev, tp.p.dmaMaskBits); // pci_set_dma_mask: no DMA-API mapping yet
    // "Reset chip in case UNDI or EFI driver did not shutdown": HOSTCC_MODE / WDMAC_MODE.
    if (nic_dma_running(k, dev)) tg3_halt(k, dev);
    // tg3_test_dma(): the first DMA-API call (the test's DMA itself is not modelled).
    const buf = k.dma.dma_alloc_coherent(dev, TEST_BUFFER_SIZE, "tg3-dma-test");
    if (!buf) {
      k.dev_err(dev, "DMA engine test failed, aborting");
      return false;
    }
    k.dma.dma_free_coherent(dev, buf);
    k.hooks.runAll("tg3.tg3_init_one", { k, dev });
    k.netdev_info(
      dev,
      this.ifname(dev),
      `Tigon3 [partno(BCM95720) rev 5720000] (PCI Express) MAC address ${macOf(dev.devid)}`,
    );
    return true;
  }

  protected linkUpText(): string {
    return "Link is up at 1000 Mbps, full duplex";
  }
}
