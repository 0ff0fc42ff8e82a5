/**
 * A bnx2-like network driver for the model's NIC (runtime/hw/pci/nic.ts).
 *
 * probe (bnx2_init_one): bnx2_init_board — DMA mask, BAR, the status + statistics block
 * with dma_alloc_coherent (the driver's first DMA-API call) — then the `bnx2.bnx2_init_one`
 * hook point, then the net device is registered. The chip is not reset at probe: in a kdump
 * kernel its DMA from the crashed kernel keeps running (the bnx2 reset is a driver plugin).
 *
 * open (bnx2_open): bnx2_reset_chip (stop DMA, wait for pending transactions, soft reset),
 * RX descriptor ring and buffers mapped with the DMA API, MSI through interrupt
 * remapping, host coalescing and statistics DMA started. A NAPI poll, run after each
 * interrupt, unmaps consumed buffers and posts fresh ones.
 *
 * @module
 */
import { NIC_CTRL, NIC_REG, NIC_RX_DESC_BYTES, NIC_STATUS } from "../../hw/pci/nic.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import { splitNumber } from "../../hw/bits.ts";
import { getOrder, GFP } from "../alloc.ts";
import type { CoherentBuf } from "../dma.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import type { Driver } from "./driver.ts";

/** Settings a scenario gives the driver (ethtool -G / ip link mtu, coalescing). */
export interface Bnx2Params {
  /** RX ring entries (bnx2 allows up to 2040). */
  rxRingSize: number;
  /** RX buffer bytes (MTU + headroom). */
  rxBufBytes: number;
  /** Statistics DMA period, µs (stats_ticks; bnx2 default 1 s). */
  statsTicksUs: number;
  /** Host coalescing, µs (rx_ticks; bnx2 default 18). */
  coalTicksUs: number;
  /** DMA mask bits the driver sets (64 for 5706/5709, 40 for 5708). */
  dmaMaskBits: number;
}

interface RxSlot {
  phys: number;
  dma: number;
}

/** Per-device state (struct bnx2). */
export interface Bnx2Dev {
  dev: PciDev;
  /** The interface's settings. */
  p: Bnx2Params;
  /** Status + statistics block (one coherent allocation). */
  blk?: CoherentBuf;
  ring?: CoherentBuf;
  slots: RxSlot[];
  prod: number;
  cons: number;
  up: boolean;
  rxFrames: number;
  /** Frames dropped because no fresh buffer could be allocated or mapped (rx_dropped). */
  rxDropped: number;
  /**
   * NAPI_STATE_SCHED: a poll is scheduled or running. An interrupt while it is set schedules
   * nothing (napi_schedule), so a poll never runs inside another one — the DMA-API calls a
   * poll makes spend CPU time, during which the chip's next interrupt arrives.
   */
  napiScheduled: boolean;
}

const STATUS_BLK_BYTES = 64;

/** bnx2_wait_dma_complete(): stop the DMA engines and wait for pending transactions (≤ 100 ms). */
export function bnx2_wait_dma_complete(k: Kernel, dev: PciDev): boolean {
  k.writel(1, dev.bar + NIC_REG.DMA_STOP);
  k.readl(dev.bar + NIC_REG.DMA_STOP);
  k.udelay(5);
  for (let i = 0; i < 100; i++) {
    k.spend(1_000_000); // msleep(1)
    if (!(k.readl(dev.bar + NIC_REG.STATUS) & NIC_STATUS.PENDING)) return true;
  }
  return false;
}

/** The bnx2-like driver of one kernel. */
export class Bnx2Driver implements Driver {
  readonly name = "bnx2";
  readonly devs = new Map<number, Bnx2Dev>();

  constructor(private readonly k: Kernel, private readonly params: (devid: number) => Bnx2Params) {}

  matches(dev: PciDev): boolean {
    return dev.kind === "nic";
  }

  /** bnx2_init_one(). */
  probe(dev: PciDev): boolean {
    const k = this.k;
    dev.driver = this;
    const bp: Bnx2Dev = {
      dev,
      p: this.params(dev.devid),
      slots: [],
      prod: 0,
      cons: 0,
      up: false,
      rxFrames: 0,
      rxDropped: 0,
      napiScheduled: false,
    };
    this.devs.set(dev.devid, bp);
    // bnx2_init_board(): DMA mask, ioremap, chip id, bnx2_alloc_stats_blk().
    k.dma.dma_set_mask(dev, bp.p.dmaMaskBits);
    k.readl(dev.bar + NIC_REG.STATUS);
    bp.blk = k.dma.dma_alloc_coherent(dev, PAGE_SIZE, "bnx2-status-stats-blk");
    if (!bp.blk) {
      k.dev_err(dev, "Cannot allocate status/statistics block, aborting");
      return false;
    }
    k.hooks.runAll("bnx2.bnx2_init_one", { k, dev });
    k.dev_info(
      dev,
      `eth${
        this.devs.size - 1
      }: Broadcom NetXtreme II BCM5709 1000Base-T (C0) PCI Express found at mem ${
        dev.bar.toString(16)
      }`,
    );
    return true;
  }

  /** bnx2_reset_chip(): wait for DMA to complete, then a soft reset. */
  private bnx2_reset_chip(dev: PciDev): void {
    bnx2_wait_dma_complete(this.k, dev);
    this.k.writel(NIC_CTRL.SOFT_RESET, dev.bar + NIC_REG.CTRL);
    this.k.udelay(15);
  }

