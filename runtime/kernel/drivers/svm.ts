/**
 * A driver for the model's shared-virtual-memory accelerator (runtime/hw/pci/svm.ts),
 * using the AMD IOMMUv2 API the way amd_iommu_v2 users do: amd_iommu_init_device (a
 * direct-mapped domain with a GCR3 table, attached to the device's group: DTE.GV=1, PPR=1),
 * amd_iommu_bind_pasid (the process's page-table root in the GCR3 entry of its PASID), and a
 * PPR handler that faults pages in on the device's page requests.
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
import { attach_device, domain_id_alloc } from "../amd_iommu/domain.ts";
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

  constructor(private readonly k: Kernel, private readonly p: SvmParams) {}

  matches(dev: PciDev): boolean {
    return dev.kind === "svm";
  }

  /** A zeroed page-table page, or undefined when the allocator has none (-ENOMEM). */
  private allocTable(): number | undefined {
    return this.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "page-table");
  }

  /**
   * Maps `va` → a new user page in the process's page table (handle_mm_fault). x86-64
   * 4-level tables index and hold addresses as the IOMMU's tables do. False when a page
   * cannot be allocated (VM_FAULT_OOM): the tables made so far stay, as in the kernel.
   */
  private mapUserPage(va: number): boolean {
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
      if (next === undefined) return false;
      const [nextLo, nextHi] = splitNumber(next);
      mem.write32(ea, nextLo | X86_P | X86_RW | X86_US);
      mem.write32(ea + 4, nextHi);
      table = next;
    }
    const page = this.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "user-page");
    if (page === undefined) return false;
    const pte = table + levelIndex(va, 1) * 8;
    const [lo, hi] = splitNumber(page);
    mem.write32(pte, lo | X86_P | X86_RW | X86_US);
    mem.write32(pte + 4, hi);
    return true;
  }

  /**
   * The amd_iommu_v2 PPR notifier: fault in pages of the job buffer, refuse the rest; a fault
   * that fails for lack of memory is answered PPR_INVALID too (do_fault's error path).
   */
  private ppr(devid: number, pasid: number, address: number): number | undefined {
    const dev = this.k.pciDev(devid);
    if (dev?.driver !== this || pasid !== this.p.pasid) return undefined;
    const page = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
    if (page < this.p.va || page >= this.p.va + this.p.pages * PAGE_SIZE) {
      return 1; // PPR_INVALID
    }
    return this.mapUserPage(page) ? 0 : 1; // PPR_SUCCESS, or PPR_INVALID on VM_FAULT_OOM
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
    const cr3 = this.allocTable();
    if (cr3 === undefined) return false;
    this.cr3 = cr3;
    for (let i = 0; i < this.p.resident; i++) {
      if (!this.mapUserPage(this.p.va + i * PAGE_SIZE)) {
        k.dev_err(dev, "cannot allocate the bound process's pages (-ENOMEM)");
        return false;
      }
    }
    // amd_iommu_init_device(): direct-mapped domain with a one-level GCR3 table.
    const gcr3 = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "gcr3-table", dev.devid);
    const id = domain_id_alloc(d);
    if (gcr3 === undefined || !id) return false;
    this.domain = {
      id,
      type: "unmanaged",
      mode: 0,
      pt_root: 0,
      devices: new Set(),
      v2: { gcr3_tbl: gcr3, glx: 0 },
    };
    d.domains.push(this.domain);
    attach_device(d, dev, this.domain);
    // amd_iommu_bind_pasid() → amd_iommu_domain_set_gcr3(): entry = cr3 | valid.
    const e = gcr3 + (this.p.pasid % 512) * 8;
    const [lo, hi] = splitNumber(this.cr3);
    k.mem.write32(e, lo | 1);
    k.mem.write32(e + 4, hi);
    d.domain_flush_tlb_pde(this.domain);
    d.events.pprHandler = (devid, pasid, address) => this.ppr(devid, pasid, address);
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
