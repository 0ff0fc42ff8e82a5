/**
 * The event log ring (reference §1.3, §6): the IOMMU writes at Tail, software consumes at
 * Head; a full ring sets EventOverflow and drops entries until software clears it.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import {
  consumeEvents,
  eventRing,
  KIT,
  type Machine,
  machineUp,
  readEvents,
  readReg32,
  setControl,
  writeDte,
  xlate,
} from "./kit.ts";

const DEV = 0x0100;
const EVENT_OVERFLOW = 1 << 0, EVENT_LOG_INT = 1 << 1, EVENT_LOG_RUN = 1 << 3;
const LEN = 8; // 2^8 = 256 entries, 4 KiB
const RING = 256 * 16;

/** A machine whose event log has 256 entries; DEV faults on every access (DTE.TV=0). */
function setup(): { m: Machine; results: string[]; irqs: number[] } {
  const m = machineUp({ evtLen: LEN });
  writeDte(m, DEV, { V: 1, TV: 0, DomainID: 3 });
  const results: string[] = [];
  const irqs: number[] = [];
  m.iommus[0].observers.push({ event: (_n, _w, result) => results.push(result) });
  m.cpuInterrupt = (vector, src) => {
    if (src.iommu === 0) irqs.push(vector);
  };
  return { m, results, irqs };
}

/** Makes DEV fault at page `i` (so the event's Address tells which fault it was). */
const fault = (m: Machine, i: number) => xlate(m, DEV, i * 0x1000, false);
const tail = (m: Machine) => readReg32(m, MMIO.EVT_TAIL);
const status = (m: Machine) => readReg32(m, MMIO.STATUS);
const pages = (m: Machine) => readEvents(m).map((e) => Number(e.address) / 0x1000);

Deno.test("event log: entries are written at Tail, which advances by 16 bytes", () => {
  const { m, results } = setup();
  assert.deepEqual(eventRing(m), [KIT.EVT_LOG, RING]);
  fault(m, 1);
  fault(m, 2);
  assert.equal(tail(m), 32);
  const w = new Uint32Array(4);
  m.mem.readDwords(KIT.EVT_LOG + 16, 4, w);
  // IO_PAGE_FAULT (code 2), DeviceID 0x100, DomainID 3, read, not present; Address 0x2000
  assert.deepEqual([...w], [0x0000_0100, 0x2000_0003, 0x2000, 0]);
  assert.deepEqual(pages(m), [1, 2]);
  assert.equal(status(m) & EVENT_LOG_INT, EVENT_LOG_INT);
  assert.equal(status(m) & EVENT_LOG_RUN, EVENT_LOG_RUN);
  assert.deepEqual(results, ["written", "written"]);
});

Deno.test("event log: Tail wraps at 2^Len * 16 as software advances Head", () => {
  const { m } = setup();
  for (let i = 0; i < 200; i++) fault(m, i);
  assert.equal(tail(m), 200 * 16);
  assert.equal(consumeEvents(m).length, 200);
  assert.equal(readReg32(m, MMIO.EVT_HEAD), 200 * 16);
  for (let i = 200; i < 300; i++) fault(m, i);
  assert.equal(tail(m), (300 * 16) % RING, "wrapped");
  assert.deepEqual(pages(m), Array.from({ length: 100 }, (_, k) => 200 + k));
  // entry 256 was written at the start of the ring, over entry 0
  assert.equal(m.mem.read32(KIT.EVT_LOG + 8), 256 * 0x1000);
  assert.equal(m.mem.read32(KIT.EVT_LOG + RING + 8), 0, "nothing written past the ring");
});