  /** bnx2_open(): reset, rings, buffers, MSI, start. */
  open(dev: PciDev): boolean {
    const k = this.k, bp = this.devs.get(dev.devid)!;
    this.bnx2_reset_chip(dev);
    const n = bp.p.rxRingSize;
    bp.ring = k.dma.dma_alloc_coherent(dev, n * NIC_RX_DESC_BYTES, "bnx2-rx-ring");
    if (!bp.ring || !bp.blk) return false;
    for (let i = 0; i < n; i++) {
      const slot = this.allocRxBuf(bp);
      if (!slot) return false;
      bp.slots.push(slot);
      this.writeDesc(bp, i, slot);
    }
    const msi = k.amd.irq.setupMsi(dev.devid, k.request_irq(() => this.interrupt(bp)));
    if (!msi) {
      k.dev_err(dev, "Cannot set up MSI");
      return false;
    }
    const w = (reg: number, v: number) => k.writel(v, dev.bar + reg);
    w(NIC_REG.MSI_ADDR, msi.address);
    w(NIC_REG.MSI_DATA, msi.data);
    const [slo, shi] = splitNumber(bp.blk.dma);
    w(NIC_REG.STATUS_BLK_LO, slo);
    w(NIC_REG.STATUS_BLK_HI, shi);
    const [tlo, thi] = splitNumber(bp.blk.dma + STATUS_BLK_BYTES);
    w(NIC_REG.STATS_BLK_LO, tlo);
    w(NIC_REG.STATS_BLK_HI, thi);
    w(NIC_REG.STATS_TICKS_US, bp.p.statsTicksUs);
    w(NIC_REG.COAL_TICKS_US, bp.p.coalTicksUs);
    const [rlo, rhi] = splitNumber(bp.ring.dma);
    w(NIC_REG.RX_RING_LO, rlo);
    w(NIC_REG.RX_RING_HI, rhi);
    w(NIC_REG.RX_RING_ENTRIES, n);
    bp.prod = n - 1; // all but one descriptor posted
    w(NIC_REG.RX_PROD, bp.prod);
    w(NIC_REG.CTRL, NIC_CTRL.ENABLE | NIC_CTRL.INT_EN);
    bp.up = true;
    k.dev_info(
      dev,
      `eth${
        [...this.devs.keys()].indexOf(dev.devid)
      }: NIC Copper Link is Up, 1000 Mbps full duplex`,
    );
    return true;
  }

  /** bnx2_shutdown(): close a running interface (bnx2_close → bnx2_shutdown_chip). */
  shutdown(dev: PciDev): void {
    const bp = this.devs.get(dev.devid);
    if (!bp?.up) return;
    bp.up = false;
    this.bnx2_reset_chip(dev);
  }

  private allocRxBuf(bp: Bnx2Dev): RxSlot | undefined {
    const k = this.k;
    const phys = k.alloc.allocPages(
      GFP.KERNEL,
      getOrder(bp.p.rxBufBytes),
      "rx-buffer",
      bp.dev.devid,
    );
    if (phys === undefined) return undefined;
    const dma = k.dma.dma_map_single(bp.dev, phys, bp.p.rxBufBytes, "from-device");
    if (dma === undefined) {
      k.alloc.freePages(phys);
      return undefined;
    }
    return { phys, dma };
  }

  private writeDesc(bp: Bnx2Dev, i: number, s: RxSlot): void {
    const at = bp.ring!.cpu + i * NIC_RX_DESC_BYTES;
    this.k.mem.writeDwords(at, [...splitNumber(s.dma), bp.p.rxBufBytes, 0]);
  }

  /** The MSI handler: napi_schedule() (nothing when a poll is already scheduled or running). */
  private interrupt(bp: Bnx2Dev): void {
    if (bp.napiScheduled) return;
    bp.napiScheduled = true;
    this.k.schedule(2_000, () => this.napiPoll(bp), "bnx2-napi");
  }

  /** The chip's RX consumer index as its last status block says. */
  private hwCons(bp: Bnx2Dev): number {
    return this.k.mem.read32(bp.blk!.cpu + 4) % bp.p.rxRingSize;
  }

  /**
   * bnx2_poll(): consume completed RX buffers (a budget of 64), post fresh ones, ring the
   * doorbell. When no fresh buffer can be had (bnx2_alloc_rx_data fails: no pages, or
   * -ENOMEM from the IOVA allocator) the frame is dropped and its buffer, still mapped, goes
   * back on the ring (bnx2_reuse_rx_data). Polls again while work is left, else napi_complete.
   */
  private napiPoll(bp: Bnx2Dev): void {
    const k = this.k;
    if (!bp.up || !bp.blk) {
      bp.napiScheduled = false;
      return;
    }
    const n = bp.p.rxRingSize;
    const hwCons = this.hwCons(bp);
    let work = 0;
    while (bp.cons !== hwCons && work < 64) {
      const s = bp.slots[bp.cons];
      const fresh = this.allocRxBuf(bp);
      if (fresh) {
        k.dma.dma_unmap_single(bp.dev, s.dma, bp.p.rxBufBytes, "from-device");
        k.alloc.freePages(s.phys); // the skb goes up the stack and is freed
        bp.slots[bp.cons] = fresh;
        this.writeDesc(bp, bp.cons, fresh);
        bp.rxFrames++;
      } else bp.rxDropped++;
      bp.cons = (bp.cons + 1) % n;
      bp.prod = (bp.prod + 1) % n;
      work++;
    }
    if (work) k.writel(bp.prod, bp.dev.bar + NIC_REG.RX_PROD);
    if (bp.up && bp.cons !== this.hwCons(bp)) {
      k.schedule(2_000, () => this.napiPoll(bp), "bnx2-napi");
    } else bp.napiScheduled = false; // napi_complete_done
  }
}
