/**
 * Interrupt remapping (reference §5): an MSI's data selects an IRTE in the table named by
 * the device's DTE; the IRTE gives vector and destination. Faults are IO_PAGE_FAULT events
 * with I=1 (0x008) and address = the MSI address. An MSI is a write, so RW (0x020) is set
 * in every interrupt fault this model logs.
 */
import assert from "node:assert/strict";
import type { MsiOutcome } from "../../runtime/hw/iommu/iommu.ts";
import type { DteField } from "../../runtime/hw/layouts/dte.ts";
import type { MsiRecord } from "../../runtime/hw/machine.ts";
import {
  allocTable,
  intRemap,
  KIT,
  type Machine,
  machineUp,
  noEvents,
  oneEvent,
  rwDte,
  setControl,
  writeDte,
  writeIrte,
} from "./kit.ts";

const DEV = 0x0100;
const DOM = 0x21;
const MSI = 0xfee0_3000; // destination 3 in address bits 19:12
const NMI = 4 << 8, INIT = 5 << 8, SMI = 2 << 8, EXTINT = 7 << 8;

/** DEV with a 2^len-entry remapping table (IntCtl=2 unless overridden). */
function setup(
  dte: Partial<Record<DteField, number>> = {},
  len = 8,
): { m: Machine; irt: number } {
  const m = machineUp();
  const irt = allocTable(m);
  writeDte(m, DEV, rwDte(DOM, { ...intRemap(irt, len), ...dte }));
  return { m, irt };
}

const remap = (m: Machine, data: number, address = MSI, devid = DEV): MsiOutcome =>
  m.iommus[0].remapInterrupt({ devid, address, data });

function expectIntFault(m: Machine, flags: number, name = "IO_PAGE_FAULT", address = MSI): void {
  const e = oneEvent(m);
  assert.equal(e.name, name);
  assert.equal(e.fields.DeviceID, DEV);
  if (name === "IO_PAGE_FAULT") assert.equal(e.fields.DomainID, DOM);
  assert.equal(e.address, BigInt(address));
  assert.equal(e.flags, flags, `flags 0x${e.flags.toString(16)}`);
  assert.equal(e.flags & 0x008, 0x008, "I (interrupt request) is set");
}

Deno.test("remapped: the IRTE indexed by MSI data 10:0 gives vector and destination", () => {
  const { m, irt } = setup();
  const at = writeIrte(m, irt, 0x42, { RemapEn: 1, Vector: 0x61, Destination: 5 });
  assert.equal(at, irt + 0x42 * 4, "legacy IRTEs are 4 bytes");
  assert.deepEqual(remap(m, 0x42), { kind: "remapped", vector: 0x61, dest: 5 });
  // through the bus, the CPU gets the remapped vector
  const got: unknown[] = [];
  m.cpuInterrupt = (v, src) => got.push([v, src]);
  const recs: MsiRecord[] = [];
  m.observers.push({ msi: (r) => recs.push(r) });
  m.msi(DEV, MSI, 0x42);
  assert.deepEqual(got, [[0x61, { devid: DEV }]]);
  assert.deepEqual(recs[0].outcome, { kind: "remapped", vector: 0x61, dest: 5 });
  noEvents(m);
});

Deno.test("IommuEn=0 or DTE.IV=0: the MSI is forwarded unchanged", () => {
  const { m, irt } = setup({ IV: 0 });
  writeIrte(m, irt, 0x33, { RemapEn: 1, Vector: 0x99, Destination: 1 });
  assert.deepEqual(remap(m, 0x33), { kind: "forwarded", vector: 0x33, dest: 3 });
  const off = setup();
  setControl(off.m, { IommuEn: 0 });
  assert.deepEqual(remap(off.m, 0x33), { kind: "forwarded", vector: 0x33, dest: 3 });
  assert.deepEqual(off.m.iommus[0].dteCache.keys(), []);
});

