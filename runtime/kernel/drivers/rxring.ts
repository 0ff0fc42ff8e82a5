/**
 * What the two Broadcom Ethernet drivers of the model (bnx2, tg3) share once a chip is
 * probed: bringing an interface up (reset the chip, RX descriptor ring and buffers mapped
 * with the DMA API, MSI through interrupt remapping, host coalescing and statistics DMA),
 * the NAPI poll that unmaps consumed buffers and posts fresh ones, the ->shutdown method,
 * and stopping a chip's DMA the way both drivers do before a reset (stop the engines, then
 * poll until no transaction is pending).
 *
 * The drivers differ in their probe — what they do to a chip found running, and when their
 * first DMA-API call comes — which is where they live (bnx2.ts, tg3.ts).
 *
 * @module
 */
import { NIC_CTRL, NIC_REG, NIC_RX_DESC_BYTES, NIC_STATUS } from "../../hw/pci/nic.ts";
import { hi32, lo32, splitNumber } from "../../hw/bits.ts";
import { getOrder, GFP } from "../alloc.ts";
import type { CoherentBuf } from "../dma.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import type { Driver } from "./driver.ts";

/** Settings a scenario gives a NIC driver (ethtool -G / ip link mtu, coalescing). */
export interface NicParams {
  /** RX ring entries (bnx2 allows up to 2040). */
  rxRingSize: number;
  /** RX buffer bytes (MTU + headroom). */
  rxBufBytes: number;
  /** Statistics DMA period, µs (stats_ticks; bnx2 default 1 s). */
  statsTicksUs: number;
  /** Host coalescing, µs (rx_ticks; bnx2 default 18). */
  coalTicksUs: number;
  /** DMA mask bits the driver sets (64 for 5706/5709/5720, 40 for 5708). */
  dmaMaskBits: number;
}

/** One posted RX buffer: its physical address and the DMA address the chip was given. */
export interface RxSlot {
  phys: number;
  dma: number;
}

/** Per-device state (struct bnx2 / struct tg3, reduced). */
export interface NicDev {
  dev: PciDev;
  /** The interface's settings. */
  p: NicParams;
  /** Status + statistics block (one coherent allocation). */
  blk?: CoherentBuf;
  ring?: CoherentBuf;
  /** Physical address of each posted RX buffer, by ring index (`bufs` of them). */
  bufPhys: number[];
  /** DMA address of each posted RX buffer, by ring index. */
  bufDma: number[];
  /** Buffers posted. */
  bufs: number;
  /** The posted buffers as objects (made on each access; for tests and scripts). */
  readonly slots: readonly RxSlot[];
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
  /** This device's NAPI poll, as scheduled work (made once). */
  poll: () => void;
}

/** Bytes of the status block at the start of the status + statistics allocation. */
const STATUS_BLK_BYTES = 64;

/**
 * Stops a chip's DMA engines and waits for its pending transactions, polling every 1 ms up to
 * 100 times (bnx2_wait_dma_complete; tg3_halt's tg3_abort_hw polls its blocks the same way).
 * Returns false if transactions were still pending at the end.
 */
export function nic_stop_dma(k: Kernel, dev: PciDev): boolean {
  k.writel(1, dev.bar + NIC_REG.DMA_STOP);
  k.readl(dev.bar + NIC_REG.DMA_STOP);
  k.udelay(5);
  for (let i = 0; i < 100; i++) {
    k.spend(1_000_000); // msleep(1)
    if (!(k.readl(dev.bar + NIC_REG.STATUS) & NIC_STATUS.PENDING)) return true;
  }
  return false;
}

/** Whether the chip's DMA engines are running (bnx2's and tg3's mode registers' enable bits). */
export function nic_dma_running(k: Kernel, dev: PciDev): boolean {
  return (k.readl(dev.bar + NIC_REG.STATUS) & NIC_STATUS.ACTIVE) !== 0;
}

