/**
 * The command processor (reference §7): commands are read from the ring in memory, one at
 * a time on the event clock; COMPLETION_WAIT stores and interrupts; an illegal command or
 * an unreadable buffer stops the processor with the head left at the failing command.
 */
import assert from "node:assert/strict";
import { COMMAND_LAYOUTS } from "../../runtime/hw/layouts/command.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import {
  consumeEvents,
  drainCommands,
  KIT,
  type Machine,
  machineUp,
  noEvents,
  oneEvent,
  queueCommand,
  queueRaw,
  readReg32,
  setControl,
} from "./kit.ts";

const HOLE = 0xd000_0000;

const head = (m: Machine) => readReg32(m, MMIO.CMD_HEAD);
const tail = (m: Machine) => readReg32(m, MMIO.CMD_TAIL);
const status = (m: Machine) => readReg32(m, MMIO.STATUS);
const CMD_BUF_RUN = 1 << 4, COM_WAIT_INT = 1 << 2;

/** A COMPLETION_WAIT that stores `data` (< 2^32) at `addr`. */
function completionWait(m: Machine, addr: number, data: number, i = 0): number {
  return queueCommand(m, "COMPLETION_WAIT", {
    S: 1,
    I: i,
    StoreAddress: addr / 8,
    StoreData: data,
  });
}

const setup = (efr?: Record<string, number>): Machine => machineUp({ efr });

Deno.test("COMPLETION_WAIT stores StoreData at StoreAddress once the processor reaches it", () => {
  const m = setup();
  m.mem.write64(KIT.SEM, 0, 0);
  queueCommand(m, "COMPLETION_WAIT", {
    S: 1,
    StoreAddress: KIT.SEM / 8,
    StoreData: 0x1_0000_0002,
  });
  assert.equal(tail(m), 16);
  assert.deepEqual(m.mem.read64(KIT.SEM), [0, 0], "nothing happens before simulated time passes");
  m.clock.advance(1000);
  assert.deepEqual(m.mem.read64(KIT.SEM), [2, 1], "64-bit StoreData, low half first");
  assert.equal(head(m), 16);
  assert.equal(status(m) & COM_WAIT_INT, 0, "I=0: no ComWaitInt");
  noEvents(m);
});

Deno.test("COMPLETION_WAIT with I=1 sets Status.ComWaitInt (RW1C) and interrupts if ComWaitIntEn", () => {
  const m = setup();
  const irqs: unknown[] = [];
  m.cpuInterrupt = (vector, source) => irqs.push([vector, source]);
  completionWait(m, KIT.SEM, 1, 1);
  drainCommands(m);
  assert.equal(status(m) & COM_WAIT_INT, COM_WAIT_INT);
  assert.deepEqual(irqs, [], "ComWaitIntEn=0: no interrupt");
  m.mem.write32(KIT.MMIO + MMIO.STATUS, 0); // writing 0 does not clear
  assert.equal(status(m) & COM_WAIT_INT, COM_WAIT_INT);
  m.mem.write32(KIT.MMIO + MMIO.STATUS, COM_WAIT_INT);
  assert.equal(status(m) & COM_WAIT_INT, 0);
  setControl(m, { ComWaitIntEn: 1 });
  completionWait(m, KIT.SEM, 2, 1);
  drainCommands(m);
  assert.deepEqual(irqs, [[-1, { iommu: 0 }]]);
  assert.equal(status(m) & COM_WAIT_INT, COM_WAIT_INT);
});

Deno.test("commands run in order, one per command time, and the head follows", () => {
  const m = setup();
  const seen: string[] = [];
  m.iommus[0].observers.push({
    command: (name, _w, addr, result) => seen.push(`${name}@${addr.toString(16)}:${result}`),
  });
  completionWait(m, KIT.SEM, 1);
  queueCommand(m, "INVALIDATE_DEVTAB_ENTRY", { DeviceID: 0x100 });
  completionWait(m, KIT.SEM, 2);
  assert.equal(tail(m), 48);
  m.clock.advance(200); // one command time
  assert.equal(head(m), 16);
  assert.equal(m.mem.read32(KIT.SEM), 1);
  m.clock.advance(400);
  assert.equal(head(m), 48);
  assert.equal(m.mem.read32(KIT.SEM), 2);
  assert.deepEqual(seen, [
    "COMPLETION_WAIT@800000:ok",
    "INVALIDATE_DEVTAB_ENTRY@800010:ok",
    "COMPLETION_WAIT@800020:ok",
  ]);
});

