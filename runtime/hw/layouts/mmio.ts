/**
 * The AMD IOMMU MMIO register file: offsets and field layouts (reference §1).
 *
 * Every register is 64 bits wide and reachable as two 32-bit halves (low at +0, high at +4).
 *
 * @module
 */
import { f, type FieldSpec, Layout, rsvd } from "../bits.ts";

const baseLen = (lenName: string, linux: string): Layout =>
  new Layout(lenName.replace("Len", "Base"), 8, [
    rsvd("Rsvd0", 0, 0, 12),
    f("Base", 0, 12, 40, "4 KiB aligned SPA of the ring", { addrShift: 12 }),
    rsvd("Rsvd1", 0, 52, 4),
    f(lenName, 0, 56, 4, "ring holds 2^Len 16-byte entries", { linux }),
    rsvd("Rsvd2", 0, 60, 4),
  ]);

const ptr = (name: string): Layout =>
  new Layout(name, 8, [
    rsvd("Rsvd0", 0, 0, 4),
    f("Ptr", 0, 4, 15, "byte offset into the ring (bits 18:4)", { addrShift: 4 }),
    rsvd("Rsvd1", 0, 19, 45),
  ]);

/** Device Table Base Address register (0x0000). */
export const DEV_TAB_BASE: Layout = new Layout("DevTabBase", 8, [
  f("Size", 0, 0, 9, "table size in 4 KiB pages minus 1"),
  rsvd("Rsvd0", 0, 9, 3),
  f("DevTabBase", 0, 12, 40, "4 KiB aligned SPA of the device table", { addrShift: 12 }),
  rsvd("Rsvd1", 0, 52, 12),
]);

/** Command Buffer Base Address register (0x0008). */
export const CMD_BUF_BASE: Layout = baseLen("ComLen", "MMIO_CMD_SIZE_512");
/** Event Log Base Address register (0x0010). */
export const EVT_LOG_BASE: Layout = baseLen("EventLen", "EVT_LEN_MASK");
/** PPR Log Base Address register (0x0038). */
export const PPR_LOG_BASE: Layout = baseLen("PPRLogLen", "PPR_LOG_SIZE_512");

/** Control register (0x0018). */
export const CONTROL: Layout = new Layout("Control", 8, [
  f("IommuEn", 0, 0, 1, "IOMMU enable", { linux: "CONTROL_IOMMU_EN" }),
  f("HtTunEn", 0, 1, 1, "HyperTransport tunnel enable", { linux: "CONTROL_HT_TUN_EN" }),
  f("EventLogEn", 0, 2, 1, "event log enable", { linux: "CONTROL_EVT_LOG_EN" }),
  f("EventIntEn", 0, 3, 1, "event log interrupt enable", { linux: "CONTROL_EVT_INT_EN" }),
  f("ComWaitIntEn", 0, 4, 1, "completion wait interrupt enable", { linux: "CONTROL_COMWAIT_EN" }),
  f("InvTimeOut", 0, 5, 3, "invalidation timeout", {
    linux: "CONTROL_INV_TIMEOUT",
    values: {
      0: "none",
      1: "1 ms",
      2: "10 ms",
      3: "100 ms",
      4: "1 s",
      5: "10 s",
      6: "100 s",
      7: "reserved",
    },
  }),
  f("PassPW", 0, 8, 1, "pass posted writes", { linux: "CONTROL_PASSPW_EN" }),
  f("ResPassPW", 0, 9, 1, "response pass posted writes", { linux: "CONTROL_RESPASSPW_EN" }),
  f("Coherent", 0, 10, 1, "coherent table walks", { linux: "CONTROL_COHERENT_EN" }),
  f("Isoc", 0, 11, 1, "isochronous", { linux: "CONTROL_ISOC_EN" }),
  f("CmdBufEn", 0, 12, 1, "command buffer enable", { linux: "CONTROL_CMDBUF_EN" }),
  f("PPRLogEn", 0, 13, 1, "PPR log enable", { linux: "CONTROL_PPFLOG_EN" }),
  f("PPRIntEn", 0, 14, 1, "PPR interrupt enable", { linux: "CONTROL_PPFINT_EN" }),
  f("PPREn", 0, 15, 1, "peripheral page requests enable", { linux: "CONTROL_PPR_EN" }),
  f("GTEn", 0, 16, 1, "guest translation enable", { linux: "CONTROL_GT_EN" }),
  f("GAEn", 0, 17, 1, "guest vAPIC enable (128-bit IRTEs)", { linux: "CONTROL_GA_EN" }),
  f("CRW", 0, 18, 4, "reserved/undocumented"),
  f("SmiFEn", 0, 22, 1, "SMI filter enable"),
  f("SlfWBdis", 0, 23, 1, "self write-back disable"),
  f("SmiFLogEn", 0, 24, 1, "SMI filter log enable"),
  f("GAMEn", 0, 25, 3, "guest vAPIC mode", { linux: "CONTROL_GAM_EN" }),
  f("GALogEn", 0, 28, 1, "GA log enable", { linux: "CONTROL_GALOG_EN" }),
  f("GAIntEn", 0, 29, 1, "GA interrupt enable", { linux: "CONTROL_GAINT_EN" }),
  f("DualPprLogEn", 0, 30, 2, "dual PPR log enable"),
  f("DualEventLogEn", 0, 32, 2, "dual event log enable"),
  f("DevTblSegEn", 0, 34, 3, "device table segmentation"),
  f("PrivAbrtEn", 0, 37, 2, "privilege abort enable"),
  f("PprAutoRspEn", 0, 39, 1, "PPR auto response"),
  f("MarcEn", 0, 40, 1, "MARC enable"),
  f("BlkStopMrkEn", 0, 41, 1, "block stop marker"),
  f("PprAutoRspAon", 0, 42, 1, "PPR auto response always on"),
  rsvd("Rsvd0", 0, 43, 2),
  f("EPHEn", 0, 45, 1, "enhanced PPR handling"),
  f("HADUpdate", 0, 46, 2, "access/dirty update"),
  f("GDUpdateDis", 0, 48, 1, "guest dirty update disable"),
  rsvd("Rsvd1", 0, 49, 1),
  f("XTEn", 0, 50, 1, "x2APIC enable", { linux: "CONTROL_XT_EN" }),
  f("IntCapXTEn", 0, 51, 1, "x2APIC interrupt capability", { linux: "CONTROL_INTCAPXT_EN" }),
  rsvd("Rsvd2", 0, 52, 2),
  f("GAUpdateDis", 0, 54, 1, "GA update disable"),
  rsvd("Rsvd3", 0, 55, 9),
]);

