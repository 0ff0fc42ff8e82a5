/**
 * Interrupt remapping for device MSIs (runtime/kernel/amd_iommu/irq.ts): the per-device
 * table, the DTE's interrupt part, the IRTE, the invalidations, and delivery through the
 * IOMMU to the kernel's handler.
 */
import assert from "node:assert/strict";
import { DTE, INTCTL } from "../../../runtime/hw/layouts/dte.ts";
import { IRTE, IRTE_GA } from "../../../runtime/hw/layouts/irte.ts";
import { MSI_WINDOW, type MsiRecord } from "../../../runtime/hw/machine.ts";
import { ownerText } from "../../../runtime/hw/memory.ts";
import { commandLog, dteOf, KIT, makeKit } from "../kit.ts";

Deno.test("irq: setupMsi allocates a table, points the DTE at it (IntCtl=2, IntTabLen=8, IV), writes the IRTE and invalidates", () => {
  const kit = makeKit({ nic: true });
  const { k, m, iommu } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const cmds = commandLog(iommu);
  const got: number[] = [];
  const vector = k.request_irq((v) => got.push(v));
  assert.equal(vector, 0x41);
  const msi = k.amd.irq.setupMsi(KIT.NIC, vector)!;
  assert.deepEqual(msi, { address: MSI_WINDOW.base, data: 0, vector }, "MSI data = IRTE index");
  const t = k.amd.irq.tables.get(KIT.NIC)!;
  assert.equal(t.addr % 4096, 0);
  assert.equal(ownerText(m.mem.ownerOf(t.addr)), "kernel1:irq-remap-table@01:00.0");
  const w = dteOf(k, KIT.NIC);
  assert.equal(DTE.get(w, "IV"), 1);
  assert.equal(DTE.get(w, "IntCtl"), INTCTL.REMAP);
  assert.equal(DTE.get(w, "IntTabLen"), 8);
  assert.equal(DTE.get(w, "InterruptTableRootPtr") * 64, t.addr);
  assert.equal(DTE.get(w, "Mode"), 3, "the translation part is untouched");
  const e = new Uint32Array(1);
  m.mem.readDwords(t.addr, 1, e);
  assert.deepEqual(
    [
      IRTE.get(e, "RemapEn"),
      IRTE.get(e, "IntType"),
      IRTE.get(e, "Vector"),
      IRTE.get(e, "Destination"),
    ],
    [1, 0, vector, 0],
  );
  assert.deepEqual(cmds.map((c) => [c.name, c.fields.DeviceID]), [
    ["INVALIDATE_DEVTAB_ENTRY", KIT.NIC], // alloc_irq_table → set_dte_irq_entry
    ["COMPLETION_WAIT", undefined],
    ["INVALIDATE_INTERRUPT_TABLE", KIT.NIC], // modify_irte
    ["COMPLETION_WAIT", undefined],
  ]);
  // The device sends the MSI: the IOMMU remaps it and the kernel's handler gets the vector.
  const seen: MsiRecord[] = [];
  m.observers.push({ msi: (r) => seen.push(r) });
  m.msi(KIT.NIC, msi.address, msi.data);
  assert.deepEqual(got, [vector]);
  assert.deepEqual(seen[0].outcome, { kind: "remapped", vector, dest: 0 });
  // A second MSI of the same device: the next index, same table, no new DTE flush.
  cmds.length = 0;
  const v2 = k.request_irq((v) => got.push(v));
  const msi2 = k.amd.irq.setupMsi(KIT.NIC, v2)!;
  assert.equal(msi2.data, 1);
  assert.deepEqual(cmds.map((c) => c.name), ["INVALIDATE_INTERRUPT_TABLE", "COMPLETION_WAIT"]);
  m.msi(KIT.NIC, msi2.address, msi2.data);
  assert.deepEqual(got, [vector, v2]);
  assert.equal(k.spuriousIrqs, 0);
});

