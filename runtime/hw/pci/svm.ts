/**
 * A shared-virtual-memory accelerator: a device that works in a process's address space
 * through a PASID (guest translation, DTE.GV=1), with ATS and PRI. Every `JOB_INTERVAL_US`
 * (streaming through `JOB_PAGES` pages of the buffer, one page per job)
 * it writes a result block at a virtual address of the bound process. It first asks the
 * IOMMU for a translation (ATS); when that fails it sends a page request (PRI) and waits for
 * the answer (COMPLETE_PPR_REQUEST): success → retry, invalid/failure → drop the job; no
 * answer within PRI_TIMEOUT_NS → ask again. While a page request is outstanding the device
 * issues no further work.
 *
 * @module
 */
import { type DeviceConfig, DmaDevice, type PciIdentity } from "./device.ts";
import { dwordsOf } from "../dwords.ts";

/** Register offsets of the accelerator's BAR0. */
export const SVM_REG = {
  /** bit0 ENABLE. */
  CTRL: 0x00,
  PASID: 0x04,
  JOB_VA_LO: 0x08,
  JOB_VA_HI: 0x0c,
  JOB_INTERVAL_US: 0x10,
  MSI_ADDR: 0x14,
  MSI_DATA: 0x18,
  /** Read-only: page requests outstanding. */
  PRI_OUTSTANDING: 0x1c,
  /** Pages of the job buffer: job n writes to JOB_VA + (n mod JOB_PAGES) pages (0 = 1). */
  JOB_PAGES: 0x20,
} as const;

/** Page requests the accelerator sends for one job before it gives up on it. */
const MAX_PRI_ROUNDS = 4;
/**
 * How long the accelerator waits for the answer to a page request before it sends it again.
 * PCIe leaves a PRI response timeout to the device; 100 ms is the model's choice (a device
 * that waited forever would never notice a request lost in a log nobody reads).
 */
const PRI_TIMEOUT_NS = 100_000_000;

/** A PASID-capable accelerator. */
export class SvmDevice extends DmaDevice {
  readonly barSize = 0x1000;
  /**
   * An APU's integrated GPU, the kind of device amdkfd drives through amd_iommu_v2 (PASID,
   * ATS, PRI): Carrizo's, 1002:9874, VGA class.
   */
  readonly id: PciIdentity = { vendor: 0x1002, device: 0x9874, classCode: 0x030000 };
  private nextTag = 1;
  private waiting = new Map<number, () => void>();
  readonly stats = {
    jobs: 0,
    atsFailures: 0,
    pageRequests: 0,
    pprSuccess: 0,
    /** Answers other than success; each drops its job. */
    pprRefused: 0,
    /** Jobs dropped because translation kept failing after successful page requests. */
    gaveUp: 0,
    /** Page requests that got no answer in time and were sent again. */
    priTimeouts: 0,
  };

  constructor(override readonly cfg: DeviceConfig) {
    super(cfg, 0x24 / 4);
  }

  write32(offset: number, value: number): void {
    const i = offset >>> 2;
    if (i >= this.regs.length || offset === SVM_REG.PRI_OUTSTANDING) return;
    const was = this.regs[SVM_REG.CTRL >>> 2] & 1;
    this.regs[i] = value >>> 0;
    if (offset === SVM_REG.CTRL && !was && value & 1) this.scheduleJob();
  }

  override read32(offset: number): number {
    if (offset === SVM_REG.PRI_OUTSTANDING) return this.waiting.size;
    return super.read32(offset);
  }

  protected override onReset(): void {
    this.waiting.clear();
  }

  private scheduleJob(): void {
    const us = this.regs[SVM_REG.JOB_INTERVAL_US >>> 2] || 100;
    this.schedule(us * 1000, () => this.runJob(), "job");
  }

  private runJob(): void {
    if (!(this.regs[SVM_REG.CTRL >>> 2] & 1) || this.halted) return;
    const pasid = this.regs[SVM_REG.PASID >>> 2];
    const pages = this.regs[SVM_REG.JOB_PAGES >>> 2] || 1;
    const va = this.addr64(SVM_REG.JOB_VA_LO) + (this.stats.jobs % pages) * 4096;
    let rounds = 0;
    const attempt = () => {
      const t = this.bus.atsTranslate(this.devid, va, true, pasid);
      if (t.kind !== "abort") {
        this.stats.jobs++;
        this.dmaWrite(va, dwordsOf([0x5a5a0000 | (this.stats.jobs & 0xffff), pasid]), pasid);
        this.sendMsi(SVM_REG.MSI_ADDR, SVM_REG.MSI_DATA);
        return this.scheduleJob();
      }
      this.stats.atsFailures++;
      // PCIe PRI leaves it to the device how often it asks again when a page request was
      // answered with success but the translation still fails. The model gives up on the job
      // after MAX_PRI_ROUNDS requests (the most plausible reading: unbounded, the device and
      // the IOMMU would livelock).
      if (++rounds > MAX_PRI_ROUNDS) {
        this.stats.gaveUp++;
        return this.scheduleJob();
      }
      request();
    };
    // If the IOMMU refuses the request, or nobody answers it, no answer comes: after
    // PRI_TIMEOUT_NS the device sends the request again (it keeps waiting meanwhile).
    const request = () => {
      const tag = this.nextTag++ & 0x1ff;
      this.stats.pageRequests++;
      this.waiting.set(tag, attempt);
      this.bus.pageRequest(this.devid, pasid, va, true, tag);
      this.schedule(PRI_TIMEOUT_NS, () => {
        if (!this.waiting.delete(tag)) return; // answered
        this.stats.priTimeouts++;
        if (this.regs[SVM_REG.CTRL >>> 2] & 1 && !this.halted) request();
      }, "pri-timeout");
    };
    attempt();
  }

  /** PRI response: success → retry the translation; anything else → drop the job. */
  pprResponse(_pasid: number, tag: number, status: number): void {
    const retry = this.waiting.get(tag);
    if (!retry) return;
    this.waiting.delete(tag);
    if (status === 0) {
      this.stats.pprSuccess++;
      retry();
    } else {
      this.stats.pprRefused++;
      this.scheduleJob();
    }
  }
}
