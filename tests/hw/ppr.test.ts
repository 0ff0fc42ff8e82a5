/**
 * Guest (PASID) translation and peripheral page requests (reference §8): a device with
 * DTE.GV=1 works in a process address space through a GCR3 table and an x86-64 4-level
 * page table; a missing page fails its ATS translation (no event), the device sends a page
 * request that lands in the PPR log, and COMPLETE_PPR_REQUEST carries the answer back.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { SVM_REG, SvmDevice } from "../../runtime/hw/pci/svm.ts";
import {
  allocTable,
  drainCommands,
  type Machine,
  machineUp,
  map4k,
  noEvents,
  oneEvent,
  queueCommand,
  readPprLog,
  readReg32,
  rwDte,
  setControl,
  writeDte,
  writeEntry,
  xlate,
} from "./kit.ts";

const DEV = 0x0400; // 04:00.0
const DOM = 0x30;
const PASID = 0x1_2345; // 20 bits, so PASID[19:16] is exercised
const VA = 0x7f12_3456_7000; // a user-space address
const BAR = 0xfe00_0000;
const X86_P = 1n, X86_RW = 2n, X86_US = 4n, X86_PS = 0x80n;

/** Maps `va` → `pa` in the x86-64 4-level table at `cr3` (4 KiB page). */
function mapGuest(m: Machine, cr3: number, va: number, pa: number, writable = true): void {
  let table = cr3;
  for (let level = 4; level > 1; level--) {
    const ea = table + (Math.floor(va / 2 ** (12 + 9 * (level - 1))) % 512) * 8;
    const lo = m.mem.read32(ea);
    if (lo & 1) {
      table = (lo & 0xffff_f000) >>> 0;
      continue;
    }
    const next = allocTable(m);
    writeEntry(m, ea, BigInt(next) | X86_P | X86_RW | X86_US);
    table = next;
  }
  const leaf = table + (Math.floor(va / 4096) % 512) * 8;
  writeEntry(m, leaf, BigInt(pa) | X86_P | X86_US | (writable ? X86_RW : 0n));
}

/**
 * A machine with DEV set up for guest translation: GCR3 table (GLX=0, indexed by
 * PASID[8:0]) → guest CR3 → 4-level table; host Mode 0 (GPA = SPA) unless `hostRoot`.
 */
function setup(opts: { ppr?: number; hostRoot?: number; m?: Machine } = {}) {
  const m = opts.m ?? machineUp();
  const gcr3Table = allocTable(m), cr3 = allocTable(m);
  writeEntry(m, gcr3Table + (PASID & 0x1ff) * 8, BigInt(cr3) | 1n);
  writeDte(
    m,
    DEV,
    rwDte(DOM, {
      GV: 1,
      GLX: 0,
      GCR3TableRootPtr: gcr3Table,
      PPR: opts.ppr ?? 1,
      Mode: opts.hostRoot ? 3 : 0,
      PageTableRootPtr: (opts.hostRoot ?? 0) / 4096,
    }),
  );
  return { m, cr3, gcr3Table };
}

function attachSvm(m: Machine): SvmDevice {
  const d = new SvmDevice({ devid: DEV, name: "accel", bar: BAR });
  m.addDevice(d);
  const w = (off: number, v: number) => m.mem.write32(BAR + off, v);
  w(SVM_REG.PASID, PASID);
  w(SVM_REG.JOB_VA_LO, VA % 2 ** 32);
  w(SVM_REG.JOB_VA_HI, Math.floor(VA / 2 ** 32));
  w(SVM_REG.JOB_INTERVAL_US, 10);
  w(SVM_REG.CTRL, 1);
  return d;
}