Deno.test("every defined opcode with legal operands executes without an event", () => {
  const m = setup();
  const u = m.iommus[0];
  const results: string[] = [];
  // What the caches hold after each command, and the PPR answers the device at 0x100 gets.
  const cached: string[] = [];
  const held = () =>
    `DTEs ${u.dteCache.keys().length}, IOTLB ` +
    [[1, 1], [1, 2], [2, 1]].filter(([d, p]) => u.iotlb.lookup(d, p)).join(" ");
  const answers: number[][] = [];
  m.addDevice({
    devid: 0x100,
    name: "ppr-probe",
    attach() {},
    pprResponse: (pasid, tag, status) => answers.push([pasid, tag, status]),
  });
  u.dteCache.put(0x100, new Uint32Array(8));
  for (const [dom, page] of [[1, 1], [1, 2], [2, 1]]) {
    u.iotlb.insert(dom, page, { spaPage: 0x5000, ir: true, iw: true });
  }
  u.observers.push({
    command: (name, _w, _a, r) => {
      results.push(`${name}:${r}`);
      cached.push(held());
    },
  });
  queueCommand(m, "INVALIDATE_IOTLB_PAGES", { DeviceID: 0x100, QueueID: 0x100, S: 1 });
  queueCommand(m, "INVALIDATE_INTERRUPT_TABLE", { DeviceID: 0x100 });
  queueCommand(m, "PREFETCH_IOMMU_PAGES", { DeviceID: 0x100, PFCount: 1, Address: 5 });
  queueCommand(m, "COMPLETE_PPR_REQUEST", { DeviceID: 0x100, CompletionTag: 3 });
  queueCommand(m, "INVALIDATE_IOMMU_PAGES", { DomainID: 1, Address: 1 });
  queueCommand(m, "INVALIDATE_IOMMU_ALL", {});
  drainCommands(m);
  assert.equal(head(m), tail(m));
  assert.equal(results.length, 6);
  assert.ok(results.every((r) => r.includes(":ok")), results.join());
  noEvents(m);
  // IOTLB_PAGES (no remote IOTLB), INTERRUPT_TABLE (no IRTE cache) and PREFETCH (ignored)
  // change nothing the model holds; IOMMU_PAGES drops domain 1's page 0x1000 only; ALL
  // empties both caches.
  assert.deepEqual(cached, [
    "DTEs 1, IOTLB 1,1 1,2 2,1",
    "DTEs 1, IOTLB 1,1 1,2 2,1",
    "DTEs 1, IOTLB 1,1 1,2 2,1",
    "DTEs 1, IOTLB 1,1 1,2 2,1",
    "DTEs 1, IOTLB 1,2 2,1",
    "DTEs 0, IOTLB ",
  ]);
  assert.deepEqual(answers, [[0, 3, 0]], "COMPLETE_PPR_REQUEST reached the device: tag 3, success");
});

