/**
 * Test kit for the hardware model: builds a small machine and programs IOMMU structures
 * directly in memory the way any OS would (device table, page tables, rings). Test-only:
 * the kernel model has its own, Linux-shaped code for this.
 */
import { splitNumber } from "../../runtime/hw/bits.ts";
import { COMMAND_LAYOUTS, type CommandName } from "../../runtime/hw/layouts/command.ts";
import { DTE, type DteField } from "../../runtime/hw/layouts/dte.ts";
import { EVENT_LAYOUTS, eventName } from "../../runtime/hw/layouts/event.ts";
import { CONTROL, MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { Machine } from "../../runtime/hw/machine.ts";

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

/** Programs device table, command buffer and event log, then enables them (IommuEn last). */
export function bringUp(
  m: Machine,
  opts: { enable?: boolean; devTable?: number; sizeField?: number } = {},
) {
  const dt = opts.devTable ?? KIT.DEV_TABLE;
  writeReg(m, MMIO.DEV_TABLE, dt + (opts.sizeField ?? 0x1ff));
  writeReg(m, MMIO.CMD_BUF, KIT.CMD_BUF + 9 * 2 ** 56);
  writeReg(m, MMIO.EVT_BUF, KIT.EVT_LOG + 9 * 2 ** 56);
  writeReg(m, MMIO.PPR_LOG, KIT.PPR_LOG + 9 * 2 ** 56);
  setControl(m, {
    CmdBufEn: 1,
    EventLogEn: 1,
    PPRLogEn: 1,
    PPREn: 1,
    IommuEn: opts.enable === false ? 0 : 1,
  });
}

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
    const idx = Math.floor(iova / 2 ** (12 + 9 * (level - 1))) % 512;
    const ea = table + idx * 8;
    const lo = m.mem.read32(ea);
    if (lo & 1) {
      table = m.mem.read32(ea + 4) % 0x10_0000 * 0x1_0000_0000 + ((lo & 0xffff_f000) >>> 0);
    } else {
      const t = allocTable(m);
      writeEntry(m, ea, pte(t, level - 1));
      table = t;
    }
  }
  const leaf = table + (Math.floor(iova / 4096) % 512) * 8;
  writeEntry(m, leaf, pte(spa, 0, ir, iw));
  return leaf;
}

/** Queues a command at the command-buffer tail and rings the doorbell. */
export function queueCommand(m: Machine, name: CommandName, fields: Record<string, number>): void {
  const L = COMMAND_LAYOUTS[name];
  const w = L.encode({ ...fields, Opcode: COMMAND_OPCODE(name) });
  const tail = readReg32(m, MMIO.CMD_TAIL);
  m.mem.writeDwords(KIT.CMD_BUF + tail, w);
  const next = (tail + 16) % (512 * 16);
  m.mem.write32(KIT.MMIO + MMIO.CMD_TAIL, next);
}

function COMMAND_OPCODE(name: CommandName): number {
  return ({
    COMPLETION_WAIT: 1,
    INVALIDATE_DEVTAB_ENTRY: 2,
    INVALIDATE_IOMMU_PAGES: 3,
    INVALIDATE_IOTLB_PAGES: 4,
    INVALIDATE_INTERRUPT_TABLE: 5,
    PREFETCH_IOMMU_PAGES: 6,
    COMPLETE_PPR_REQUEST: 7,
    INVALIDATE_IOMMU_ALL: 8,
  } as const)[name];
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

/** Reads the events between head and tail (does not consume them). */
export function readEvents(m: Machine): LoggedEvent[] {
  const head = readReg32(m, MMIO.EVT_HEAD), tail = readReg32(m, MMIO.EVT_TAIL);
  const out: LoggedEvent[] = [];
  for (let off = head; off !== tail; off = (off + 16) % (512 * 16)) {
    const w = new Uint32Array(4);
    m.mem.readDwords(KIT.EVT_LOG + off, 4, w);
    const name = eventName((w[1] >>> 28) & 0xf) ?? "UNKNOWN";
    const layout = name === "UNKNOWN" ? undefined : EVENT_LAYOUTS[name];
    out.push({
      name,
      fields: layout ? layout.decode(w) : {},
      flags: (w[1] >>> 16) & 0xfff,
      address: (BigInt(w[3]) << 32n) | BigInt(w[2]),
    });
  }
  return out;
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