/** Status register (0x2020): RW1C interrupt/overflow bits, read-only run bits. */
export const STATUS: Layout = new Layout("Status", 8, [
  f("EventOverflow", 0, 0, 1, "event log overflowed", {
    access: "rw1c",
    linux: "MMIO_STATUS_EVT_OVERFLOW_MASK",
  }),
  f("EventLogInt", 0, 1, 1, "event logged", { access: "rw1c", linux: "MMIO_STATUS_EVT_INT_MASK" }),
  f("ComWaitInt", 0, 2, 1, "completion wait done", {
    access: "rw1c",
    linux: "MMIO_STATUS_COM_WAIT_INT_MASK",
  }),
  f("EventLogRun", 0, 3, 1, "event logging running", {
    access: "ro",
    linux: "MMIO_STATUS_EVT_RUN_MASK",
  }),
  f("CmdBufRun", 0, 4, 1, "command processor running", { access: "ro" }),
  f("PprOverflow", 0, 5, 1, "PPR log overflowed", {
    access: "rw1c",
    linux: "MMIO_STATUS_PPR_OVERFLOW_MASK",
  }),
  f("PprInt", 0, 6, 1, "PPR request logged", { access: "rw1c", linux: "MMIO_STATUS_PPR_INT_MASK" }),
  f("PprLogRun", 0, 7, 1, "PPR logging running", {
    access: "ro",
    linux: "MMIO_STATUS_PPR_RUN_MASK",
  }),
  f("GALogRun", 0, 8, 1, "GA logging running", {
    access: "ro",
    linux: "MMIO_STATUS_GALOG_RUN_MASK",
  }),
  f("GALOverflow", 0, 9, 1, "GA log overflowed", { access: "rw1c" }),
  f("GAInt", 0, 10, 1, "GA log interrupt", { access: "rw1c" }),
  rsvd("Rsvd0", 0, 11, 53),
]);

/** Marks every field of a register read-only to software. */
const readOnly = (specs: FieldSpec[]): FieldSpec[] => specs.map((s) => ({ ...s, access: "ro" }));