Deno.test("an illegal command stops the processor: event at its SPA, head stays, rest not run", () => {
  const m = setup();
  const u = m.iommus[0];
  completionWait(m, KIT.SEM, 1);
  // INVALIDATE_DEVTAB_ENTRY with a reserved bit (q0 bit 16) set
  const bad = COMMAND_LAYOUTS.INVALIDATE_DEVTAB_ENTRY.encode({ DeviceID: 0x100, Opcode: 2 });
  bad[0] |= 1 << 16;
  const badAt = queueRaw(m, bad);
  completionWait(m, KIT.SEM, 2);
  drainCommands(m);
  assert.equal(badAt, KIT.CMD_BUF + 16);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.address], ["ILLEGAL_COMMAND_ERROR", BigInt(badAt)]);
  assert.equal(head(m), 16, "head left at the bad command");
  assert.equal(tail(m), 48);
  assert.equal(m.mem.read32(KIT.SEM), 1, "the command after it did not run");
  assert.equal(u.control("CmdBufEn"), 1, "software's enable bit is untouched");
  assert.equal(status(m) & CMD_BUF_RUN, 0, "Status.CmdBufRun reads 0");
  assert.equal(u.commandsRunning, false);
  // ringing the doorbell again does not restart it
  completionWait(m, KIT.SEM, 3);
  m.clock.advance(10_000);
  assert.equal(m.mem.read32(KIT.SEM), 1);
  noEvents(m);

  // software repairs the command while the buffer is disabled, then re-enables it
  setControl(m, { CmdBufEn: 0 });
  m.mem.writeDwords(
    badAt,
    COMMAND_LAYOUTS.INVALIDATE_DEVTAB_ENTRY.encode({ DeviceID: 0x100, Opcode: 2 }),
  );
  setControl(m, { CmdBufEn: 1 });
  assert.equal(status(m) & CMD_BUF_RUN, CMD_BUF_RUN);
  drainCommands(m);
  assert.equal(head(m), 64);
  assert.equal(m.mem.read32(KIT.SEM), 3, "the later commands ran, in order");
  noEvents(m);
});

Deno.test("restarting without repairing runs into the same bad command again", () => {
  const m = setup();
  const badAt = queueRaw(m, [0, 0xf000_0000, 0, 0]); // opcode 0xf: undefined
  completionWait(m, KIT.SEM, 9);
  drainCommands(m);
  assert.equal(oneEvent(m).address, BigInt(badAt));
  setControl(m, { CmdBufEn: 0 });
  setControl(m, { CmdBufEn: 1 });
  drainCommands(m);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.address], ["ILLEGAL_COMMAND_ERROR", BigInt(badAt)]);
  assert.equal(m.mem.read32(KIT.SEM), 0);
  // skipping it: software moves the head (allowed while CmdBufEn=0)
  setControl(m, { CmdBufEn: 0 });
  m.mem.write32(KIT.MMIO + MMIO.CMD_HEAD, 16);
  setControl(m, { CmdBufEn: 1 });
  drainCommands(m);
  assert.equal(m.mem.read32(KIT.SEM), 9);
  assert.equal(head(m), 32);
});

Deno.test("opcode 0 and reserved bits of each command kind are illegal", () => {
  const cases: [string, number[]][] = [
    ["opcode 0", [0, 0, 0, 0]],
    ["COMPLETION_WAIT q0 bit 52", [0, 0x1010_0000, 0, 0]],
    ["INVALIDATE_IOMMU_PAGES q1 bit 3", [0, 0x3000_0000, 0x8, 0]],
    ["INVALIDATE_IOMMU_ALL q1 bit 0", [0, 0x8000_0000, 1, 0]],
    ["COMPLETE_PPR_REQUEST q1 bit 48", [0, 0x7000_0000, 0, 0x1_0000]],
  ];
  for (const [what, words] of cases) {
    const m = setup();
    const at = queueRaw(m, words);
    drainCommands(m);
    const e = oneEvent(m);
    assert.deepEqual([e.name, e.address], ["ILLEGAL_COMMAND_ERROR", BigInt(at)], what);
    assert.equal(head(m), 0, what);
  }
});

Deno.test("INVALIDATE_IOMMU_ALL without EFR.IASup is an illegal command", () => {
  const m = setup({ HATS: 2 });
  assert.equal(m.iommus[0].feature("IASup"), 0);
  completionWait(m, KIT.SEM, 1);
  const at = queueCommand(m, "INVALIDATE_IOMMU_ALL", {});
  completionWait(m, KIT.SEM, 2);
  drainCommands(m);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.address], ["ILLEGAL_COMMAND_ERROR", BigInt(at)]);
  assert.equal(head(m), 16);
  assert.equal(m.mem.read32(KIT.SEM), 1);
  assert.equal(status(m) & CMD_BUF_RUN, 0);
});

