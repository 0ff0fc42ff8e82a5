/**
 * The IOMMU's DMA path: how one device access is decided — the translation decision table of
 * reference §4 (IOMMU off, DTE fetch, V, reserved bits, TV, permissions, Mode, exclusion
 * range), the IOTLB, host page walks and, for PASID-tagged requests, guest walks; and the
 * event a failed access logs.
 *
 * Nothing is allocated per access that translates or goes through untranslated: the answer
 * goes into the IOMMU's reused {@link DmaAnswer} (an abort still builds its outcome object), the
 * DTE's translation half is tested in the summary the DTE cache decoded when it cached the entry,
 * the IOTLB answers with a slot, and walks write into one reused {@link WalkOut}. The cached DTE
 * words are read before any event is logged, and an abort is written into the answer after its
 * event (logging can raise the IOMMU's interrupt, whose handler may DMA and so reuse the cache
 * slot and the answer).
 *
 * @module
 */
import { placed } from "../bits.ts";
import { DTE } from "../layouts/dte.ts";
import { CONTROL, EFR, EXCL_BASE, EXCL_LIMIT, MMIO } from "../layouts/mmio.ts";
import type { AmdIommu } from "./iommu.ts";
import type { DmaAnswer } from "./answer.ts";
import { DTE_READ_FAILED, DTE_SUM } from "./caches.ts";
import { guestWalk, hostWalk, type WalkFault, walkOut } from "./walk.ts";

/** Fields the DMA path reads on every request, compiled once from their layouts. */
const EFR_HATS = EFR.field("HATS");
const EXCL_EN = EXCL_BASE.field("ExEn");
const EXCL_ALLOW = EXCL_BASE.field("Allow");
const EXCL_ADDR = EXCL_BASE.field("ExclBase");
const EXCL_LIMIT_ADDR = EXCL_LIMIT.field("ExclLimit");
const IOMMU_EN = CONTROL.field("IommuEn");
const DTE_V = DTE.field("V");
const DTE_MODE = DTE.field("Mode");
const DTE_DOMID = DTE.field("DomainID");
const DTE_PT_ROOT = DTE.field("PageTableRootPtr");
const DTE_SA = DTE.field("SA");
const DTE_SE = DTE.field("SE");
const DTE_EX = DTE.field("EX");
const DTE_GV = DTE.field("GV");
const DTE_GLX = DTE.field("GLX");

const {
  V: SUM_V,
  TV: SUM_TV,
  IR: SUM_IR,
  IW: SUM_IW,
  RSVD: SUM_RSVD,
  MODE_SHIFT: SUM_MODE_SHIFT,
  MODE_MASK: SUM_MODE_MASK,
  DOMID_MASK: SUM_DOMID_MASK,
} = DTE_SUM;
const [EN_D, EN_S] = placed(IOMMU_EN);
const [HATS_D, HATS_S, HATS_M] = placed(EFR_HATS);
const [EXEN_D, EXEN_S] = placed(EXCL_EN);

/** Bits of an IO_PAGE_FAULT: present, reserved bits, permission, and why (for people). */
interface PageFault {
  pr: boolean;
  rz: boolean;
  pe: boolean;
  why: string;
}

/** A DMA access as the translator takes it (the fields of a `DmaRequest`). */
interface Access {
  devid: number;
  addr: number;
  write: boolean;
  pasid: number | undefined;
  ats: boolean;
}

/** The DMA path of one IOMMU. */
export class DmaTranslator {
  private readonly walk = walkOut();
  private readonly ctl: number;
  private readonly efr: number;
  private readonly excl: number;
  private readonly exclLimit: number;

  constructor(private readonly u: AmdIommu) {
    this.ctl = u.regs.dwordOffset(MMIO.CONTROL);
    this.efr = u.regs.dwordOffset(MMIO.EXT_FEATURES);
    this.excl = u.regs.dwordOffset(MMIO.EXCL_BASE);
    this.exclLimit = u.regs.dwordOffset(MMIO.EXCL_LIMIT);
  }

