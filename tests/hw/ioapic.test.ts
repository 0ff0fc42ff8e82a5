/**
 * The chipset's I/O APIC and HPET (runtime/hw/ioapic.ts, hpet.ts, chipset.ts): registers
 * reached through IOREGSEL/IOWIN, an edge on a pin becomes the message its redirection entry
 * describes and goes through the IOMMU's interrupt remapping under the I/O APIC's DeviceID;
 * the HPET's legacy timer ticks on pin 2.
 */
import assert from "node:assert/strict";
import { IOAPIC_MMIO, IOAPIC_REG, IOAPIC_RTE } from "../../runtime/hw/layouts/ioapic.ts";
import { HPET_CFG, HPET_PERIOD_FS, HPET_REG } from "../../runtime/hw/hpet.ts";
import { Machine, type MsiRecord } from "../../runtime/hw/machine.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { bringUp, intRemap, KIT, setControl, writeDte } from "./kit.ts";
import { IRTE } from "../../runtime/hw/layouts/irte.ts";

const IOAPIC = { apicId: 128, devid: 0x00a0, mmioBase: 0xfec0_0000 };
const HPET = 0xfed0_0000;
const IRT = 0x0300_0000;

function machine(): Machine {
  const m = new Machine({
    seed: 1,
    memoryMap: [
      { base: 0, size: KIT.RAM_TOP, kind: "ram", name: "System RAM" },
      { base: KIT.RAM_TOP, size: 0x1_0000_0000 - KIT.RAM_TOP, kind: "hole", name: "PCI MMIO" },
    ],
    iommus: [{ index: 0, devid: 0x0002, mmioBase: KIT.MMIO, efr: { IASup: 1 } }],
    chipset: { ioapic: IOAPIC, hpetBase: HPET },
  });
  bringUp(m);
  return m;
}

const reg = (m: Machine, r: number) => {
  m.mem.write32(IOAPIC.mmioBase + IOAPIC_MMIO.IOREGSEL, r);
  return m.mem.read32(IOAPIC.mmioBase + IOAPIC_MMIO.IOWIN);
};
const setReg = (m: Machine, r: number, v: number) => {
  m.mem.write32(IOAPIC.mmioBase + IOAPIC_MMIO.IOREGSEL, r);
  m.mem.write32(IOAPIC.mmioBase + IOAPIC_MMIO.IOWIN, v);
};
const setPin = (m: Machine, pin: number, fields: Parameters<typeof IOAPIC_RTE.encode>[0]) => {
  const e = IOAPIC_RTE.encode(fields);
  setReg(m, IOAPIC_REG.REDTBL + pin * 2 + 1, e[1]);
  setReg(m, IOAPIC_REG.REDTBL + pin * 2, e[0]);
};
function msis(m: Machine): MsiRecord[] {
  const out: MsiRecord[] = [];
  m.observers.push({ msi: (r) => out.push(r) });
  return out;
}

Deno.test("ioapic: ID and version through IOREGSEL/IOWIN; every pin masked at power-on, edges on it lost", () => {
  const m = machine();
  assert.equal(reg(m, IOAPIC_REG.ID) >>> 24, 128);
  assert.equal(reg(m, IOAPIC_REG.VER), 0x21 | (23 << 16));
  for (let pin = 0; pin < 24; pin++) {
    assert.equal(IOAPIC_RTE.get([reg(m, 0x10 + pin * 2), 0], "Mask"), 1, `pin ${pin}`);
  }
  const seen = msis(m);
  m.chipset!.ioapic.assertPin(2);
  assert.equal(seen.length, 0);
  assert.equal(m.chipset!.ioapic.stats.maskedEdges, 1);
});

Deno.test("ioapic: an unmasked pin sends its entry's message under the I/O APIC's DeviceID; the IOMMU forwards it when IommuEn=0 and remaps it through the DTE's table when on", () => {
  const m = machine();
  const got: number[] = [];
  m.cpuInterrupt = (v) => got.push(v);
  const seen = msis(m);
  // The entry as Linux writes it with AMD remapping: the IRTE index (2) where the vector goes.
  setPin(m, 2, { Vector: 2, Destination: 0 });
  writeDte(m, IOAPIC.devid, intRemap(IRT));
  m.mem.writeDwords(IRT + 2 * 4, IRTE.encode({ RemapEn: 1, Vector: 0x30, Destination: 0 }));
  m.chipset!.ioapic.assertPin(2);
  assert.equal(seen.length, 1);
  assert.deepEqual([seen[0].devid, seen[0].address, seen[0].data], [0xa0, 0xfee0_0000, 2]);
  assert.deepEqual(seen[0].outcome, { kind: "remapped", vector: 0x30, dest: 0 });
  assert.deepEqual(got, [0x30]);
  // Translation off: the message is not remapped and arrives as vector 2.
  setControl(m, { IommuEn: 0 });
  m.chipset!.ioapic.assertPin(2);
  assert.deepEqual(seen[1].outcome, { kind: "forwarded", vector: 2, dest: 0 });
  assert.deepEqual(got, [0x30, 2]);
  assert.equal(m.iommus[0].control("IommuEn"), 0);
  assert.equal(m.mem.read32(KIT.MMIO + MMIO.CONTROL) & 1, 0);
});

Deno.test("hpet: legacy replacement + periodic timer 0 ticks pin 2 every comparator period; clearing ENABLE stops it", () => {
  const m = machine();
  let ticks = 0;
  m.chipset!.ioapic.assertPin = (pin: number) => void (pin === 2 && ticks++);
  assert.equal(m.mem.read32(HPET + HPET_REG.CAPS_HI), HPET_PERIOD_FS);
  const perMs = Math.round(1e12 / HPET_PERIOD_FS); // counter ticks in 1 ms
  m.mem.write32(HPET + HPET_REG.T0_CONFIG, HPET_CFG.T_INT_ENB | HPET_CFG.T_PERIODIC);
  m.mem.write32(HPET + HPET_REG.T0_COMPARATOR, perMs);
  m.clock.advance(5_000_000);
  assert.equal(ticks, 0, "not enabled yet");
  m.mem.write32(HPET + HPET_REG.CONFIG, HPET_CFG.ENABLE); // no legacy route: no IRQ 0
  m.clock.advance(5_000_000);
  assert.equal(ticks, 0);
  m.mem.write32(HPET + HPET_REG.CONFIG, HPET_CFG.ENABLE | HPET_CFG.LEG_RT);
  m.clock.advance(10_000_100);
  assert.equal(ticks, 10);
  m.mem.write32(HPET + HPET_REG.CONFIG, 0);
  m.clock.advance(10_000_000);
  assert.equal(ticks, 10);
});