/** Extended Feature Register (0x0030), read-only. */
export const EFR: Layout = new Layout(
  "EFR",
  8,
  readOnly([
    f("PreFSup", 0, 0, 1, "PREFETCH_IOMMU_PAGES supported", { linux: "FEATURE_PREFETCH" }),
    f("PPRSup", 0, 1, 1, "peripheral page requests supported", { linux: "FEATURE_PPR" }),
    f("XTSup", 0, 2, 1, "x2APIC supported", { linux: "FEATURE_X2APIC" }),
    f("NXSup", 0, 3, 1, "no-execute supported", { linux: "FEATURE_NX" }),
    f("GTSup", 0, 4, 1, "guest translation supported", { linux: "FEATURE_GT" }),
    rsvd("Rsvd0", 0, 5, 1),
    f("IASup", 0, 6, 1, "INVALIDATE_IOMMU_ALL supported", { linux: "FEATURE_IA" }),
    f("GASup", 0, 7, 1, "guest vAPIC supported", { linux: "FEATURE_GA" }),
    f("HESup", 0, 8, 1, "hardware error registers", { linux: "FEATURE_HE" }),
    f("PCSup", 0, 9, 1, "performance counters", { linux: "FEATURE_PC" }),
    f("HATS", 0, 10, 2, "host address translation size", {
      values: { 0: "4 levels", 1: "5 levels", 2: "6 levels", 3: "no host translation" },
    }),
    f("GATS", 0, 12, 2, "guest address translation size", {
      values: { 0: "4 levels", 1: "5 levels" },
    }),
    f("GLXSup", 0, 14, 2, "GCR3 table levels supported", { linux: "FEATURE_GLXVAL" }),
    f("SmiFSup", 0, 16, 2, "SMI filter supported"),
    f("SmiFRC", 0, 18, 3, "SMI filter register count"),
    f("GAMSup", 0, 21, 3, "guest vAPIC modes", { linux: "FEATURE_GAM_VAPIC" }),
    f("DualPprLogSup", 0, 24, 2, "dual PPR log"),
    rsvd("Rsvd1", 0, 26, 2),
    f("DualEventLogSup", 0, 28, 2, "dual event log"),
    rsvd("Rsvd2", 0, 30, 2),
    f("PASMax", 0, 32, 5, "max PASID width - 1", { linux: "FEATURE_PASID" }),
    f("USSup", 0, 37, 1, "user/supervisor supported"),
    f("DevTblSegSup", 0, 38, 2, "device table segments"),
    f("PprOvrflwEarlySup", 0, 40, 1, "PPR overflow early warning"),
    f("PprAutoRspSup", 0, 41, 1, "PPR auto response"),
    f("MarcSup", 0, 42, 2, "MARC"),
    f("BlkStopMrkSup", 0, 44, 1, "block stop marker"),
    f("PerfOptSup", 0, 45, 1, "performance optimization"),
    f("MsiCapMmioSup", 0, 46, 1, "MSI capability MMIO access"),
    rsvd("Rsvd3", 0, 47, 1),
    f("GIoSup", 0, 48, 1, "guest I/O protection", { linux: "FEATURE_GIOSUP" }),
    f("HASup", 0, 49, 1, "host access", { linux: "FEATURE_HASUP" }),
    f("EPHSup", 0, 50, 1, "enhanced PPR handling", { linux: "FEATURE_EPHSUP" }),
    f("AttrFWSup", 0, 51, 1, "attribute forward"),
    f("HDSup", 0, 52, 1, "host dirty", { linux: "FEATURE_HDSUP" }),
    rsvd("Rsvd4", 0, 53, 1),
    f("InvIotlbTypeSup", 0, 54, 1, "invalidate IOTLB type"),
    rsvd("Rsvd5", 0, 55, 6),
    f("GAUpdateDisSup", 0, 61, 1, "GA update disable"),
    f("ForcePhyDestSup", 0, 62, 1, "force physical destination"),
    f("SNPSup", 0, 63, 1, "SEV-SNP supported (newer specs)", { linux: "FEATURE_SNP" }),
  ]),
);

/** Exclusion Range Base register (0x0020). */
export const EXCL_BASE: Layout = new Layout("ExclBase", 8, [
  f("ExEn", 0, 0, 1, "exclusion range enable"),
  f("Allow", 0, 1, 1, "exclusion range applies to all devices"),
  rsvd("Rsvd0", 0, 2, 10),
  f("ExclBase", 0, 12, 40, "exclusion base", { addrShift: 12 }),
  rsvd("Rsvd1", 0, 52, 12),
]);