  /** Decides a DMA access (reference §4). */
  decide(
    devid: number,
    addr: number,
    write: boolean,
    pasid: number | undefined,
    ats: boolean,
    out: DmaAnswer,
  ): DmaAnswer {
    const u = this.u;
    // 1. Translation disabled: the request goes through untranslated.
    const regs = u.regs.words;
    if (!((regs[this.ctl + EN_D] >>> EN_S) & 1)) {
      return out.untranslated(addr, "iommu-off");
    }
    // 2./3. DTE lookup.
    const slot = u.fetchDte(devid);
    if (slot < 0) {
      if (slot === DTE_READ_FAILED) {
        const logged = u.logEvent("DEV_TAB_HARDWARE_ERROR", {
          DeviceID: devid,
          RW: write ? 1 : 0,
          Type: 1,
          Address: u.dteFaultAddr,
        });
        return out.abort({
          kind: "abort",
          why: "DTE read failed",
          event: "DEV_TAB_HARDWARE_ERROR",
          logged,
        });
      }
      // DeviceID beyond the table's size: treated as an invalid DeviceID, as VirtualBox does
      // (reference §4 row 2, unsure against the spec).
      return this.pageFault(out, { devid, addr, write, pasid, ats }, undefined, -1, {
        pr: false,
        rz: false,
        pe: false,
        why: "DeviceID beyond device table",
      });
    }
    const dte = u.dteCache.view(slot);
    const sum = u.dteCache.summary(slot);
    // 4. V=0: untranslated, no checks.
    if (!(sum & SUM_V)) return out.untranslated(addr, "dte-invalid");
    // 5. Reserved bits in q0/q1.
    if (sum & SUM_RSVD) {
      const logged = u.logEvent("ILLEGAL_DEV_TABLE_ENTRY", {
        DeviceID: devid,
        RW: write ? 1 : 0,
        RZ: 1,
        Address: addr,
      });
      return out.abort({
        kind: "abort",
        why: "DTE reserved bits set",
        event: "ILLEGAL_DEV_TABLE_ENTRY",
        logged,
      });
    }
    // 6. TV=0: VirtualBox's reading (abort + IO_PAGE_FAULT, PR=0); QEMU aborts silently.
    // The spec text is ambiguous (reference §4 row 6); we log, so the kernel can see it.
    if (!(sum & SUM_TV)) {
      return this.pageFault(out, { devid, addr, write, pasid, ats }, dte, slot, {
        pr: false,
        rz: false,
        pe: false,
        why: "DTE.TV=0",
      });
    }
    // PASID-tagged requests go through the guest tables.
    if (pasid !== undefined) {
      return this.decideGuest(out, { devid, addr, write, pasid, ats }, dte, slot);
    }
    // 7. DTE permissions, checked before Mode.
    if (!(sum & (write ? SUM_IW : SUM_IR))) {
      return this.pageFault(out, { devid, addr, write, pasid, ats }, dte, slot, {
        pr: true,
        rz: false,
        pe: true,
        why: "DTE permission",
      });
    }
    const mode = (sum >>> SUM_MODE_SHIFT) & SUM_MODE_MASK;
    // 8. Mode 0: no translation.
    if (mode === 0) return out.untranslated(addr, "mode-0");
    // 9. Mode beyond what the unit implements (HATS: 0 → 4 levels ... 2 → 6 levels).
    const hats = (regs[this.efr + HATS_D] >>> HATS_S) & HATS_M;
    const maxLevels = hats === 3 ? 0 : 4 + hats;
    if (mode === 7 || mode > maxLevels) {
      return this.pageFault(out, { devid, addr, write, pasid, ats }, dte, slot, {
        pr: true,
        rz: true,
        pe: false,
        why: `DTE.Mode ${mode} not supported`,
      });
    }
    // 10. Exclusion range.
    if (((regs[this.excl + EXEN_D] >>> EXEN_S) & 1) && this.excluded(addr, dte)) {
      return out.untranslated(addr, "exclusion");
    }
    // IOTLB, then a walk.
    const domid = sum & SUM_DOMID_MASK;
    const page = Math.floor(addr / 4096);
    const offset = addr >= 0 ? addr - page * 4096 : addr % 4096; // (no fmod on the hot path)
    const iotlb = u.iotlb;
    const hit = iotlb.find(domid, page);
    if (hit >= 0) {
      if (write ? !iotlb.iw(hit) : !iotlb.ir(hit)) {
        return this.pageFault(out, { devid, addr, write, pasid, ats }, dte, slot, {
          pr: true,
          rz: false,
          pe: true,
          why: "permission (IOTLB)",
        });
      }
      return out.translated(iotlb.spaPage(hit) + offset, domid, "iotlb");
    }
    u.counters.walks++;
    const w = this.walk;
    if (!hostWalk(u.mem, DTE_PT_ROOT.get(dte) * 4096, mode, addr, write, w)) {
      return this.walkFault(out, { devid, addr, write, pasid, ats }, dte, slot, w.fault!);
    }
    const spa = w.spa;
    iotlb.put(domid, page, spa - offset, w.ir, w.iw);
    return out.translated(spa, domid, "walk");
  }