Deno.test("IntCtl=0 blocks silently, IntCtl=1 forwards, IntCtl=3 is an illegal DTE", () => {
  const a = setup({ IntCtl: 0 });
  assert.deepEqual(remap(a.m, 0x10), {
    kind: "blocked",
    why: "IntCtl=0 (target abort)",
    logged: false,
  });
  noEvents(a.m);
  const b = setup({ IntCtl: 1 });
  assert.deepEqual(remap(b.m, 0x10), { kind: "forwarded", vector: 0x10, dest: 3 });
  const c = setup({ IntCtl: 3 });
  const out = remap(c.m, 0x10);
  assert.equal(out.kind === "blocked" && out.event, "ILLEGAL_DEV_TABLE_ENTRY");
  expectIntFault(c.m, 0x0a8, "ILLEGAL_DEV_TABLE_ENTRY"); // I | RW | RZ
});

Deno.test("IntTabLen >= 12 is an illegal DTE (RZ=0)", () => {
  const { m, irt } = setup({}, 12);
  writeIrte(m, irt, 1, { RemapEn: 1, Vector: 0x50 });
  const out = remap(m, 1);
  assert.equal(out.kind === "blocked" && out.event, "ILLEGAL_DEV_TABLE_ENTRY");
  expectIntFault(m, 0x028, "ILLEGAL_DEV_TABLE_ENTRY"); // I | RW
  const ok = setup({}, 11);
  writeIrte(ok.m, ok.irt, 1, { RemapEn: 1, Vector: 0x50 });
  assert.equal(remap(ok.m, 1).kind, "remapped");
});

Deno.test("an index beyond 2^IntTabLen is an IO_PAGE_FAULT, not present", () => {
  const { m, irt } = setup({}, 4); // 16 entries
  writeIrte(m, irt, 20, { RemapEn: 1, Vector: 0x70 }); // exists in memory, outside the table
  writeIrte(m, irt, 15, { RemapEn: 1, Vector: 0x71 });
  assert.deepEqual(remap(m, 15), { kind: "remapped", vector: 0x71, dest: 0 });
  const out = remap(m, 20);
  assert.equal(out.kind === "blocked" && out.event, "IO_PAGE_FAULT");
  expectIntFault(m, 0x028); // I | RW, PR=0
});

Deno.test("IRTE checks: RemapEn=0, GuestMode=1 (legacy), IntType > 1", () => {
  const { m, irt } = setup();
  writeIrte(m, irt, 1, { RemapEn: 0, Vector: 0x41 });
  assert.equal(remap(m, 1).kind, "blocked");
  expectIntFault(m, 0x028); // I | RW, PR=0
  writeIrte(m, irt, 2, { RemapEn: 1, GuestMode: 1, Vector: 0x42 });
  assert.equal(remap(m, 2).kind, "blocked");
  expectIntFault(m, 0x0a8); // I | RW | RZ
  writeIrte(m, irt, 3, { RemapEn: 1, IntType: 2, Vector: 0x43 });
  assert.equal(remap(m, 3).kind, "blocked");
  expectIntFault(m, 0x0b8); // I | PR | RW | RZ
  writeIrte(m, irt, 4, { RemapEn: 1, IntType: 1, Vector: 0x44, Destination: 2 });
  assert.deepEqual(remap(m, 4), { kind: "remapped", vector: 0x44, dest: 2 }, "arbitrated is fine");
});

Deno.test("interrupt faults are suppressed by DTE.IG or IRTE.SupIOPF; the MSI is still blocked", () => {
  const ig = setup({ IG: 1 });
  const why: string[] = [];
  ig.m.iommus[0].observers.push({ suppressed: (_n, _d, _a, w) => why.push(w) });
  const out = remap(ig.m, 5);
  assert.deepEqual(out, {
    kind: "blocked",
    why: "IRTE 5 not enabled",
    event: "IO_PAGE_FAULT",
    logged: false,
  });
  noEvents(ig.m);
  const { m, irt } = setup();
  m.iommus[0].observers.push({ suppressed: (_n, _d, _a, w) => why.push(w) });
  writeIrte(m, irt, 6, { RemapEn: 0, SupIOPF: 1 });
  assert.equal(remap(m, 6).kind, "blocked");
  noEvents(m);
  assert.deepEqual(why, ["IG", "SupIOPF"]);
});

