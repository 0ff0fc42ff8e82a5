/**
 * Test kit for the hardware model: builds a small machine and programs IOMMU structures
 * directly in memory the way any OS would (device table, page tables, rings). Test-only:
 * the kernel model has its own, Linux-shaped code for this.
 */
import { splitNumber } from "../../runtime/hw/bits.ts";
import type { DmaOutcome } from "../../runtime/hw/iommu/iommu.ts";
import {
  CMD_OPCODES,
  COMMAND_LAYOUTS,
  type CommandName,
  INV_ALL_PAGES_ADDRESS,
} from "../../runtime/hw/layouts/command.ts";
import { DTE, type DteField } from "../../runtime/hw/layouts/dte.ts";
import { EVENT_LAYOUTS, eventCode, eventName, PPR_ENTRY } from "../../runtime/hw/layouts/event.ts";
import { IRTE, IRTE_GA } from "../../runtime/hw/layouts/irte.ts";
import { CONTROL, MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { entryAddress, levelIndex } from "../../runtime/hw/layouts/pte.ts";
import { Machine } from "../../runtime/hw/machine.ts";

export type { Machine };

/** Physical layout of the test machine. */
export const KIT = {
  MMIO: 0xfeb8_0000,
  DEV_TABLE: 0x0100_0000, // 2 MiB table
  CMD_BUF: 0x0080_0000,
  EVT_LOG: 0x0080_4000,
  PPR_LOG: 0x0080_8000,
  SEM: 0x0080_c000,
  PT_POOL: 0x0200_0000,
  RAM_TOP: 0xc000_0000,
  HIGH_BASE: 0x1_0000_0000,
  HIGH_TOP: 0x2_0000_0000,
} as const;

/** A machine with one IOMMU, RAM below 3 GiB and 4..8 GiB, a hole in between. */
export function makeMachine(
  seed = 1,
  efr: Record<string, number> = { IASup: 1, HATS: 2, PPRSup: 1, GTSup: 1 },
) {
  const m = new Machine({
    seed,
    memoryMap: [
      { base: 0, size: KIT.RAM_TOP, kind: "ram", name: "System RAM" },
      { base: KIT.RAM_TOP, size: 0x1_0000_0000 - KIT.RAM_TOP, kind: "hole", name: "PCI MMIO hole" },
      { base: KIT.HIGH_BASE, size: KIT.HIGH_TOP - KIT.HIGH_BASE, kind: "ram", name: "System RAM" },
    ],
    iommus: [{ index: 0, devid: 0x0002, mmioBase: KIT.MMIO, efr }],
  });
  return m;
}

/** 64-bit MMIO write as two 32-bit writes (low half first). */
export function writeReg(m: Machine, off: number, value: number): void {
  const [lo, hi] = splitNumber(value);
  m.mem.write32(KIT.MMIO + off, lo);
  m.mem.write32(KIT.MMIO + off + 4, hi);
}

/** 32-bit MMIO read. */
export function readReg32(m: Machine, off: number): number {
  return m.mem.read32(KIT.MMIO + off);
}

/** Sets Control bits by name (read-modify-write of the low dword, then the high dword). */
export function setControl(m: Machine, bits: Partial<Record<string, number>>): void {
  const w = new Uint32Array([readReg32(m, MMIO.CONTROL), readReg32(m, MMIO.CONTROL + 4)]);
  for (const [k, v] of Object.entries(bits)) CONTROL.set(w, k, v ?? 0);
  m.mem.write32(KIT.MMIO + MMIO.CONTROL, w[0]);
  m.mem.write32(KIT.MMIO + MMIO.CONTROL + 4, w[1]);
}

/** Where {@link bringUp} puts the IOMMU's structures, and whether it enables translation. */
export interface BringUpOptions {
  enable?: boolean;
  devTable?: number;
  sizeField?: number;
  cmdBuf?: number;
  evtLen?: number;
}

/** Programs device table, command buffer and event log, then enables them (IommuEn last). */
export function bringUp(m: Machine, opts: BringUpOptions = {}) {
  const dt = opts.devTable ?? KIT.DEV_TABLE;
  writeReg(m, MMIO.DEV_TABLE, dt + (opts.sizeField ?? 0x1ff));
  writeReg(m, MMIO.CMD_BUF, (opts.cmdBuf ?? KIT.CMD_BUF) + 9 * 2 ** 56);
  writeReg(m, MMIO.EVT_BUF, KIT.EVT_LOG + (opts.evtLen ?? 9) * 2 ** 56);
  writeReg(m, MMIO.PPR_LOG, KIT.PPR_LOG + 9 * 2 ** 56);
  setControl(m, {
    CmdBufEn: 1,
    EventLogEn: 1,
    PPRLogEn: 1,
    PPREn: 1,
    IommuEn: opts.enable === false ? 0 : 1,
  });
}

/** A machine from {@link makeMachine}(`seed`, `efr`), its IOMMU brought up with `opts`. */
export function machineUp(
  opts: BringUpOptions & { seed?: number; efr?: Record<string, number> } = {},
): Machine {
  const m = makeMachine(opts.seed, opts.efr);
  bringUp(m, opts);
  return m;
}

/**
 * DTE fields of a device whose DMA the IOMMU checks: V=1, TV=1, reads and writes allowed
 * (IR=IW=1), in domain `domid`; `fields` add to them or override them.
 */
export function rwDte(
  domid: number,
  fields: Partial<Record<DteField, number>> = {},
): Partial<Record<DteField, number>> {
  return { V: 1, TV: 1, IR: 1, IW: 1, DomainID: domid, ...fields };
}

/** DTE fields for a `mode`-level I/O page table rooted at `root`. */
export const paging = (root: number, mode: number) => ({
  Mode: mode,
  PageTableRootPtr: root / 4096,
});

/** DTE fields for remapped interrupts (IV=1, IntCtl=2) through the 2^`len`-entry IRT at `irt`. */
export const intRemap = (irt: number, len = 8) => ({
  IV: 1,
  IntCtl: 2,
  IntTabLen: len,
  InterruptTableRootPtr: irt / 64,
});

/** Writes a DTE for `devid` in the table at `table`. */
export function writeDte(
  m: Machine,
  devid: number,
  fields: Partial<Record<DteField, number>>,
  table: number = KIT.DEV_TABLE,
) {
  m.mem.writeDwords(table + devid * 32, DTE.encode(fields));
}

let ptNext: number = KIT.PT_POOL;
/** Allocates a zeroed 4 KiB table from the kit's pool. */
export function allocTable(m: Machine): number {
  const a = ptNext;
  ptNext += 4096;
  m.mem.zero(a, 4096);
  return a;
}

/** Writes a 64-bit entry. */
export function writeEntry(m: Machine, addr: number, value: bigint): void {
  m.mem.write32(addr, Number(value & 0xffff_ffffn));
  m.mem.write32(addr + 4, Number(value >> 32n));
}

/** PDE/PTE value: address | NextLevel<<9 | PR | IR<<61 | IW<<62. */
export function pte(addr: number, nextLevel: number, ir = true, iw = true): bigint {
  return BigInt(addr) | (BigInt(nextLevel) << 9n) | 1n | (ir ? 1n << 61n : 0n) |
    (iw ? 1n << 62n : 0n);
}

/**
 * Maps the 4 KiB page `iova` → `spa` in a `mode`-level table rooted at `root`, creating
 * intermediate tables. Returns the leaf entry's address.
 */
export function map4k(
  m: Machine,
  root: number,
  mode: number,
  iova: number,
  spa: number,
  ir = true,
  iw = true,
): number {
  let table = root;
  for (let level = mode; level > 1; level--) {
    const ea = table + levelIndex(iova, level) * 8;
    const lo = m.mem.read32(ea);
    if (lo & 1) {
      table = entryAddress(lo, m.mem.read32(ea + 4));
    } else {
      const t = allocTable(m);
      writeEntry(m, ea, pte(t, level - 1));
      table = t;
    }
  }
  const leaf = table + levelIndex(iova, 1) * 8;
  writeEntry(m, leaf, pte(spa, 0, ir, iw));
  return leaf;
}

/**
 * Queues a command at the command-buffer tail and rings the doorbell. Returns the SPA the
 * command was written at.
 */
export function queueCommand(
  m: Machine,
  name: CommandName,
  fields: Record<string, number>,
): number {
  const L = COMMAND_LAYOUTS[name];
  return queueRaw(m, L.encode({ ...fields, Opcode: CMD_OPCODES[name] }));
}

/** Queues four raw dwords as a command (for malformed commands); returns its SPA. */
export function queueRaw(m: Machine, w: ArrayLike<number>): number {
  const tail = readReg32(m, MMIO.CMD_TAIL);
  const at = m.iommus[0].regs.field(MMIO.CMD_BUF, "Base") * 4096 + tail;
  m.mem.writeDwords(at, w);
  const size = 2 ** m.iommus[0].regs.field(MMIO.CMD_BUF, "ComLen") * 16;
  m.mem.write32(KIT.MMIO + MMIO.CMD_TAIL, (tail + 16) % size);
  return at;
}

/** Runs the clock until the command buffer is drained (or `limitNs` passes). */
export function drainCommands(m: Machine, limitNs = 1_000_000): void {
  const end = m.clock.now + limitNs;
  while (m.clock.now < end && readReg32(m, MMIO.CMD_HEAD) !== readReg32(m, MMIO.CMD_TAIL)) {
    m.clock.advance(100);
    if (!m.iommus[0].commandsRunning) break;
  }
}

/** A decoded event-log entry. */
export interface LoggedEvent {
  name: string;
  fields: Record<string, number>;
  flags: number;
  address: bigint;
}

/** The event log ring as the registers describe it now: [base SPA, size in bytes]. */
export function eventRing(m: Machine): [number, number] {
  const u = m.iommus[0];
  return [
    u.regs.field(MMIO.EVT_BUF, "Base") * 4096,
    2 ** u.regs.field(MMIO.EVT_BUF, "EventLen") * 16,
  ];
}

/**
 * The 16-byte entries of the ring at `base` (`size` bytes) from offset `head` up to `tail`,
 * as dwords.
 */
function ringEntries(
  m: Machine,
  [base, size]: [number, number],
  head: number,
  tail: number,
): Uint32Array[] {
  const out: Uint32Array[] = [];
  for (let off = head; off !== tail; off = (off + 16) % size) {
    const w = new Uint32Array(4);
    m.mem.readDwords(base + off, 4, w);
    out.push(w);
  }
  return out;
}

/** Reads the events between head and tail (does not consume them). */
export function readEvents(m: Machine): LoggedEvent[] {
  const head = readReg32(m, MMIO.EVT_HEAD), tail = readReg32(m, MMIO.EVT_TAIL);
  return ringEntries(m, eventRing(m), head, tail).map((w) => {
    const name = eventName(eventCode(w)) ?? "UNKNOWN";
    const layout = name === "UNKNOWN" ? undefined : EVENT_LAYOUTS[name];
    return {
      name,
      fields: layout ? layout.decode(w) : {},
      flags: (w[1] >>> 16) & 0xfff,
      address: (BigInt(w[3]) << 32n) | BigInt(w[2]),
    };
  });
}

/** The DMA read/write a device would issue (bypassing any device model). */
export function dma(m: Machine, devid: number, addr: number, write: boolean, pasid?: number) {
  const buf = new Uint32Array(1);
  if (write) {
    buf[0] = 0xdeadbeef;
    return m.dmaWrite(devid, addr, buf, pasid);
  }
  return m.dmaRead(devid, addr, buf, pasid);
}

/** The IOMMU's decision for one access, without the bus (for decision-table tests). */
export function xlate(
  m: Machine,
  devid: number,
  addr: number,
  write: boolean,
  extra: { pasid?: number; ats?: boolean } = {},
): DmaOutcome {
  return m.iommus[0].translate({ devid, addr, len: 4, write, ...extra });
}

/** Reads the pending events and advances Event Log Head past them, as a driver would. */
export function consumeEvents(m: Machine): LoggedEvent[] {
  const ev = readEvents(m);
  m.mem.write32(KIT.MMIO + MMIO.EVT_HEAD, readReg32(m, MMIO.EVT_TAIL));
  return ev;
}

/** Asserts exactly one pending event and returns it (consumed). */
export function oneEvent(m: Machine): LoggedEvent {
  const ev = consumeEvents(m);
  if (ev.length !== 1) {
    throw new Error(`expected one event, got ${ev.length}: ${ev.map((e) => e.name).join(", ")}`);
  }
  return ev[0];
}

/** Asserts that nothing was logged. */
export function noEvents(m: Machine): void {
  const ev = readEvents(m);
  if (ev.length) throw new Error(`expected no event, got ${ev.map((e) => e.name).join(", ")}`);
}

/** Invalidation helpers: queue the command and run the command processor until drained. */
export function invalidateDte(m: Machine, devid: number): void {
  queueCommand(m, "INVALIDATE_DEVTAB_ENTRY", { DeviceID: devid });
  drainCommands(m);
}

/** INVALIDATE_IOMMU_PAGES for the whole domain (address 0x7fffffffffffffff, S=1). */
export function invalidateDomain(m: Machine, domid: number): void {
  queueCommand(m, "INVALIDATE_IOMMU_PAGES", {
    DomainID: domid,
    S: 1,
    Address: INV_ALL_PAGES_ADDRESS / 4096,
  });
  drainCommands(m);
}

/** Maps `iova` to `spa` and returns the address of the entry used at every level, root first. */
export function mapPath(
  m: Machine,
  root: number,
  mode: number,
  iova: number,
  spa: number,
  ir = true,
  iw = true,
): number[] {
  const leaf = map4k(m, root, mode, iova, spa, ir, iw);
  const path: number[] = [];
  let table = root;
  for (let level = mode; level > 1; level--) {
    const ea = table + levelIndex(iova, level) * 8;
    path.push(ea);
    table = entryAddress(m.mem.read32(ea), m.mem.read32(ea + 4));
  }
  path.push(leaf);
  return path;
}

/** Reads a 64-bit entry as a bigint. */
export function readEntry(m: Machine, addr: number): bigint {
  return (BigInt(m.mem.read32(addr + 4)) << 32n) | BigInt(m.mem.read32(addr));
}

/** Writes an interrupt remapping table entry (legacy 4 bytes, or 16 bytes when `ga`). */
export function writeIrte(
  m: Machine,
  table: number,
  index: number,
  fields: Record<string, number>,
  ga = false,
): number {
  const at = table + index * (ga ? 16 : 4);
  m.mem.writeDwords(at, (ga ? IRTE_GA : IRTE).encode(fields));
  return at;
}

/** A decoded PPR log entry (reference §8). */
export interface PprEntry {
  devid: number;
  pasid: number;
  tag: number;
  flags: number;
  type: number;
  address: number;
}

/** Reads the PPR log entries between head and tail (does not consume them). */
export function readPprLog(m: Machine): PprEntry[] {
  const u = m.iommus[0];
  const ring: [number, number] = [
    u.regs.field(MMIO.PPR_LOG, "Base") * 4096,
    2 ** u.regs.field(MMIO.PPR_LOG, "PPRLogLen") * 16,
  ];
  const head = readReg32(m, MMIO.PPR_HEAD), tail = readReg32(m, MMIO.PPR_TAIL);
  return ringEntries(m, ring, head, tail).map((w) => {
    const e = PPR_ENTRY.decode(w);
    return {
      devid: e.DeviceID,
      pasid: e.PASID + e.PASIDHi * 0x1_0000,
      tag: e.Tag,
      flags: e.Flags,
      type: e.Type,
      address: e.Address,
    };
  });
}