  private decideGuest(out: DmaAnswer, req: Access, dte: Uint32Array, slot: number): DmaAnswer {
    // A PASID-tagged request needs guest translation. With GV=0 there is nothing to translate
    // it with: we abort with a GN=1 IO_PAGE_FAULT (not present). The spec's exact event for
    // this case is not in our sources; this is the most plausible reading.
    if (!DTE_GV.get(dte)) {
      return this.pageFault(out, req, dte, slot, {
        pr: false,
        rz: false,
        pe: false,
        why: "PASID request with DTE.GV=0",
      });
    }
    const u = this.u, w = this.walk;
    const gcr3 = DTE.value(dte, "GCR3TableRootPtr");
    if (!guestWalk(u.mem, gcr3, DTE_GLX.get(dte), req.pasid!, req.addr, req.write, w)) {
      return this.walkFault(out, req, dte, slot, w.fault!);
    }
    const mode = DTE_MODE.get(dte);
    const domid = DTE_DOMID.get(dte);
    if (mode === 0) return out.translated(w.spa, domid, "walk");
    if (!hostWalk(u.mem, DTE_PT_ROOT.get(dte) * 4096, mode, w.spa, req.write, w)) {
      return this.walkFault(out, req, dte, slot, w.fault!);
    }
    return out.translated(w.spa, domid, "walk");
  }

  /** Whether `addr` lies in the exclusion range, for the DTE `dte` (the caller checked ExEn). */
  private excluded(addr: number, dte: Uint32Array): boolean {
    const words = this.u.regs.words;
    const allow = EXCL_ALLOW.get(words, this.excl);
    const lo = EXCL_ADDR.get(words, this.excl) * 4096;
    const hi = EXCL_LIMIT_ADDR.get(words, this.exclLimit) * 4096 + 0xfff;
    return addr >= lo && addr <= hi && (allow === 1 || DTE_EX.get(dte) === 1);
  }

  /**
   * An IO_PAGE_FAULT: returned only (ATS), suppressed (DTE.SA, or DTE.SE once one was logged
   * through the cached entry `slot`), or logged.
   */
  private pageFault(
    out: DmaAnswer,
    req: Access,
    dte: Uint32Array | undefined,
    slot: number,
    f: PageFault,
    interrupt = false,
  ): DmaAnswer {
    const u = this.u;
    const domid = dte ? DTE_DOMID.get(dte) : 0;
    const guestFault = req.pasid !== undefined;
    /** The fault not logged: returned only (ATS) or suppressed. */
    const unlogged = (suppressedBy?: "SA" | "SE") =>
      out.abort({
        kind: "abort",
        why: f.why,
        event: "IO_PAGE_FAULT",
        logged: false,
        guestFault,
        ...(suppressedBy ? { suppressedBy } : {}),
      });
    if (req.ats) return unlogged();
    let suppressedBy: "SA" | "SE" | "" = "";
    if (dte && DTE_V.get(dte) && DTE_SA.get(dte)) suppressedBy = "SA";
    else if (dte && DTE_SE.get(dte) && slot >= 0 && u.dteCache.faultLogged(slot)) {
      suppressedBy = "SE";
    }
    if (suppressedBy) {
      for (const o of u.observers) {
        o.suppressed?.("IO_PAGE_FAULT", req.devid, req.addr, suppressedBy);
      }
      return unlogged(suppressedBy);
    }
    if (slot >= 0) u.dteCache.setFaultLogged(slot);
    const logged = u.logEvent("IO_PAGE_FAULT", {
      DeviceID: req.devid,
      DomainID: guestFault ? req.pasid! & 0xffff : domid,
      PASIDHi: guestFault ? (req.pasid! >>> 16) & 0xf : 0,
      GN: guestFault ? 1 : 0,
      I: interrupt ? 1 : 0,
      PR: f.pr ? 1 : 0,
      RW: req.write ? 1 : 0,
      PE: f.pe ? 1 : 0,
      RZ: f.rz ? 1 : 0,
      Address: req.addr,
    });
    return out.abort({ kind: "abort", why: f.why, event: "IO_PAGE_FAULT", logged, guestFault });
  }

  private walkFault(
    out: DmaAnswer,
    req: Access,
    dte: Uint32Array,
    slot: number,
    wf: WalkFault,
  ): DmaAnswer {
    if (wf.kind === "IO_PAGE_FAULT") return this.pageFault(out, req, dte, slot, wf);
    if (req.ats) return out.abort({ kind: "abort", why: wf.why, event: wf.kind, logged: false });
    const logged = this.u.logEvent("PAGE_TAB_HARDWARE_ERROR", {
      DeviceID: req.devid,
      DomainID: DTE_DOMID.get(dte),
      RW: req.write ? 1 : 0,
      Type: 1,
      Address: wf.entryAddr,
    });
    return out.abort({ kind: "abort", why: wf.why, event: "PAGE_TAB_HARDWARE_ERROR", logged });
  }
}