Deno.test("guest translation: a PASID-tagged DMA walks GCR3 → guest CR3 → x86-64 tables", () => {
  const { m, cr3 } = setup();
  mapGuest(m, cr3, VA, 0x0500_0000);
  const out = xlate(m, DEV, VA + 0x123, true, { pasid: PASID });
  assert.deepEqual(out, { kind: "translated", spa: 0x0500_0123, domid: DOM, via: "walk" });
  // the same address without a PASID goes through the host path (Mode 0: untranslated)
  assert.equal(xlate(m, DEV, 0x9000, true).kind, "untranslated");
  // another PASID has no GCR3 entry: a guest fault (GN=1), DomainID field = PASID[15:0]
  const other = xlate(m, DEV, VA, true, { pasid: 0x22 });
  assert.equal(other.kind === "abort" && other.guestFault, true);
  const e = oneEvent(m);
  assert.deepEqual([e.name, e.fields.DomainID, e.fields.PASIDHi, e.flags], [
    "IO_PAGE_FAULT",
    0x22,
    0,
    0x021, // GN | RW
  ]);
});

Deno.test("guest translation: the GPA is translated again by the host table when Mode != 0", () => {
  const m = machineUp();
  const hostRoot = allocTable(m);
  const { cr3 } = setup({ m, hostRoot });
  mapGuest(m, cr3, VA, 0x0040_0000); // GPA
  map4k(m, hostRoot, 3, 0x0040_0000, 0x0660_0000); // GPA → SPA
  const out = xlate(m, DEV, VA + 8, false, { pasid: PASID });
  assert.equal(out.kind === "translated" && out.spa, 0x0660_0008);
});

Deno.test("guest translation: read-only guest pages refuse writes; PASID[19:16] is logged", () => {
  const { m, cr3 } = setup();
  mapGuest(m, cr3, VA, 0x0500_0000, false);
  assert.equal(xlate(m, DEV, VA, false, { pasid: PASID }).kind, "translated");
  assert.equal(xlate(m, DEV, VA, true, { pasid: PASID }).kind, "abort");
  const e = oneEvent(m);
  assert.equal(e.fields.DomainID, PASID & 0xffff);
  assert.equal(e.fields.PASIDHi, PASID >>> 16);
  assert.equal(e.address, BigInt(VA));
  assert.equal(e.flags, 0x071); // GN | PR | RW | PE
});

Deno.test("guest translation: a 2 MiB guest page (PS at level 2)", () => {
  const { m, cr3 } = setup();
  mapGuest(m, cr3, VA, 0); // builds levels 4..2
  // replace the level-2 entry with a 2 MiB page
  let table = cr3;
  for (let level = 4; level > 2; level--) {
    const ea = table + (Math.floor(VA / 2 ** (12 + 9 * (level - 1))) % 512) * 8;
    table = (m.mem.read32(ea) & 0xffff_f000) >>> 0;
  }
  writeEntry(
    m,
    table + (Math.floor(VA / 2 ** 21) % 512) * 8,
    0x4000_0000n | X86_P | X86_RW | X86_PS,
  );
  const out = xlate(m, DEV, VA, true, { pasid: PASID });
  assert.equal(out.kind === "translated" && out.spa, 0x4000_0000 + (VA % 2 ** 21));
});

Deno.test("PPR: a missing page → silent ATS failure → page request in the PPR log", () => {
  const { m } = setup();
  setControl(m, { PPRIntEn: 1 });
  const irqs: unknown[] = [];
  m.cpuInterrupt = (v, src) => irqs.push([v, src]);
  const d = attachSvm(m);
  m.clock.advance(10_000); // the first job
  assert.equal(d.stats.atsFailures, 1);
  noEvents(m); // ATS failures are never logged as IO_PAGE_FAULT
  assert.deepEqual(readPprLog(m), [{
    devid: DEV,
    pasid: PASID,
    tag: 1,
    flags: 0x120, // write (0x020) | GN (0x100)
    type: 1, // PPR_REQ_FAULT
    address: VA,
  }]);
  assert.equal(readReg32(m, MMIO.PPR_TAIL), 16);
  assert.equal(readReg32(m, MMIO.STATUS) & (1 << 6), 1 << 6, "Status.PprInt");
  assert.deepEqual(irqs, [[-1, { iommu: 0 }]], "PPRIntEn: the IOMMU interrupts");
  assert.equal(m.mem.read32(BAR + SVM_REG.PRI_OUTSTANDING), 1);
  // while the request is outstanding the device issues no more work
  m.clock.advance(100_000);
  assert.equal(readPprLog(m).length, 1);
  assert.equal(d.stats.jobs, 0);
});

