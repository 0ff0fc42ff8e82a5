/**
 * A driver for the model's NVMe-like disk (runtime/hw/pci/disk.ts): queues allocated with
 * dma_alloc_coherent, MSI through interrupt remapping, and a synchronous block-write path
 * (submit, wait for the completion interrupt, with a timeout and a controller reset on
 * timeout) that the kdump capture uses.
 *
 * @module
 */
import {
  DISK_CQE_BYTES,
  DISK_OP,
  DISK_REG,
  DISK_SQE_BYTES,
  DISK_STATUS,
} from "../../hw/pci/disk.ts";
import type { CoherentBuf } from "../dma.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import type { Driver } from "./driver.ts";
import { dwords } from "../../hw/dwords.ts";
import { splitNumber } from "../../hw/bits.ts";

const QUEUE_DEPTH = 64;
/** PCI_CLASS_STORAGE_EXPRESS: nvme_id_table matches the whole class. */
const PCI_CLASS_STORAGE_EXPRESS = 0x010802;
/** NVMe I/O timeout (nvme_io_timeout, 30 s). */
export const NVME_IO_TIMEOUT_NS = 30_000_000_000;

/** Outcome of one block write. */
export type WriteResult = "ok" | "error" | "timeout";

interface NvmeDev {
  dev: PciDev;
  sq: CoherentBuf;
  cq: CoherentBuf;
  sqTail: number;
  cqHead: number;
  phase: number;
  nextCid: number;
  done: Map<number, number>;
  msi: { address: number; data: number };
}

/** The NVMe-like driver of one kernel. */
export class NvmeDriver implements Driver {
  readonly name = "nvme";
  private readonly devs = new Map<number, NvmeDev>();
  readonly stats = { writes: 0, errors: 0, timeouts: 0, resets: 0 };

  constructor(private readonly k: Kernel) {}

  matches(dev: PciDev): boolean {
    return dev.id.classCode === PCI_CLASS_STORAGE_EXPRESS;
  }

  /** nvme_probe() + nvme_reset_work(): controller reset, queues, MSI, enable. */
  probe(dev: PciDev): boolean {
    const k = this.k;
    dev.driver = this;
    k.dma.dma_set_mask(dev, 64);
    k.writel(2, dev.bar + DISK_REG.CTRL); // reset: the controller stops whatever it did
    const sq = k.dma.dma_alloc_coherent(dev, QUEUE_DEPTH * DISK_SQE_BYTES, "nvme-sq");
    const cq = k.dma.dma_alloc_coherent(dev, QUEUE_DEPTH * DISK_CQE_BYTES, "nvme-cq");
    if (!sq || !cq) {
      k.dev_err(dev, "failed to allocate queues");
      return false;
    }
    const nd: NvmeDev = {
      dev,
      sq,
      cq,
      sqTail: 0,
      cqHead: 0,
      phase: 1,
      nextCid: 1,
      done: new Map(),
      msi: { address: 0, data: 0 },
    };
    const msi = k.amd.irq.setupMsi(dev.devid, k.request_irq(() => this.interrupt(nd)));
    if (!msi) {
      k.dev_err(dev, "failed to set up MSI");
      return false;
    }
    nd.msi = { address: msi.address, data: msi.data };
    this.program(nd);
    this.devs.set(dev.devid, nd);
    // A 4.13 nvme probe prints nothing when all goes well (the "default/read/poll queues"
    // line of later kernels did not exist yet).
    return true;
  }

  private program(nd: NvmeDev): void {
    const k = this.k, b = nd.dev.bar;
    k.writel(nd.msi.address, b + DISK_REG.MSI_ADDR);
    k.writel(nd.msi.data, b + DISK_REG.MSI_DATA);
    const [sl, sh] = splitNumber(nd.sq.dma), [cl, ch] = splitNumber(nd.cq.dma);
    k.writel(sl, b + DISK_REG.SQ_LO);
    k.writel(sh, b + DISK_REG.SQ_HI);
    k.writel(QUEUE_DEPTH, b + DISK_REG.SQ_ENTRIES);
    k.writel(cl, b + DISK_REG.CQ_LO);
    k.writel(ch, b + DISK_REG.CQ_HI);
    k.writel(QUEUE_DEPTH, b + DISK_REG.CQ_ENTRIES);
    k.writel(1, b + DISK_REG.CTRL);
  }

  private interrupt(nd: NvmeDev): void {
    // nvme_process_cq(): consume completions whose phase bit matches.
    const k = this.k;
    for (;;) {
      const at = nd.cq.cpu + nd.cqHead * DISK_CQE_BYTES;
      if (k.mem.read32(at + 12) !== nd.phase) break;
      nd.done.set(k.mem.read32(at), k.mem.read32(at + 4));
      nd.cqHead = (nd.cqHead + 1) % QUEUE_DEPTH;
      if (nd.cqHead === 0) nd.phase ^= 1;
    }
    k.writel(nd.cqHead, nd.dev.bar + DISK_REG.CQ_HEAD);
  }

  /** nvme_shutdown(): disable the controller. */
  shutdown(dev: PciDev): void {
    if (this.devs.has(dev.devid)) this.k.writel(0, dev.bar + DISK_REG.CTRL);
  }

  /** The first disk this driver runs, if any. */
  firstDisk(): PciDev | undefined {
    return [...this.devs.values()][0]?.dev;
  }

  /**
   * Writes `blocks` 4 KiB blocks from the DMA address `dma` at `lba` and waits for the
   * completion. On timeout the controller is reset and the queues re-programmed.
   */
  writeBlocks(dev: PciDev, lba: number, dma: number, blocks: number): WriteResult {
    const k = this.k, nd = this.devs.get(dev.devid)!;
    const cid = nd.nextCid++ & 0xffff;
    const sqe = dwords(DISK_SQE_BYTES / 4);
    sqe[0] = DISK_OP.WRITE;
    sqe[1] = cid;
    sqe.set(splitNumber(lba), 2);
    sqe[4] = blocks;
    sqe.set(splitNumber(dma), 6);
    k.mem.writeDwords(nd.sq.cpu + nd.sqTail * DISK_SQE_BYTES, sqe);
    nd.sqTail = (nd.sqTail + 1) % QUEUE_DEPTH;
    k.writel(nd.sqTail, dev.bar + DISK_REG.SQ_TAIL);
    this.stats.writes++;
    const steps = k.pollWait(() => nd.done.has(cid), 100_000, NVME_IO_TIMEOUT_NS / 100_000);
    if (steps < 0) {
      this.stats.timeouts++;
      k.dev_err(dev, `I/O ${cid} QID 1 timeout, reset controller`);
      this.resetController(nd);
      return "timeout";
    }
    const status = nd.done.get(cid)!;
    nd.done.delete(cid);
    if (status !== DISK_STATUS.OK) {
      this.stats.errors++;
      k.printk("err", `print_req_error: I/O error, dev nvme0n1, sector ${lba * 8}`);
      return "error";
    }
    return "ok";
  }

  private resetController(nd: NvmeDev): void {
    const k = this.k;
    this.stats.resets++;
    k.writel(2, nd.dev.bar + DISK_REG.CTRL);
    nd.sqTail = 0;
    nd.cqHead = 0;
    nd.phase = 1;
    nd.done.clear();
    k.mem.zero(nd.cq.cpu, QUEUE_DEPTH * DISK_CQE_BYTES);
    this.program(nd);
  }
}