Deno.test("NMI, INIT and ExtInt pass only with their DTE pass bits; SMI is passed", () => {
  const { m } = setup();
  for (const mode of [NMI, INIT, EXTINT]) {
    assert.equal(remap(m, mode | 2).kind, "blocked");
  }
  noEvents(m);
  assert.deepEqual(remap(m, SMI | 2), { kind: "forwarded", vector: 2, dest: 3 });
  const p = setup({ NMIPass: 1, InitPass: 1, EIntPass: 1 });
  for (const mode of [NMI, INIT, EXTINT]) {
    assert.deepEqual(remap(p.m, mode | 2), { kind: "forwarded", vector: 2, dest: 3 });
  }
  const only = setup({ NMIPass: 1 });
  assert.equal(remap(only.m, NMI).kind, "forwarded");
  assert.equal(remap(only.m, INIT).kind, "blocked");
  assert.deepEqual(remap(only.m, 6 << 8).kind, "blocked", "other delivery modes are aborted");
});

Deno.test("Control.GAEn=1 selects 128-bit IRTEs: 16-byte stride, 32-bit destination", () => {
  const { m, irt } = setup();
  setControl(m, { GAEn: 1 });
  const at = writeIrte(m, irt, 3, { RemapEn: 1, Vector: 0xa5, Destination: 0x0102_0304 }, true);
  assert.equal(at, irt + 3 * 16);
  assert.deepEqual(remap(m, 3), { kind: "remapped", vector: 0xa5, dest: 0x0102_0304 });
  // GuestMode is not a reserved bit in the GA format; RemapEn=0 still faults
  writeIrte(m, irt, 4, { RemapEn: 0, Vector: 0xa6 }, true);
  assert.equal(remap(m, 4).kind, "blocked");
  expectIntFault(m, 0x028);
  // the same table read as legacy IRTEs gives something else entirely
  setControl(m, { GAEn: 0 });
  assert.notDeepEqual(remap(m, 3), { kind: "remapped", vector: 0xa5, dest: 0x0102_0304 });
});

Deno.test("reserved bits in DTE q2/q3 make an illegal DTE for interrupts (RZ)", () => {
  const { m, irt } = setup();
  writeIrte(m, irt, 1, { RemapEn: 1, Vector: 0x41 });
  m.mem.write32(
    KIT.DEV_TABLE + DEV * 32 + 20,
    m.mem.read32(KIT.DEV_TABLE + DEV * 32 + 20) | 1 << 20,
  );
  const out = remap(m, 1);
  assert.equal(out.kind === "blocked" && out.event, "ILLEGAL_DEV_TABLE_ENTRY");
  expectIntFault(m, 0x0a8, "ILLEGAL_DEV_TABLE_ENTRY");
});

Deno.test("a device table in a hole gives DEV_TAB_HARDWARE_ERROR for interrupts too", () => {
  const m = machineUp({ devTable: 0xd000_0000 });
  const out = remap(m, 1);
  assert.equal(out.kind === "blocked" && out.event, "DEV_TAB_HARDWARE_ERROR");
  const e = oneEvent(m);
  assert.equal(e.name, "DEV_TAB_HARDWARE_ERROR");
  assert.equal(e.address, BigInt(0xd000_0000 + DEV * 32));
  assert.equal(e.flags, 0x228, "I | RW | Type 1");
});

Deno.test("an MSI address outside 0xFEExxxxx is not an interrupt and reaches no CPU", () => {
  const { m, irt } = setup();
  writeIrte(m, irt, 1, { RemapEn: 1, Vector: 0x41 });
  const got: number[] = [];
  m.cpuInterrupt = (v) => got.push(v);
  const recs: MsiRecord[] = [];
  m.observers.push({ msi: (r) => recs.push(r) });
  m.msi(DEV, 0xfed0_0000, 1);
  assert.deepEqual(got, []);
  assert.deepEqual(recs[0].outcome, { kind: "not-msi" });
  m.msi(DEV, 0xfee0_0000, 1);
  assert.deepEqual(got, [0x41]);
});