Deno.test("a command buffer in a hole gives COMMAND_HARDWARE_ERROR and stops", () => {
  const m = machineUp({ cmdBuf: HOLE });
  queueCommand(m, "INVALIDATE_DEVTAB_ENTRY", { DeviceID: 1 });
  queueCommand(m, "INVALIDATE_DEVTAB_ENTRY", { DeviceID: 2 });
  drainCommands(m);
  const e = oneEvent(m);
  assert.equal(e.name, "COMMAND_HARDWARE_ERROR");
  assert.equal(e.address, BigInt(HOLE));
  assert.equal(e.flags, 0x200, "Type 1 (master abort) in bits 58:57");
  assert.equal(head(m), 0);
  assert.equal(status(m) & CMD_BUF_RUN, 0);
  m.clock.advance(10_000);
  noEvents(m);
});

Deno.test("a COMPLETION_WAIT store into a hole gives COMMAND_HARDWARE_ERROR at the store address", () => {
  const m = setup();
  completionWait(m, HOLE + 0x40, 1);
  completionWait(m, KIT.SEM, 2);
  drainCommands(m);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.address], ["COMMAND_HARDWARE_ERROR", BigInt(HOLE + 0x40)]);
  assert.equal(head(m), 0);
  assert.equal(m.mem.read32(KIT.SEM), 0);
});

Deno.test("with CmdBufEn=0 nothing runs; enabling runs what is queued; head is RO while running", () => {
  const m = setup();
  setControl(m, { CmdBufEn: 0 });
  completionWait(m, KIT.SEM, 5);
  m.clock.advance(10_000);
  assert.equal(m.mem.read32(KIT.SEM), 0);
  assert.equal(status(m) & CMD_BUF_RUN, 0);
  setControl(m, { CmdBufEn: 1 });
  drainCommands(m);
  assert.equal(m.mem.read32(KIT.SEM), 5);
  m.mem.write32(KIT.MMIO + MMIO.CMD_HEAD, 0x100); // ignored: the hardware owns the head
  assert.equal(head(m), 16);
});

Deno.test("the command ring wraps at 2^ComLen entries", () => {
  const m = setup();
  setControl(m, { CmdBufEn: 0 });
  const last = 511 * 16;
  m.mem.write32(KIT.MMIO + MMIO.CMD_HEAD, last);
  m.mem.write32(KIT.MMIO + MMIO.CMD_TAIL, last);
  setControl(m, { CmdBufEn: 1 });
  const a = completionWait(m, KIT.SEM, 1);
  const b = completionWait(m, KIT.SEM + 8, 2);
  assert.deepEqual([a, b], [KIT.CMD_BUF + last, KIT.CMD_BUF]);
  assert.equal(tail(m), 16);
  drainCommands(m);
  assert.equal(head(m), 16);
  assert.deepEqual([m.mem.read32(KIT.SEM), m.mem.read32(KIT.SEM + 8)], [1, 2]);
  assert.deepEqual(consumeEvents(m), []);
});

Deno.test("IommuEn=0: commands wait in the buffer (CmdBufRun reads 0) and run once IommuEn is set", () => {
  const m = setup();
  const u = m.iommus[0];
  setControl(m, { IommuEn: 0 });
  assert.equal(u.control("CmdBufEn"), 1, "CmdBufEn is still set");
  assert.equal(status(m) & CMD_BUF_RUN, 0, "Status.CmdBufRun = CmdBufEn && IommuEn");
  m.mem.write64(KIT.SEM, 0, 0);
  completionWait(m, KIT.SEM, 5);
  m.clock.advance(100_000_000); // 100 ms: a kernel's whole wait_on_sem budget
  assert.deepEqual(m.mem.read64(KIT.SEM), [0, 0], "the COMPLETION_WAIT store never happens");
  assert.equal(head(m), 0, "head does not move");
  assert.equal(tail(m), 16);
  setControl(m, { IommuEn: 1 });
  assert.equal(status(m) & CMD_BUF_RUN, CMD_BUF_RUN);
  m.clock.advance(1000);
  assert.deepEqual(m.mem.read64(KIT.SEM), [5, 0], "the waiting command ran when IommuEn was set");
  assert.equal(head(m), 16);
  noEvents(m);
});