/** The part of a Broadcom NIC driver that runs once its probe has bound a chip. */
export abstract class RxRingNicDriver implements Driver {
  abstract readonly name: string;
  readonly devs = new Map<number, NicDev>();

  constructor(
    protected readonly k: Kernel,
    private readonly params: (devid: number) => NicParams,
  ) {}

  abstract matches(dev: PciDev): boolean;
  abstract probe(dev: PciDev): boolean;

  /** The text the driver prints when the link comes up. */
  protected abstract linkUpText(): string;

  /** Creates the per-device state at probe. */
  protected bind(dev: PciDev): NicDev {
    dev.driver = this;
    const p = this.params(dev.devid);
    const np: NicDev = {
      dev,
      p,
      bufPhys: [],
      bufDma: [],
      bufs: 0,
      get slots(): RxSlot[] {
        return Array.from({ length: this.bufs }, (_, i) => ({
          phys: this.bufPhys[i],
          dma: this.bufDma[i],
        }));
      },
      prod: 0,
      cons: 0,
      up: false,
      rxFrames: 0,
      rxDropped: 0,
      napiScheduled: false,
      poll: () => this.napiPoll(np),
    };
    this.devs.set(dev.devid, np);
    return np;
  }

  /** The interface name (`eth0`, ...) of a bound device, in probe order. */
  protected ifname(dev: PciDev): string {
    return `eth${[...this.devs.keys()].indexOf(dev.devid)}`;
  }

  /** Resets the chip: stop its DMA and wait for pending transactions, then a soft reset. */
  protected reset_chip(dev: PciDev): void {
    nic_stop_dma(this.k, dev);
    this.k.writel(NIC_CTRL.SOFT_RESET, dev.bar + NIC_REG.CTRL);
    this.k.udelay(15);
  }

  /** ndo_open: reset, rings, buffers, MSI, start. */
  open(dev: PciDev): boolean {
    const k = this.k, np = this.devs.get(dev.devid)!;
    this.reset_chip(dev);
    np.blk ??= k.dma.dma_alloc_coherent(dev, 4096, `${this.name}-status-stats-blk`);
    const n = np.p.rxRingSize;
    np.ring = k.dma.dma_alloc_coherent(dev, n * NIC_RX_DESC_BYTES, `${this.name}-rx-ring`);
    if (!np.ring || !np.blk) return false;
    for (let i = 0; i < n; i++) {
      if (!this.allocRxBuf(np)) return false;
      np.bufs++;
      np.bufPhys.push(this.freshPhys);
      np.bufDma.push(this.freshDma);
      this.writeDesc(np, i, this.freshDma);
    }
    const msi = k.amd.irq.setupMsi(dev.devid, k.request_irq(() => this.interrupt(np)));
    if (!msi) {
      k.dev_err(dev, "Cannot set up MSI");
      return false;
    }
    const w = (reg: number, v: number) => k.writel(v, dev.bar + reg);
    w(NIC_REG.MSI_ADDR, msi.address);
    w(NIC_REG.MSI_DATA, msi.data);
    const [slo, shi] = splitNumber(np.blk.dma);
    w(NIC_REG.STATUS_BLK_LO, slo);
    w(NIC_REG.STATUS_BLK_HI, shi);
    const [tlo, thi] = splitNumber(np.blk.dma + STATUS_BLK_BYTES);
    w(NIC_REG.STATS_BLK_LO, tlo);
    w(NIC_REG.STATS_BLK_HI, thi);
    w(NIC_REG.STATS_TICKS_US, np.p.statsTicksUs);
    w(NIC_REG.COAL_TICKS_US, np.p.coalTicksUs);
    const [rlo, rhi] = splitNumber(np.ring.dma);
    w(NIC_REG.RX_RING_LO, rlo);
    w(NIC_REG.RX_RING_HI, rhi);
    w(NIC_REG.RX_RING_ENTRIES, n);
    np.prod = n - 1; // all but one descriptor posted
    w(NIC_REG.RX_PROD, np.prod);
    w(NIC_REG.CTRL, NIC_CTRL.ENABLE | NIC_CTRL.INT_EN);
    np.up = true;
    k.netdev_info(dev, this.ifname(dev), this.linkUpText());
    return true;
  }