Deno.test("event log: overflow sets EventOverflow, drops entries until software clears it", () => {
  const { m, results, irqs } = setup();
  setControl(m, { EventIntEn: 1 });
  for (let i = 0; i < 255; i++) fault(m, i); // 255 entries: Tail + 16 == Head → full
  assert.equal(tail(m), 255 * 16);
  assert.equal(status(m) & EVENT_OVERFLOW, 0);
  assert.equal(irqs.length, 255);

  const out = fault(m, 1000);
  assert.equal(out.kind === "abort" && out.logged, false);
  assert.equal(status(m) & EVENT_OVERFLOW, EVENT_OVERFLOW);
  assert.equal(tail(m), 255 * 16, "entry dropped");
  assert.equal(m.mem.read32(KIT.EVT_LOG + 255 * 16 + 8), 0, "nothing written at Tail");
  assert.equal(irqs.length, 256, "the overflow interrupts too (EventIntEn)");

  // software drains the log but has not cleared EventOverflow: still nothing is logged
  assert.equal(consumeEvents(m).length, 255);
  fault(m, 1001);
  assert.equal(tail(m), 255 * 16);
  assert.deepEqual(readEvents(m), []);
  assert.equal(irqs.length, 256, "a dropped entry does not interrupt");
  assert.deepEqual(results.slice(-2), ["overflow", "dropped"]);

  m.mem.write32(KIT.MMIO + MMIO.STATUS, 0); // writing 0 does not clear an RW1C bit
  assert.equal(status(m) & EVENT_OVERFLOW, EVENT_OVERFLOW);
  m.mem.write32(KIT.MMIO + MMIO.STATUS, EVENT_OVERFLOW);
  assert.equal(status(m) & EVENT_OVERFLOW, 0);
  fault(m, 1002);
  assert.deepEqual(pages(m), [1002]);
  assert.equal(tail(m), 0, "written in the last slot; Tail wraps to 0");
});

Deno.test("event log: EventLogInt is RW1C and each entry interrupts only when EventIntEn", () => {
  const { m, irqs } = setup();
  fault(m, 1);
  assert.equal(status(m) & EVENT_LOG_INT, EVENT_LOG_INT);
  assert.deepEqual(irqs, [], "EventIntEn=0");
  m.mem.write32(KIT.MMIO + MMIO.STATUS, EVENT_LOG_INT);
  assert.equal(status(m) & EVENT_LOG_INT, 0);
  setControl(m, { EventIntEn: 1 });
  fault(m, 2);
  assert.equal(status(m) & EVENT_LOG_INT, EVENT_LOG_INT);
  assert.deepEqual(irqs, [-1]);
  m.mem.write32(KIT.MMIO + MMIO.STATUS, 0xffff_ffff);
  assert.equal(status(m) & 0x7, 0);
});

Deno.test("event log: EventLogEn=0 logs nothing, however many faults", () => {
  const { m, results, irqs } = setup();
  setControl(m, { EventLogEn: 0, EventIntEn: 1 });
  assert.equal(status(m) & EVENT_LOG_RUN, 0);
  for (let i = 0; i < 10; i++) {
    const out = fault(m, i);
    assert.equal(out.kind === "abort" && out.logged, false);
  }
  assert.equal(tail(m), 0);
  assert.equal(m.mem.pageIsBlank(KIT.EVT_LOG), true);
  assert.equal(status(m) & (EVENT_LOG_INT | EVENT_OVERFLOW), 0);
  assert.deepEqual(irqs, []);
  assert.deepEqual(new Set(results), new Set(["disabled"]));
  setControl(m, { EventLogEn: 1 });
  fault(m, 42);
  assert.deepEqual(pages(m), [42]);
});

Deno.test("event log: Tail is the hardware's while logging runs, software's while stopped", () => {
  const { m } = setup();
  fault(m, 1);
  m.mem.write32(KIT.MMIO + MMIO.EVT_TAIL, 0x100);
  assert.equal(tail(m), 16, "ignored while EventLogEn=1");
  setControl(m, { EventLogEn: 0 });
  m.mem.write32(KIT.MMIO + MMIO.EVT_TAIL, 0);
  m.mem.write32(KIT.MMIO + MMIO.EVT_HEAD, 0);
  setControl(m, { EventLogEn: 1 });
  fault(m, 7);
  assert.deepEqual(pages(m), [7], "the ring restarted at offset 0");
});

Deno.test("event log: IommuEn=0 stops logging even with EventLogEn=1 (EventLogRun = EventLogEn && IommuEn)", () => {
  const { m, results } = setup();
  setControl(m, { IommuEn: 0 });
  assert.equal(m.iommus[0].control("EventLogEn"), 1);
  assert.equal(status(m) & EVENT_LOG_RUN, 0, "Status.EventLogRun reads 0");
  // With translation off DMA is not checked, so nothing faults; an event the unit raises
  // anyway (here a command error on a buffer in a hole) is not written either.
  m.iommus[0].logEvent("COMMAND_HARDWARE_ERROR", { Type: 1, Address: 0xd000_0000 });
  assert.deepEqual(results, ["disabled"]);
  assert.equal(tail(m), 0);
  assert.equal(m.mem.pageIsBlank(KIT.EVT_LOG), true);
  setControl(m, { IommuEn: 1 });
  assert.equal(status(m) & EVENT_LOG_RUN, EVENT_LOG_RUN);
  fault(m, 3);
  assert.deepEqual(pages(m), [3]);
});
