/**
 * I/O page-table walks, reading every entry out of physical memory.
 *
 * `walkHost` follows the AMD v1 host tables (Modes 1..6, skipped levels, Next Level 7 large
 * pages, IR/IW ANDed along the path) — rows 11..17 of the translation decision table
 * (reference §4). `walkGuest` follows the GCR3 table and an x86-64 4-level guest page table
 * for PASID-tagged requests of devices with guest translation (DTE.GV=1).
 *
 * @module
 */
import { onesFrom, placed } from "../bits.ts";
import { entryAddress, levelIndex, levelPageSize, PDE, PTE } from "../layouts/pte.ts";
import type { PhysMem } from "../memory.ts";

/** Outcome of a walk. */
export type WalkResult =
  | { ok: true; spa: number; pageSize: number; ir: boolean; iw: boolean }
  | { ok: false; fault: WalkFault };

/** Why a walk failed: the event the IOMMU logs for it. */
export type WalkFault =
  | { kind: "IO_PAGE_FAULT"; pr: boolean; rz: boolean; pe: boolean; why: string }
  | { kind: "PAGE_TAB_HARDWARE_ERROR"; entryAddr: number; why: string };

/**
 * Where a walk writes its outcome: the IOMMU keeps one and reuses it, so a walk allocates
 * nothing unless it faults. `fault` is set (and the rest stale) when the walk failed.
 */
export interface WalkOut {
  spa: number;
  pageSize: number;
  ir: boolean;
  iw: boolean;
  fault: WalkFault | null;
}

/** A fresh {@link WalkOut}. */
export function walkOut(): WalkOut {
  return { spa: 0, pageSize: 0, ir: false, iw: false, fault: null };
}

const PDE_RSVD_HI = PDE.reservedMask[1];
const PTE_RSVD_HI = PTE.reservedMask[1];
/** PR, Next Level, IR and IW sit at the same bits in PDEs and PTEs. */
const PR = PDE.field("PR"), NEXT_LEVEL = PDE.field("NextLevel");
const IR = PDE.field("IR"), IW = PDE.field("IW");
const [PR_D, PR_S] = placed(PR), [NL_D, NL_S, NL_M] = placed(NEXT_LEVEL);
const [IR_D, IR_S] = placed(IR), [IW_D, IW_S] = placed(IW);
/** The entry being looked at (two dwords, reused). */
const entry = new Uint32Array(2);

/** Size encoded by a Next Level 7 PTE's address bits: 2^(13+n), n = ones from bit 12 up. */
export function largePageSize(lo: number, hi: number): number {
  return 2 ** (13 + onesFrom(lo, hi, 12, 52));
}

/** Records an IO_PAGE_FAULT in `out`; returns false (the walk failed). */
function fault(out: WalkOut, pr: boolean, rz: boolean, pe: boolean, why: string): false {
  out.fault = { kind: "IO_PAGE_FAULT", pr, rz, pe, why };
  return false;
}

/** Records the outcome in `out`; returns true. */
function landed(out: WalkOut, spa: number, pageSize: number, ir: boolean, iw: boolean): true {
  out.spa = spa;
  out.pageSize = pageSize;
  out.ir = ir;
  out.iw = iw;
  out.fault = null;
  return true;
}

/** A walk's outcome as a {@link WalkResult}. */
function result(ok: boolean, out: WalkOut): WalkResult {
  return ok
    ? { ok: true, spa: out.spa, pageSize: out.pageSize, ir: out.ir, iw: out.iw }
    : { ok: false, fault: out.fault! };
}

/**
 * Walks the host page table rooted at `root` with `mode` levels for `iova`.
 * `write` selects the permission checked at the leaf.
 */
export function walkHost(
  mem: PhysMem,
  root: number,
  mode: number,
  iova: number,
  write: boolean,
): WalkResult {
  const out = walkOut();
  return result(hostWalk(mem, root, mode, iova, write, out), out);
}