  /** ->shutdown: close a running interface (reset the chip). */
  shutdown(dev: PciDev): void {
    const np = this.devs.get(dev.devid);
    if (!np?.up) return;
    np.up = false;
    this.reset_chip(dev);
  }

  /** The buffer {@link allocRxBuf} got last. */
  private freshPhys = 0;
  private freshDma = 0;

  /** A fresh RX buffer, mapped (in freshPhys / freshDma); false if none could be had. */
  private allocRxBuf(np: NicDev): boolean {
    const k = this.k;
    const phys = k.alloc.allocPages(
      GFP.KERNEL,
      getOrder(np.p.rxBufBytes),
      "rx-buffer",
      np.dev.devid,
    );
    if (phys === undefined) return false;
    const dma = k.dma.dma_map_single(np.dev, phys, np.p.rxBufBytes, "from-device");
    if (dma === undefined) {
      k.alloc.freePages(phys);
      return false;
    }
    this.freshPhys = phys;
    this.freshDma = dma;
    return true;
  }

  /** The descriptor being written (writeDwords copies it). */
  private readonly desc = new Uint32Array(NIC_RX_DESC_BYTES / 4);

  private writeDesc(np: NicDev, i: number, dma: number): void {
    const at = np.ring!.cpu + i * NIC_RX_DESC_BYTES;
    const d = this.desc;
    d[0] = lo32(dma);
    d[1] = hi32(dma);
    d[2] = np.p.rxBufBytes;
    d[3] = 0;
    this.k.mem.writeDwords(at, d);
  }

  /** The label of NAPI polls' events. */
  private get napiLabel(): string {
    return this.napiLabelText ??= `${this.name}-napi`;
  }
  private napiLabelText?: string;

  /** The MSI handler: napi_schedule() (nothing when a poll is already scheduled or running). */
  private interrupt(np: NicDev): void {
    if (np.napiScheduled) return;
    np.napiScheduled = true;
    this.k.schedule(2_000, np.poll, this.napiLabel);
  }

  /** The chip's RX consumer index as its last status block says. */
  private hwCons(np: NicDev): number {
    return this.k.mem.read32(np.blk!.cpu + 4) % np.p.rxRingSize;
  }

  /**
   * The NAPI poll: consume completed RX buffers (a budget of 64), post fresh ones, ring the
   * doorbell. When no fresh buffer can be had (no pages, or -ENOMEM from the IOVA allocator)
   * the frame is dropped and its buffer, still mapped, goes back on the ring
   * (bnx2_reuse_rx_data). Polls again while work is left, else napi_complete.
   */
  private napiPoll(np: NicDev): void {
    const k = this.k;
    if (!np.up || !np.blk) {
      np.napiScheduled = false;
      return;
    }
    const n = np.p.rxRingSize;
    const hwCons = this.hwCons(np);
    let work = 0;
    while (np.cons !== hwCons && work < 64) {
      const c = np.cons;
      if (this.allocRxBuf(np)) {
        const phys = this.freshPhys, dma = this.freshDma;
        k.dma.dma_unmap_single(np.dev, np.bufDma[c], np.p.rxBufBytes, "from-device");
        k.alloc.freePages(np.bufPhys[c]); // the skb goes up the stack and is freed
        np.bufPhys[c] = phys;
        np.bufDma[c] = dma;
        this.writeDesc(np, c, dma);
        np.rxFrames++;
      } else np.rxDropped++;
      np.cons = (np.cons + 1) % n;
      np.prod = (np.prod + 1) % n;
      work++;
    }
    if (work) k.writel(np.prod, np.dev.bar + NIC_REG.RX_PROD);
    if (np.up && np.cons !== this.hwCons(np)) {
      k.schedule(2_000, np.poll, this.napiLabel);
    } else np.napiScheduled = false; // napi_complete_done
  }
}