Deno.test("PPR: COMPLETE_PPR_REQUEST success → the device retries and its DMA is translated", () => {
  const { m, cr3 } = setup();
  const d = attachSvm(m);
  m.clock.advance(10_000);
  const [req] = readPprLog(m);
  // the "kernel" handles the fault: maps the page, answers with the request's tag
  mapGuest(m, cr3, req.address, 0x0520_0000);
  queueCommand(m, "COMPLETE_PPR_REQUEST", {
    DeviceID: req.devid,
    PASID: req.pasid,
    GN: 1,
    CompletionTag: req.tag,
    Status: 0,
  });
  drainCommands(m);
  assert.equal(d.stats.pprSuccess, 1);
  assert.equal(d.stats.jobs, 1);
  assert.deepEqual([m.mem.read32(0x0520_0000), m.mem.read32(0x0520_0004)], [0x5a5a_0001, PASID]);
  assert.equal(m.mem.read32(BAR + SVM_REG.PRI_OUTSTANDING), 0);
  // and it keeps working without further requests
  m.clock.advance(30_000);
  assert.equal(d.stats.jobs, 4);
  assert.equal(readPprLog(m).length, 1);
  noEvents(m);
});

Deno.test("PPR: an answer with another tag or DeviceID is not taken; 'invalid' drops the job", () => {
  const { m } = setup();
  const d = attachSvm(m);
  m.clock.advance(10_000);
  queueCommand(m, "COMPLETE_PPR_REQUEST", { DeviceID: DEV, PASID, GN: 1, CompletionTag: 9 });
  queueCommand(m, "COMPLETE_PPR_REQUEST", { DeviceID: DEV + 1, PASID, GN: 1, CompletionTag: 1 });
  drainCommands(m);
  assert.equal(m.mem.read32(BAR + SVM_REG.PRI_OUTSTANDING), 1);
  assert.equal(d.stats.pprSuccess + d.stats.pprRefused, 0);
  queueCommand(m, "COMPLETE_PPR_REQUEST", {
    DeviceID: DEV,
    PASID,
    GN: 1,
    CompletionTag: 1,
    Status: 1, // PPR_INVALID
  });
  drainCommands(m);
  assert.deepEqual([d.stats.pprRefused, d.stats.jobs], [1, 0]);
  // the next job asks again, with the next tag
  m.clock.advance(10_000);
  assert.deepEqual(readPprLog(m).map((r) => r.tag), [1, 2]);
});

Deno.test("PPR: DTE.PPR=0 refuses the request with INVALID_PPR_REQUEST; nothing in the log", () => {
  const { m } = setup({ ppr: 0 });
  attachSvm(m);
  m.clock.advance(10_000);
  assert.deepEqual(readPprLog(m), []);
  const e = oneEvent(m);
  assert.equal(e.name, "INVALID_PPR_REQUEST");
  assert.equal(e.fields.DeviceID, DEV);
  assert.equal(e.fields.PASID, PASID & 0xffff);
  assert.equal(e.fields.PASIDHi, PASID >>> 16);
  assert.equal(e.fields.Tag, 1);
  assert.equal(e.address, BigInt(VA));
  assert.equal(m.mem.read32(BAR + SVM_REG.PRI_OUTSTANDING), 1, "no answer will come");
});

Deno.test("PPR: Control.PPREn=0 refuses requests too", () => {
  const { m } = setup();
  setControl(m, { PPREn: 0 });
  attachSvm(m);
  m.clock.advance(10_000);
  assert.deepEqual(readPprLog(m), []);
  assert.equal(oneEvent(m).name, "INVALID_PPR_REQUEST");
});
