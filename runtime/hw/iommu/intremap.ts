/**
 * Interrupt remapping: how the IOMMU decides an MSI from a device (reference §5) — forwarded
 * untouched (translation off, no DTE, IV=0, IntCtl forward, pass-through delivery modes),
 * blocked, or remapped through the IRTE the DTE's interrupt table holds for the MSI's data.
 *
 * @module
 */
import { DTE, INTCTL } from "../layouts/dte.ts";
import { IRTE, IRTE_GA } from "../layouts/irte.ts";
import { CONTROL, MMIO } from "../layouts/mmio.ts";
import type { AmdIommu, MsiOutcome, MsiRequest } from "./iommu.ts";
import { DTE_READ_FAILED } from "./caches.ts";

const IOMMU_EN = CONTROL.field("IommuEn");

/** The IRTE being read (four dwords: the GA format; the legacy one uses the first). */
const irte = new Uint32Array(4);

/** Decides an MSI from a device (reference §5). */
export function remapInterrupt(u: AmdIommu, req: MsiRequest): MsiOutcome {
  const forward = (): MsiOutcome => ({
    kind: "forwarded",
    vector: req.data & 0xff,
    dest: Math.floor(req.address / 4096) & 0xff,
  });
  if (!IOMMU_EN.get(u.regs.words, u.regs.dwordOffset(MMIO.CONTROL))) return forward();
  const slot = u.fetchDte(req.devid);
  if (slot < 0) {
    if (slot === DTE_READ_FAILED) {
      const logged = u.logEvent("DEV_TAB_HARDWARE_ERROR", {
        DeviceID: req.devid,
        I: 1,
        RW: 1,
        Type: 1,
        Address: u.dteFaultAddr,
      });
      return { kind: "blocked", why: "DTE read failed", event: "DEV_TAB_HARDWARE_ERROR", logged };
    }
    return forward();
  }
  // Read where the cache keeps it: every use comes before the one event a decision logs
  // (whose interrupt handler may DMA and reuse the slot).
  const dte = u.dteCache.view(slot);
  if (!DTE.get(dte, "IV")) return forward();
  if (DTE.reservedBitsSet(dte, 0, 4, 8)) {
    const logged = u.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
      DeviceID: req.devid,
      I: 1,
      RW: 1,
      RZ: 1,
      Address: req.address,
    });
    return {
      kind: "blocked",
      why: "DTE reserved bits (interrupt part)",
      event: "ILLEGAL_DEV_TABLE_ENTRY",
      logged,
    };
  }
  const deliveryMode = (req.data >>> 8) & 7;
  const block = (why: string): MsiOutcome => ({ kind: "blocked", why, logged: false });
  if (deliveryMode === 4) return DTE.get(dte, "NMIPass") ? forward() : block("NMI not passed");
  if (deliveryMode === 5) return DTE.get(dte, "InitPass") ? forward() : block("INIT not passed");
  if (deliveryMode === 7) {
    return DTE.get(dte, "EIntPass") ? forward() : block("ExtInt not passed");
  }
  if (deliveryMode === 2) return forward(); // SMI: SysMgt filtering is not modelled
  if (deliveryMode > 1) return block(`delivery mode ${deliveryMode}`);
  const intctl = DTE.get(dte, "IntCtl");
  if (intctl === INTCTL.ABORT) return block("IntCtl=0 (target abort)");
  if (intctl === INTCTL.FORWARD) return forward();
  if (intctl === 3) {
    const logged = u.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
      DeviceID: req.devid,
      I: 1,
      RW: 1,
      RZ: 1,
      Address: req.address,
    });
    return { kind: "blocked", why: "IntCtl=3", event: "ILLEGAL_DEV_TABLE_ENTRY", logged };
  }
  const len = DTE.get(dte, "IntTabLen");
  if (len >= 12) {
    const logged = u.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
      DeviceID: req.devid,
      I: 1,
      RW: 1,
      Address: req.address,
    });
    return {
      kind: "blocked",
      why: `IntTabLen ${len} reserved`,
      event: "ILLEGAL_DEV_TABLE_ENTRY",
      logged,
    };
  }
  const index = req.data & 0x7ff;
  const intFault = (pr: boolean, rz: boolean, why: string, sup?: number): MsiOutcome => {
    if (DTE.get(dte, "IG") || sup) {
      for (const o of u.observers) {
        o.suppressed?.(
          "IO_PAGE_FAULT",
          req.devid,
          req.address,
          DTE.get(dte, "IG") ? "IG" : "SupIOPF",
        );
      }
      return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged: false };
    }
    const logged = u.logEvent("IO_PAGE_FAULT", {
      DeviceID: req.devid,
      DomainID: DTE.get(dte, "DomainID"),
      I: 1,
      PR: pr ? 1 : 0,
      RZ: rz ? 1 : 0,
      RW: 1,
      Address: req.address,
    });
    return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged };
  };
  if (index >= 2 ** len) {
    return intFault(false, false, `IRTE index ${index} beyond table of ${2 ** len}`);
  }
  const root = DTE.get(dte, "InterruptTableRootPtr") * 64;
  const ga = u.control("GAEn") === 1;
  const entryBytes = ga ? 16 : 4;
  const w = irte; // a legacy IRTE is its first dword
  u.mem.readDwords(root + index * entryBytes, entryBytes / 4, w);
  const layout = ga ? IRTE_GA : IRTE;
  const sup = layout.get(w, "SupIOPF");
  if (!layout.get(w, "RemapEn")) return intFault(false, false, `IRTE ${index} not enabled`, sup);
  if (!ga && layout.get(w, "GuestMode")) {
    return intFault(false, true, `IRTE ${index} GuestMode in legacy format`, sup);
  }
  if (layout.get(w, "IntType") > 1) return intFault(true, true, `IRTE ${index} IntType`, sup);
  return {
    kind: "remapped",
    vector: layout.get(w, "Vector"),
    dest: ga ? IRTE_GA.value(w, "Destination") : IRTE.get(w, "Destination"),
  };
}