Deno.test("irq: an MSI whose IRTE is gone is blocked and logged as an interrupt IO_PAGE_FAULT; no handler runs", () => {
  const kit = makeKit({ nic: true });
  const { k, m } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  let calls = 0;
  const msi = k.amd.irq.setupMsi(KIT.NIC, k.request_irq(() => calls++))!;
  m.mem.write32(k.amd.irq.tables.get(KIT.NIC)!.addr, 0);
  const from = k.dmesg.lines.length;
  m.msi(KIT.NIC, msi.address, msi.data);
  k.spend(10_000);
  assert.equal(calls, 0);
  assert.deepEqual(k.dmesg.lines.slice(from).map((l) => l.text), [
    "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x00000000fee00000 flags=0x0028]",
  ]);
});

Deno.test("irq: without interrupt remapping the MSI data is the vector and the IOMMU forwards it", () => {
  const kit = makeKit({ nic: true, cmdline: "intremap=off" });
  const { k, m, iommu } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const cmds = commandLog(iommu);
  const got: number[] = [];
  const vector = k.request_irq((v) => got.push(v));
  const msi = k.amd.irq.setupMsi(KIT.NIC, vector)!;
  assert.deepEqual(msi, { address: MSI_WINDOW.base, data: vector, vector });
  assert.equal(k.amd.irq.tables.size, 0);
  assert.equal(cmds.length, 0);
  assert.equal(DTE.get(dteOf(k, KIT.NIC), "IV"), 0);
  const seen: MsiRecord[] = [];
  m.observers.push({ msi: (r) => seen.push(r) });
  m.msi(KIT.NIC, msi.address, msi.data);
  assert.deepEqual(seen[0].outcome, { kind: "forwarded", vector, dest: 0 });
  assert.deepEqual(got, [vector]);
});

Deno.test("irq: a device outside the IOMMU gets the vector as MSI data; with EFR.GASup the IRTE is the 128-bit form", () => {
  const kit = makeKit({ nic: true, efr: { IASup: 1, GASup: 1 } });
  const { k, m, iommu } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(iommu.control("GAEn"), 1, "iommu_enable_ga");
  assert.deepEqual(k.amd.irq.setupMsi(0x0800, 0x41), {
    address: MSI_WINDOW.base,
    data: 0x41,
    vector: 0x41,
  });
  const got: number[] = [];
  const vector = k.request_irq((v) => got.push(v));
  const msi = k.amd.irq.setupMsi(KIT.NIC, vector)!;
  const t = k.amd.irq.tables.get(KIT.NIC)!;
  const e = new Uint32Array(4);
  m.mem.readDwords(t.addr, 4, e);
  assert.deepEqual([IRTE_GA.get(e, "RemapEn"), IRTE_GA.get(e, "Vector")], [1, vector]);
  m.msi(KIT.NIC, msi.address, msi.data);
  assert.deepEqual(got, [vector]);
});

Deno.test("irq: a later-generation kernel (irqTableLen 9) writes IntTabLen=9 and may use 512 entries", () => {
  const kit = makeKit({ nic: true, irqTableLen: 9 });
  const { k, m } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const got: number[] = [];
  let last = { address: 0, data: 0, vector: 0 };
  for (let i = 0; i < 300; i++) last = k.amd.irq.setupMsi(KIT.NIC, 0x40 + (i % 64))!;
  assert.equal(last.data, 299, "beyond 256");
  assert.equal(k.amd.irq.tables.get(KIT.NIC)!.used.length, 512);
  assert.equal(DTE.get(dteOf(k, KIT.NIC), "IntTabLen"), 9);
  const v = k.request_irq((x) => got.push(x));
  const msi = k.amd.irq.setupMsi(KIT.NIC, v)!;
  assert.equal(msi.data, 300);
  m.msi(KIT.NIC, msi.address, msi.data);
  assert.deepEqual(got, [v]);
  // The 4.13 default: 256 entries, then setupMsi has no index left.
  const old = makeKit({ nic: true });
  old.k.amd.go_to_state("IOMMU_INITIALIZED");
  for (let i = 0; i < 256; i++) assert.ok(old.k.amd.irq.setupMsi(KIT.NIC, 0x40));
  assert.equal(old.k.amd.irq.setupMsi(KIT.NIC, 0x40), undefined);
});