/** Exclusion Range Limit register (0x0028); bits 11:0 read as ones. */
export const EXCL_LIMIT: Layout = new Layout("ExclLimit", 8, [
  rsvd("Rsvd0", 0, 0, 12),
  f("ExclLimit", 0, 12, 40, "exclusion limit", { addrShift: 12 }),
  rsvd("Rsvd1", 0, 52, 12),
]);

/** Head/tail pointer registers. */
export const CMD_HEAD: Layout = ptr("CmdHead");
/** Command buffer tail (written by software). */
export const CMD_TAIL: Layout = ptr("CmdTail");
/** Event log head (written by software). */
export const EVT_HEAD: Layout = ptr("EvtHead");
/** Event log tail (advanced by the IOMMU). */
export const EVT_TAIL: Layout = ptr("EvtTail");
/** PPR log head. */
export const PPR_HEAD: Layout = ptr("PprHead");
/** PPR log tail. */
export const PPR_TAIL: Layout = ptr("PprTail");
/** GA log head (guest vAPIC log; written by software). */
export const GA_HEAD: Layout = ptr("GaHead");
/** GA log tail (advanced by the IOMMU). */
export const GA_TAIL: Layout = ptr("GaTail");

/**
 * GA (guest vAPIC) Log Base Address register (0x00E0). Linux writes Len 8 for its 512 8-byte
 * entries (GA_LOG_SIZE_512), so the length rule differs from the other rings' (unsure which;
 * the model does not write GA log entries).
 */
export const GA_LOG_BASE: Layout = new Layout("GALogBase", 8, [
  rsvd("Rsvd0", 0, 0, 12),
  f("Base", 0, 12, 40, "4 KiB aligned SPA of the GA log", { addrShift: 12 }),
  rsvd("Rsvd1", 0, 52, 4),
  f("GALogLen", 0, 56, 4, "GA log length (Linux: 8 for 512 entries)", { linux: "GA_LOG_SIZE_512" }),
  rsvd("Rsvd2", 0, 60, 4),
]);

/** GA Log Tail Address register (0x00E8): where the IOMMU writes the GA log's tail pointer. */
export const GA_LOG_TAIL_ADDR: Layout = new Layout("GALogTailAddr", 8, [
  rsvd("Rsvd0", 0, 0, 3),
  f("Addr", 0, 3, 49, "8-byte aligned SPA of the tail pointer", { addrShift: 3 }),
  rsvd("Rsvd1", 0, 52, 12),
]);

/** One register of the MMIO map. */
export interface RegisterDef {
  /** Byte offset from the MMIO base. */
  offset: number;
  /** Short name (also the decoder CLI's name). */
  name: string;
  /** Linux MMIO_*_OFFSET name. */
  linux: string;
  /** The register's fields (64 bits). */
  layout: Layout;
}

/** The register map, with literal types so that {@link MMIO} is derived from it. */
const MAP = [
  { offset: 0x0000, name: "devtab-base", linux: "MMIO_DEV_TABLE_OFFSET", layout: DEV_TAB_BASE },
  { offset: 0x0008, name: "cmdbuf-base", linux: "MMIO_CMD_BUF_OFFSET", layout: CMD_BUF_BASE },
  { offset: 0x0010, name: "evtlog-base", linux: "MMIO_EVT_BUF_OFFSET", layout: EVT_LOG_BASE },
  { offset: 0x0018, name: "control", linux: "MMIO_CONTROL_OFFSET", layout: CONTROL },
  { offset: 0x0020, name: "excl-base", linux: "MMIO_EXCL_BASE_OFFSET", layout: EXCL_BASE },
  { offset: 0x0028, name: "excl-limit", linux: "MMIO_EXCL_LIMIT_OFFSET", layout: EXCL_LIMIT },
  { offset: 0x0030, name: "efr", linux: "MMIO_EXT_FEATURES", layout: EFR },
  { offset: 0x0038, name: "pprlog-base", linux: "MMIO_PPR_LOG_OFFSET", layout: PPR_LOG_BASE },
  { offset: 0x00e0, name: "galog-base", linux: "MMIO_GA_LOG_BASE_OFFSET", layout: GA_LOG_BASE },
  {
    offset: 0x00e8,
    name: "galog-tail-addr",
    linux: "MMIO_GA_LOG_TAIL_OFFSET",
    layout: GA_LOG_TAIL_ADDR,
  },
  { offset: 0x2000, name: "cmd-head", linux: "MMIO_CMD_HEAD_OFFSET", layout: CMD_HEAD },
  { offset: 0x2008, name: "cmd-tail", linux: "MMIO_CMD_TAIL_OFFSET", layout: CMD_TAIL },
  { offset: 0x2010, name: "evt-head", linux: "MMIO_EVT_HEAD_OFFSET", layout: EVT_HEAD },
  { offset: 0x2018, name: "evt-tail", linux: "MMIO_EVT_TAIL_OFFSET", layout: EVT_TAIL },
  { offset: 0x2020, name: "status", linux: "MMIO_STATUS_OFFSET", layout: STATUS },
  { offset: 0x2030, name: "ppr-head", linux: "MMIO_PPR_HEAD_OFFSET", layout: PPR_HEAD },
  { offset: 0x2038, name: "ppr-tail", linux: "MMIO_PPR_TAIL_OFFSET", layout: PPR_TAIL },
  { offset: 0x2040, name: "ga-head", linux: "MMIO_GA_HEAD_OFFSET", layout: GA_HEAD },
  { offset: 0x2048, name: "ga-tail", linux: "MMIO_GA_TAIL_OFFSET", layout: GA_TAIL },
] as const satisfies readonly RegisterDef[];