/** {@link walkHost} into `out`: true if it reached a page (`out` says where), else false. */
export function hostWalk(
  mem: PhysMem,
  root: number,
  mode: number,
  iova: number,
  write: boolean,
  out: WalkOut,
): boolean {
  // IOVA beyond the reach of the root level. Which event the spec wants here is not in our
  // sources (reference §3, unsure); like QEMU we fault, and report it as not-present.
  if (mode < 6 && iova >= levelPageSize(mode + 1)) {
    return fault(out, false, false, false, "iova beyond mode reach");
  }
  let level = mode;
  let table = root;
  let ir = true, iw = true;
  for (;;) {
    const entryAddr = table + levelIndex(iova, level) * 8;
    if (!mem.isRam(entryAddr, 8)) {
      out.fault = {
        kind: "PAGE_TAB_HARDWARE_ERROR",
        entryAddr,
        why: `level ${level} entry not in RAM`,
      };
      return false;
    }
    mem.readQword(entryAddr, entry, 0);
    const lo = entry[0], hi = entry[1];
    if (!((entry[PR_D] >>> PR_S) & 1)) {
      return fault(out, false, false, false, `level ${level} entry not present`);
    }
    const next = (entry[NL_D] >>> NL_S) & NL_M;
    ir &&= ((entry[IR_D] >>> IR_S) & 1) === 1;
    iw &&= ((entry[IW_D] >>> IW_S) & 1) === 1;
    const addr = entryAddress(lo, hi);
    if (next >= 1 && next <= 6) {
      if (hi & PDE_RSVD_HI) {
        return fault(out, true, true, false, `level ${level} PDE reserved bits`);
      }
      if (next >= level) {
        return fault(out, true, false, false, `level ${level} PDE next level ${next}`);
      }
      for (let skipped = level - 1; skipped > next; skipped--) {
        if (levelIndex(iova, skipped) !== 0) {
          return fault(out, true, false, false, `skipped level ${skipped} index not zero`);
        }
      }
      table = addr;
      level = next;
      continue;
    }
    // Leaf.
    if (hi & PTE_RSVD_HI) return fault(out, true, true, false, `level ${level} PTE reserved bits`);
    let size = levelPageSize(level);
    if (next === 7) {
      size = largePageSize(lo, hi);
      if (size <= levelPageSize(level) || size >= levelPageSize(level + 1)) {
        return fault(out, true, false, false, `level ${level} large page of invalid size ${size}`);
      }
    }
    if (write ? !iw : !ir) return fault(out, true, false, true, "permission");
    const base = Math.floor(addr / size) * size;
    return landed(out, base + (iova % size), size, ir, iw);
  }
}

/** x86-64 page-table entry bits used by `walkGuest`: present, writable, page size. */
const X86_P = 1, X86_RW = 2, X86_PS = 0x80;

/**
 * Walks a guest translation: GCR3 table (1 level, indexed by PASID[8:0]; GLX=1 adds a level
 * indexed by PASID[17:9]) → guest CR3 → x86-64 4-level page table → guest physical address.
 * The caller translates the GPA through the host table when DTE.Mode ≠ 0.
 */
export function walkGuest(
  mem: PhysMem,
  gcr3Root: number,
  glx: number,
  pasid: number,
  gva: number,
  write: boolean,
): WalkResult {
  const out = walkOut();
  return result(guestWalk(mem, gcr3Root, glx, pasid, gva, write, out), out);
}

/** {@link walkGuest} into `out`: true if it reached a page (`out` says where), else false. */
export function guestWalk(
  mem: PhysMem,
  gcr3Root: number,
  glx: number,
  pasid: number,
  gva: number,
  write: boolean,
  out: WalkOut,
): boolean {
  let table = gcr3Root;
  if (glx === 1) {
    const l2 = table + ((pasid >>> 9) & 0x1ff) * 8;
    const lo = mem.read32(l2), hi = mem.read32(l2 + 4);
    if (!(lo & 1)) return fault(out, false, false, false, "GCR3 level-2 entry not present");
    table = entryAddress(lo, hi);
  }
  const gcr3e = table + (pasid & 0x1ff) * 8;
  const glo = mem.read32(gcr3e), ghi = mem.read32(gcr3e + 4);
  if (!(glo & 1)) {
    return fault(out, false, false, false, `GCR3 entry of PASID ${pasid} not present`);
  }
  let pt = entryAddress(glo, ghi);
  let rw = true;
  for (let level = 4; level >= 1; level--) {
    const ea = pt + levelIndex(gva, level) * 8;
    if (!mem.isRam(ea, 8)) {
      out.fault = { kind: "PAGE_TAB_HARDWARE_ERROR", entryAddr: ea, why: "guest entry not in RAM" };
      return false;
    }
    const lo = mem.read32(ea), hi = mem.read32(ea + 4);
    if (!(lo & X86_P)) return fault(out, false, false, false, `guest level ${level} not present`);
    rw &&= (lo & X86_RW) !== 0;
    const addr = entryAddress(lo, hi);
    if (level === 1 || ((level === 2 || level === 3) && lo & X86_PS)) {
      const size = levelPageSize(level);
      if (write && !rw) return fault(out, true, false, true, "guest permission");
      return landed(out, Math.floor(addr / size) * size + (gva % size), size, true, rw);
    }
    pt = addr;
  }
  return fault(out, false, false, false, "unreachable");
}
