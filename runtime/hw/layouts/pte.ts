/**
 * I/O page-table entries (AMD "v1" host tables): 64-bit PDEs (Next Level 1..6) and PTEs
 * (Next Level 0 = default-size leaf, 7 = larger page whose size is encoded in the address).
 * Ignored bits are simply not declared; reserved bits (PDE 60:52, PTE 58:52) are, so the
 * walker's reserved-bit check comes from `Layout.reservedMask`.
 *
 * @module
 */
import { f, Layout, rsvd } from "../bits.ts";

/** Field names of a PDE. */
export type PdeField = "PR" | "A" | "NextLevel" | "Address" | "IR" | "IW";
/** Field names of a PTE. */
export type PteField = PdeField | "D" | "U" | "FC";

const NEXT_LEVEL_VALUES = {
  0: "leaf, default page size",
  1: "table of level 1",
  2: "table of level 2",
  3: "table of level 3",
  4: "table of level 4",
  5: "table of level 5",
  6: "table of level 6",
  7: "leaf, larger page (size in address bits)",
};

/** Page directory entry: points at a lower-level table. */
export const PDE: Layout<PdeField> = new Layout<PdeField>("PDE", 8, [
  f("PR", 0, 0, 1, "present", { linux: "IOMMU_PTE_PR" }),
  f("A", 0, 5, 1, "accessed"),
  f("NextLevel", 0, 9, 3, "level of the table pointed to", { values: NEXT_LEVEL_VALUES }),
  f("Address", 0, 12, 40, "SPA of the next table", { addrShift: 12, linux: "PM_ADDR_MASK" }),
  rsvd("Rsvd0", 0, 52, 9),
  f("IR", 0, 61, 1, "read permission", { linux: "IOMMU_PTE_IR" }),
  f("IW", 0, 62, 1, "write permission", { linux: "IOMMU_PTE_IW" }),
]);

/** Page table entry: maps a page (leaf). */
export const PTE: Layout<PteField> = new Layout<PteField>("PTE", 8, [
  f("PR", 0, 0, 1, "present", { linux: "IOMMU_PTE_PR" }),
  f("A", 0, 5, 1, "accessed"),
  f("D", 0, 6, 1, "dirty", { linux: "IOMMU_PTE_HD_BIT" }),
  f("NextLevel", 0, 9, 3, "0 = default page size, 7 = larger page", { values: NEXT_LEVEL_VALUES }),
  f("Address", 0, 12, 40, "SPA of the page", { addrShift: 12, linux: "PM_ADDR_MASK" }),
  rsvd("Rsvd0", 0, 52, 7),
  f("U", 0, 59, 1, "untranslated access only", { linux: "IOMMU_PTE_U" }),
  f("FC", 0, 60, 1, "force coherent", { linux: "IOMMU_PTE_FC" }),
  f("IR", 0, 61, 1, "read permission", { linux: "IOMMU_PTE_IR" }),
  f("IW", 0, 62, 1, "write permission", { linux: "IOMMU_PTE_IW" }),
]);

/** Bit shift of the IOVA index for a table of `level` (1..6): 12 + 9 * (level - 1). */
export function levelShift(level: number): number {
  return 12 + 9 * (level - 1);
}

/**
 * The 4 KiB-aligned address bits 51:12 of a table entry given as two dwords: the next table
 * of a PDE, the page of a PTE, and the same bits of GCR3 and x86 guest entries.
 */
export function entryAddress(lo: number, hi: number): number {
  return (hi & 0xfffff) * 0x1_0000_0000 + ((lo & 0xffff_f000) >>> 0);
}

/** Page sizes of leaves by level (index 0 unused), precomputed for the walks. */
const LEVEL_PAGE_SIZE = Array.from({ length: 9 }, (_, level) => 2 ** levelShift(level));

/** Default page size of a leaf at `level` (1 → 4 KiB, 2 → 2 MiB, 3 → 1 GiB ...). */
export function levelPageSize(level: number): number {
  return LEVEL_PAGE_SIZE[level] ?? 2 ** levelShift(level);
}

/** The 9-bit table index of `iova` at `level` (`& 511` is `% 512` for addresses: exact, and cheap). */
export function levelIndex(iova: number, level: number): number {
  return Math.floor(iova / levelPageSize(level)) & 511;
}

/** Address reach of a translation with root level `mode` (1..6), in bits. */
export function modeReachBits(mode: number): number {
  return Math.min(64, 12 + 9 * mode);
}
