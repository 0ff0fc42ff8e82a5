/**
 * Device Table Entry (DTE): 256 bits, four 64-bit words, one per 16-bit DeviceID.
 *
 * Field positions follow the AMD IOMMU spec (rev 2.x/3.0, the 2017-era layout the series was
 * written against). Bits 8:7 (HAD) and q3 (AttrV, Mode0FC, SnoopAttr) come from later spec
 * revisions; here they are reserved, which is how 4.13/4.14 hardware treated them.
 *
 * @module
 */
import { f, Layout, rsvd } from "../bits.ts";

/** Names of the DTE's fields (spec names; also the decoder's JSON keys). */
export type DteField =
  | "V"
  | "TV"
  | "Mode"
  | "PageTableRootPtr"
  | "PPR"
  | "GPRP"
  | "GIoV"
  | "GV"
  | "GLX"
  | "GCR3TableRootPtrA"
  | "IR"
  | "IW"
  | "DomainID"
  | "GCR3TableRootPtrB"
  | "I"
  | "SE"
  | "SA"
  | "IoCtl"
  | "Cache"
  | "SD"
  | "EX"
  | "SysMgt"
  | "GCR3TableRootPtrC"
  | "IV"
  | "IntTabLen"
  | "IG"
  | "InterruptTableRootPtr"
  | "InitPass"
  | "EIntPass"
  | "NMIPass"
  | "IntCtl"
  | "Lint0Pass"
  | "Lint1Pass"
  | "GCR3TableRootPtr";

/** IntCtl values (DTE bits 189:188). */
export const INTCTL = { ABORT: 0, FORWARD: 1, REMAP: 2 } as const;

/** The DTE layout. */
export const DTE: Layout<DteField> = new Layout<DteField>("DTE", 32, [
  f("V", 0, 0, 1, "DTE valid; 0 = DMA forwarded untranslated", {
    linux: "DEV_ENTRY_VALID, DTE_FLAG_V",
  }),
  f("TV", 0, 1, 1, "translation information (q0 63:2) valid", {
    linux: "DEV_ENTRY_TRANSLATION, DTE_FLAG_TV",
  }),
  rsvd("Rsvd0", 0, 2, 7),
  f("Mode", 0, 9, 3, "host paging mode", {
    linux: "DEV_ENTRY_MODE_SHIFT",
    values: {
      0: "no translation (IOVA = SPA, IR/IW apply)",
      1: "1 level (2 MiB)",
      2: "2 levels (1 GiB)",
      3: "3 levels (512 GiB)",
      4: "4 levels (256 TiB)",
      5: "5 levels (57-bit)",
      6: "6 levels (64-bit)",
      7: "reserved",
    },
  }),
  f("PageTableRootPtr", 0, 12, 40, "SPA of the root page table", { addrShift: 12 }),
  f("PPR", 0, 52, 1, "peripheral page requests enabled", { linux: "DEV_ENTRY_PPR" }),
  f("GPRP", 0, 53, 1, "guest PPR response with PASID"),
  f("GIoV", 0, 54, 1, "guest I/O protection valid", { linux: "DTE_FLAG_GIOV" }),
  f("GV", 0, 55, 1, "guest translation valid", { linux: "DTE_FLAG_GV" }),
  f("GLX", 0, 56, 2, "GCR3 table levels", {
    linux: "DTE_GLX_SHIFT",
    values: { 0: "1 level", 1: "2 levels", 2: "reserved", 3: "reserved" },
  }),
  f("GCR3TableRootPtrA", 0, 58, 3, "GCR3 root [14:12]", { linux: "DTE_GCR3_VAL_A" }),
  f("IR", 0, 61, 1, "DMA read permission", { linux: "DEV_ENTRY_IR, DTE_FLAG_IR" }),
  f("IW", 0, 62, 1, "DMA write permission", { linux: "DEV_ENTRY_IW, DTE_FLAG_IW" }),
  rsvd("Rsvd1", 0, 63, 1),
  f("DomainID", 1, 0, 16, "tags IOTLB entries", { linux: "DEV_DOMID_MASK" }),
  f("GCR3TableRootPtrB", 1, 16, 16, "GCR3 root [30:15]", { linux: "DTE_GCR3_VAL_B" }),
  f("I", 1, 32, 1, "remote IOTLB (ATS) enable", { linux: "DTE_FLAG_IOTLB" }),
  f("SE", 1, 33, 1, "suppress repeated I/O page fault events"),
  f("SA", 1, 34, 1, "suppress all I/O page fault events", {
    linux: "DEV_ENTRY_NO_PAGE_FAULT, DTE_FLAG_SA",
  }),
  f("IoCtl", 1, 35, 2, "port I/O control", {
    values: { 0: "abort", 1: "forward", 2: "translate", 3: "reserved" },
  }),
  f("Cache", 1, 37, 1, "IOTLB cache hint"),
  f("SD", 1, 38, 1, "snoop disable"),
  f("EX", 1, 39, 1, "allow exclusion range", { linux: "DEV_ENTRY_EX" }),
  f("SysMgt", 1, 40, 2, "system management message control", {
    linux: "DEV_ENTRY_SYSMGT1/2",
    values: { 0: "deny", 1: "forward all", 2: "forward INTx", 3: "translate" },
  }),
  rsvd("Rsvd2", 1, 42, 1),
  f("GCR3TableRootPtrC", 1, 43, 21, "GCR3 root [51:31]", { linux: "DTE_GCR3_VAL_C" }),
  f("IV", 2, 0, 1, "interrupt map valid", { linux: "DEV_ENTRY_IRQ_TBL_EN" }),
  f("IntTabLen", 2, 1, 4, "log2 of the interrupt remapping table's entries", {
    linux: "DTE_IRQ_TABLE_LEN_MASK",
  }),
  f("IG", 2, 5, 1, "ignore unmapped interrupts (no event)"),
  f("InterruptTableRootPtr", 2, 6, 46, "SPA of the interrupt remapping table", {
    addrShift: 6,
    linux: "DTE_IRQ_PHYS_ADDR_MASK",
  }),
  rsvd("Rsvd3", 2, 52, 4),
  f("InitPass", 2, 56, 1, "pass INIT", { linux: "DEV_ENTRY_INIT_PASS" }),
  f("EIntPass", 2, 57, 1, "pass ExtInt", { linux: "DEV_ENTRY_EINT_PASS" }),
  f("NMIPass", 2, 58, 1, "pass NMI", { linux: "DEV_ENTRY_NMI_PASS" }),
  rsvd("Rsvd4", 2, 59, 1),
  f("IntCtl", 2, 60, 2, "interrupt control", {
    linux: "DTE_IRQ_REMAP_INTCTL_MASK",
    values: { 0: "target abort", 1: "forward unmapped", 2: "remapped", 3: "reserved" },
  }),
  f("Lint0Pass", 2, 62, 1, "pass LINT0", { linux: "DEV_ENTRY_LINT0_PASS" }),
  f("Lint1Pass", 2, 63, 1, "pass LINT1", { linux: "DEV_ENTRY_LINT1_PASS" }),
  rsvd("Rsvd5", 3, 0, 64),
], [
  {
    name: "GCR3TableRootPtr",
    doc: "SPA of the GCR3 (guest CR3) table, from parts A, B, C",
    address: true,
    parts: [
      { field: "GCR3TableRootPtrA", at: 12 },
      { field: "GCR3TableRootPtrB", at: 15 },
      { field: "GCR3TableRootPtrC", at: 31 },
    ],
  },
]);

/** Bytes per DTE (DEV_TABLE_ENTRY_SIZE). */
export const DTE_BYTES = 32;
