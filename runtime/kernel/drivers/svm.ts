/**
 * A driver for the model's shared-virtual-memory accelerator (runtime/hw/pci/svm.ts),
 * using the AMD IOMMUv2 API the way amd_iommu_v2 users (amdkfd) do: loading the driver loads
 * amd_iommu_v2; probe calls amd_iommu_init_device (a direct-mapped domain with a GCR3 table,
 * attached to the device's group: DTE.GV=1, PPR=1) and amd_iommu_bind_pasid (the process's
 * page-table root in the GCR3 entry of its PASID), with a fault handler that faults pages
 * of the job buffer in on the device's page requests.
 *
 * The process is modelled by an x86-64 4-level page table mapping a buffer of pages; the
 * device streams through it, one page per job. Only the first pages are resident; the rest
 * are faulted in on demand through the PPR log.
 *
 * @module
 */
import { SVM_REG } from "../../hw/pci/svm.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import { entryAddress, levelIndex } from "../../hw/layouts/pte.ts";
import { splitNumber } from "../../hw/bits.ts";
import { GFP } from "../alloc.ts";
import { PPR_STATUS } from "../amd_iommu/v2.ts";
import type { ProtectionDomain } from "../amd_iommu/types.ts";
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import type { Driver } from "./driver.ts";

/** Settings of the bound process and its job. */
export interface SvmParams {
  pasid: number;
  /** Virtual address of the job buffer in the process. */
  va: number;
  /** Pages of the buffer; `resident` of them are present from the start. */
  pages: number;
  resident: number;
  /** Job period, µs. */
  intervalUs: number;
}

const X86_P = 1, X86_RW = 2, X86_US = 4;

/** The SVM accelerator driver of one kernel. */
export class SvmDriver implements Driver {
  readonly name = "svm-accel";
  /** The process's page-table root (its CR3). */
  cr3 = 0;
  domain?: ProtectionDomain;

  constructor(private readonly k: Kernel, private readonly p: SvmParams) {
    k.amd.v2.amd_iommu_v2_init(); // the driver's module depends on amd_iommu_v2
  }

  matches(dev: PciDev): boolean {
    return dev.id.vendor === 0x1002 && dev.id.device === 0x9874;
  }

  private allocTable(): number {
    const a = this.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "page-table");
    if (a === undefined) throw new Error("out of memory for a process page table");
    return a;
  }

  /**
   * Maps `va` → a new user page in the process's page table (handle_mm_fault), unless it is
   * mapped already. x86-64 4-level tables index and hold addresses as the IOMMU's tables do.
   */
  private mapUserPage(va: number): void {
    const mem = this.k.mem;
    let table = this.cr3;
    for (let level = 4; level > 1; level--) {
      const ea = table + levelIndex(va, level) * 8;
      const lo = mem.read32(ea);
      if (lo & X86_P) {
        table = entryAddress(lo, mem.read32(ea + 4));
        continue;
      }
      const next = this.allocTable();
      const [nextLo, nextHi] = splitNumber(next);
      mem.write32(ea, nextLo | X86_P | X86_RW | X86_US);
      mem.write32(ea + 4, nextHi);
      table = next;
    }
    const pte = table + levelIndex(va, 1) * 8;
    if (mem.read32(pte) & X86_P) return; // present: nothing to fault in
    const page = this.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "user-page");
    if (page === undefined) throw new Error("out of memory for a user page");
    const [lo, hi] = splitNumber(page);
    mem.write32(pte, lo | X86_P | X86_RW | X86_US);
    mem.write32(pte + 4, hi);
  }

  /** The process's fault handling (do_fault): fault in pages of the job buffer, refuse the rest. */
  private fault(address: number): number {
    const page = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
    if (page < this.p.va || page >= this.p.va + this.p.pages * PAGE_SIZE) {
      return PPR_STATUS.INVALID; // no VMA there
    }
    this.mapUserPage(page);
    return PPR_STATUS.SUCCESS;
  }

  /** probe: amd_iommu_init_device + amd_iommu_bind_pasid, then start the device. */
  probe(dev: PciDev): boolean {
    const k = this.k, d = k.amd;
    dev.driver = this;
    if (!d.check_device(dev.devid)) {
      k.dev_err(dev, "IOMMUv2 not available");
      return false;
    }
    // The process: page tables and its resident pages.
    this.cr3 = this.allocTable();
    for (let i = 0; i < this.p.resident; i++) this.mapUserPage(this.p.va + i * PAGE_SIZE);
    this.domain = d.v2.amd_iommu_init_device(dev);
    if (!this.domain) return false;
    const gcr3 = this.domain.v2!.gcr3_tbl;
    d.v2.amd_iommu_bind_pasid(dev, this.p.pasid, this.cr3, (address) => this.fault(address));
    // Program the job.
    const msi = d.irq.setupMsi(dev.devid, k.request_irq(() => {}));
    const w = (reg: number, v: number) => k.writel(v, dev.bar + reg);
    w(SVM_REG.PASID, this.p.pasid);
    const [vaLo, vaHi] = splitNumber(this.p.va);
    w(SVM_REG.JOB_VA_LO, vaLo);
    w(SVM_REG.JOB_VA_HI, vaHi);
    w(SVM_REG.JOB_PAGES, this.p.pages);
    w(SVM_REG.JOB_INTERVAL_US, this.p.intervalUs);
    if (msi) {
      w(SVM_REG.MSI_ADDR, msi.address);
      w(SVM_REG.MSI_DATA, msi.data);
    }
    w(SVM_REG.CTRL, 1);
    k.dev_info(dev, `bound PASID ${this.p.pasid} (GCR3 table at 0x${gcr3.toString(16)})`);
    return true;
  }
}