/** The register map this model implements, by offset (reference §1 table). */
export const REGISTERS: readonly RegisterDef[] = MAP;

/** A Linux register name without `MMIO_` and `_OFFSET`: `MMIO_DEV_TABLE_OFFSET` → `DEV_TABLE`. */
type ShortName<L extends string> = L extends `MMIO_${infer K}_OFFSET` ? K
  : L extends `MMIO_${infer K}` ? K
  : never;

/**
 * Register offsets by Linux-like short names, for the kernel model (`MMIO.DEV_TABLE` is
 * 0x0000 ...): each register's Linux name without `MMIO_` and `_OFFSET`.
 */
export const MMIO: MmioOffsets = Object.fromEntries(
  MAP.map((r) => [r.linux.replace(/^MMIO_/, "").replace(/_OFFSET$/, ""), r.offset]),
) as DerivedOffsets;

/** The register offsets by short name, as {@link MMIO} holds them. */
export interface MmioOffsets {
  /** Device Table Base Address. */
  readonly DEV_TABLE: 0x0000;
  /** Command Buffer Base Address. */
  readonly CMD_BUF: 0x0008;
  /** Event Log Base Address. */
  readonly EVT_BUF: 0x0010;
  /** Control. */
  readonly CONTROL: 0x0018;
  /** Exclusion Range Base. */
  readonly EXCL_BASE: 0x0020;
  /** Exclusion Range Limit. */
  readonly EXCL_LIMIT: 0x0028;
  /** Extended Feature. */
  readonly EXT_FEATURES: 0x0030;
  /** PPR Log Base Address. */
  readonly PPR_LOG: 0x0038;
  /** GA (guest vAPIC) Log Base Address. */
  readonly GA_LOG_BASE: 0x00e0;
  /** GA Log Tail Address. */
  readonly GA_LOG_TAIL: 0x00e8;
  /** Command Buffer Head Pointer. */
  readonly CMD_HEAD: 0x2000;
  /** Command Buffer Tail Pointer. */
  readonly CMD_TAIL: 0x2008;
  /** Event Log Head Pointer. */
  readonly EVT_HEAD: 0x2010;
  /** Event Log Tail Pointer. */
  readonly EVT_TAIL: 0x2018;
  /** Status. */
  readonly STATUS: 0x2020;
  /** PPR Log Head Pointer. */
  readonly PPR_HEAD: 0x2030;
  /** PPR Log Tail Pointer. */
  readonly PPR_TAIL: 0x2038;
  /** GA Log Head Pointer. */
  readonly GA_HEAD: 0x2040;
  /** GA Log Tail Pointer. */
  readonly GA_TAIL: 0x2048;
}

/** The offsets derived from the register map: {@link MmioOffsets} must be exactly these. */
type DerivedOffsets = {
  readonly [R in (typeof MAP)[number] as ShortName<R["linux"]>]: R["offset"];
};
/** Compiles only while the declared offsets equal the derived ones. */
const _sameOffsets: [MmioOffsets, DerivedOffsets] extends [DerivedOffsets, MmioOffsets] ? true
  : never = true;
void _sameOffsets;

/** Size of the MMIO window this model decodes (16 KiB, as QEMU maps it). */
export const MMIO_WINDOW = 0x4000;
