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
const GA_EN = CONTROL.field("GAEn");
/** The DTE and IRTE fields read on every interrupt, compiled once from their layouts. */
const DTE_IV = DTE.field("IV");
const DTE_NMI_PASS = DTE.field("NMIPass");
const DTE_INIT_PASS = DTE.field("InitPass");
const DTE_EINT_PASS = DTE.field("EIntPass");
const DTE_IG = DTE.field("IG");
const DTE_DOMID = DTE.field("DomainID");
const DTE_INTCTL = DTE.field("IntCtl");
const DTE_INT_TAB_LEN = DTE.field("IntTabLen");
const DTE_INT_ROOT = DTE.field("InterruptTableRootPtr");
const IRTE_DEST = IRTE.field("Destination");
const IRTE_FIELDS = [IRTE, IRTE_GA].map((L) => ({
  supIOPF: L.field("SupIOPF"),
  remapEn: L.field("RemapEn"),
  guestMode: L.has("GuestMode") ? L.field("GuestMode") : undefined,
  intType: L.field("IntType"),
  vector: L.field("Vector"),
}));
/** The MMIO Control register's dword index in the register file (fixed by the map). */
let ctlIndex = -1;

/** An MSI passed on untouched: its vector and destination as the MSI itself says. */
function forward(req: MsiRequest): MsiOutcome {
  return {
    kind: "forwarded",
    vector: req.data & 0xff,
    dest: Math.floor(req.address / 4096) & 0xff,
  };
}

/** An MSI dropped without an event. */
function block(why: string): MsiOutcome {
  return { kind: "blocked", why, logged: false };
}

/** The IRTE being read (four dwords: the GA format; the legacy one uses the first). */
const irte = new Uint32Array(4);

/** Decides an MSI from a device (reference §5). */
export function remapInterrupt(u: AmdIommu, req: MsiRequest): MsiOutcome {
  if (ctlIndex < 0) ctlIndex = u.regs.dwordOffset(MMIO.CONTROL);
  if (!IOMMU_EN.get(u.regs.words, ctlIndex)) return forward(req);
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
    return forward(req);
  }
  // Read where the cache keeps it: every use comes before the one event a decision logs
  // (whose interrupt handler may DMA and reuse the slot).
  const dte = u.dteCache.view(slot);
  if (!DTE_IV.get(dte)) return forward(req);
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
  if (deliveryMode === 4) return DTE_NMI_PASS.get(dte) ? forward(req) : block("NMI not passed");
  if (deliveryMode === 5) return DTE_INIT_PASS.get(dte) ? forward(req) : block("INIT not passed");
  if (deliveryMode === 7) {
    return DTE_EINT_PASS.get(dte) ? forward(req) : block("ExtInt not passed");
  }
  if (deliveryMode === 2) return forward(req); // SMI: SysMgt filtering is not modelled
  if (deliveryMode > 1) return block(`delivery mode ${deliveryMode}`);
  const intctl = DTE_INTCTL.get(dte);
  if (intctl === INTCTL.ABORT) return block("IntCtl=0 (target abort)");
  if (intctl === INTCTL.FORWARD) return forward(req);
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
  const len = DTE_INT_TAB_LEN.get(dte);
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
  if (index >= 2 ** len) {
    return intFault(u, req, dte, false, false, `IRTE index ${index} beyond table of ${2 ** len}`);
  }
  const root = DTE_INT_ROOT.get(dte) * 64;
  const ga = GA_EN.get(u.regs.words, ctlIndex) === 1;
  const entryBytes = ga ? 16 : 4;
  const w = irte; // a legacy IRTE is its first dword
  u.mem.readDwords(root + index * entryBytes, entryBytes / 4, w);
  const F = IRTE_FIELDS[ga ? 1 : 0];
  const sup = F.supIOPF.get(w);
  if (!F.remapEn.get(w)) {
    return intFault(u, req, dte, false, false, `IRTE ${index} not enabled`, sup);
  }
  if (!ga && F.guestMode!.get(w)) {
    return intFault(u, req, dte, false, true, `IRTE ${index} GuestMode in legacy format`, sup);
  }
  if (F.intType.get(w) > 1) return intFault(u, req, dte, true, true, `IRTE ${index} IntType`, sup);
  return {
    kind: "remapped",
    vector: F.vector.get(w),
    dest: ga ? IRTE_GA.value(w, "Destination") : IRTE_DEST.get(w),
  };
}

/**
 * An interrupt's IO_PAGE_FAULT (I=1): suppressed by DTE.IG or the IRTE's SupIOPF, else
 * logged. The DTE words are read before the event is logged (see the module's note).
 */
function intFault(
  u: AmdIommu,
  req: MsiRequest,
  dte: Uint32Array,
  pr: boolean,
  rz: boolean,
  why: string,
  sup = 0,
): MsiOutcome {
  if (DTE_IG.get(dte) || sup) {
    for (const o of u.observers) {
      o.suppressed?.(
        "IO_PAGE_FAULT",
        req.devid,
        req.address,
        DTE_IG.get(dte) ? "IG" : "SupIOPF",
      );
    }
    return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged: false };
  }
  const logged = u.logEvent("IO_PAGE_FAULT", {
    DeviceID: req.devid,
    DomainID: DTE_DOMID.get(dte),
    I: 1,
    PR: pr ? 1 : 0,
    RZ: rz ? 1 : 0,
    RW: 1,
    Address: req.address,
  });
  return { kind: "blocked", why, event: "IO_PAGE_FAULT", logged };
}
