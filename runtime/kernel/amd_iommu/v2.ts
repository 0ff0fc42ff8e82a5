/**
 * amd_iommu_v2 (drivers/iommu/amd_iommu_v2.c), reduced: the module IOMMUv2 users (amdkfd)
 * pull in. At module init it registers its PPR notifier with the AMD driver. A user binds a
 * device with amd_iommu_init_device() — a device state, a direct-mapped protection domain
 * with a GCR3 table, attached to the device's group through the iommu core (so an attach the
 * core defers does not touch the DTE) — and a process with amd_iommu_bind_pasid() — the
 * process's page-table root in the PASID's GCR3 entry.
 *
 * ppr_notifier(): a page request from the PPR log first meets the hook point
 * `amd_iommu_v2.ppr_notifier` (an early answer, e.g. patch 11's PPR_INVALID for a device
 * whose attach is still deferred); then the device's state: none → the request is not
 * answered; no bound PASID → PPR_INVALID; else the fault is handled in the process (its
 * handler answers success or invalid).
 *
 * @module
 */
import { splitNumber } from "../../hw/bits.ts";
import { GFP } from "../alloc.ts";
import type { PciDev } from "../pci.ts";
import { domain_id_alloc } from "./domain.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { PAGE_MODE, type ProtectionDomain } from "./types.ts";

/** PRI response codes (PPR_SUCCESS, PPR_INVALID, PPR_FAILURE). */
export const PPR_STATUS = { SUCCESS: 0x0, INVALID: 0x1, FAILURE: 0xf } as const;

/** A page request as the PPR log hands it over (struct amd_iommu_fault, reduced). */
export interface PprFault {
  /** The DeviceID of the requesting device. */
  devid: number;
  /** The PASID (process address space) of the request. */
  pasid: number;
  /** The virtual address the device asks to have made present. */
  address: number;
  /** Whether the device wants to write (else read). */
  write: boolean;
}

/** What a bound process does with a fault on its address: a PRI status. */
export type PasidFaultHandler = (address: number, write: boolean) => number;

/** struct device_state. */
interface DeviceState {
  domain: ProtectionDomain;
  /** Bound PASIDs and their processes' fault handling. */
  pasids: Map<number, PasidFaultHandler>;
}

/** The amd_iommu_v2 module of one kernel. */
export class AmdIommuV2 {
  /** Whether the module is loaded (its notifier registered). */
  loaded = false;
  private readonly states = new Map<number, DeviceState>();
  /** Answers given, by kind. */
  readonly stats = { early: 0, noState: 0, invalid: 0, handled: 0 };

  /** The module for the driver `d`, not loaded yet. */
  constructor(private readonly d: AmdIommuDriver) {}

  /** amd_iommu_v2_init(): module init, registers the PPR notifier. */
  amd_iommu_v2_init(): void {
    if (this.loaded) return;
    this.loaded = true;
    this.d.events.ppr_notifier = (f) => this.ppr_notifier(f);
  }

  /**
   * amd_iommu_init_device(): a device state and a direct-mapped domain with a one-level GCR3
   * table, attached to the device's group (iommu_attach_group).
   */
  amd_iommu_init_device(dev: PciDev): ProtectionDomain | undefined {
    const d = this.d, k = d.k;
    const gcr3 = k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "gcr3-table", dev.devid);
    const id = domain_id_alloc(d);
    if (gcr3 === undefined || !id) return undefined;
    const domain: ProtectionDomain = {
      id,
      type: "unmanaged",
      mode: PAGE_MODE.NONE,
      pt_root: 0,
      devices: new Set(),
      v2: { gcr3_tbl: gcr3, glx: 0 },
    };
    d.domains.push(domain);
    this.states.set(dev.devid, { domain, pasids: new Map() });
    k.core.iommu_attach_group(domain, dev);
    return domain;
  }

  /**
   * amd_iommu_bind_pasid() → amd_iommu_domain_set_gcr3(): the GCR3 entry of `pasid` = the
   * process's page-table root | valid, then a flush of the domain's TLB.
   */
  amd_iommu_bind_pasid(
    dev: PciDev,
    pasid: number,
    cr3: number,
    fault: PasidFaultHandler,
  ): boolean {
    const st = this.states.get(dev.devid);
    if (!st?.domain.v2) return false;
    const e = st.domain.v2.gcr3_tbl + (pasid % 512) * 8;
    const [lo, hi] = splitNumber(cr3);
    this.d.k.mem.write32(e, lo | 1);
    this.d.k.mem.write32(e + 4, hi);
    this.d.domain_flush_tlb_pde(st.domain);
    st.pasids.set(pasid, fault);
    return true;
  }

  /** ppr_notifier(): a PRI status to answer with, or undefined for no answer. */
  ppr_notifier(f: PprFault): number | undefined {
    const d = this.d, k = d.k;
    const dev = k.pciDev(f.devid);
    if (!dev) return undefined; // -ENODEV
    const devData = d.dev_data.get(f.devid);
    const iommu = d.rlookup.get(f.devid);
    if (devData && iommu) {
      const early = k.hooks.bail("amd_iommu_v2.ppr_notifier", {
        k,
        dev,
        devData,
        iommu,
        pasid: f.pasid,
        address: f.address,
      });
      if (early !== undefined) {
        this.stats.early++;
        return early;
      }
    }
    const st = this.states.get(f.devid);
    if (!st) {
      this.stats.noState++;
      return undefined; // NOTIFY_DONE: nobody answers
    }
    const fault = st.pasids.get(f.pasid);
    if (!fault) {
      this.stats.invalid++;
      return PPR_STATUS.INVALID;
    }
    this.stats.handled++;
    return fault(f.address, f.write);
  }
}
