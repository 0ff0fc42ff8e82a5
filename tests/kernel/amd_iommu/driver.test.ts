/**
 * The AMD IOMMU driver's init (runtime/kernel/amd_iommu/driver.ts) as 4.13 runs it: the
 * state machine, early_amd_iommu_init (fresh GFP_KERNEL device table, disable_iommus,
 * init_device_table), early_enable_iommus (register order, the closing flush),
 * init_device_table_dma (SA only in a kdump kernel), amd_iommu=off and iommu=pt.
 */
import assert from "node:assert/strict";
import { INV_ALL_PAGES_ADDRESS } from "../../../runtime/hw/layouts/command.ts";
import { DTE } from "../../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../../runtime/hw/layouts/mmio.ts";
import { ownerText, PAGE_SIZE } from "../../../runtime/hw/memory.ts";
import { GFP } from "../../../runtime/kernel/alloc.ts";
import type { InitState } from "../../../runtime/kernel/amd_iommu/driver.ts";
import {
  commandLog,
  dmaLog,
  dteOf,
  type HookCall,
  hooksWith,
  KIT,
  makeKit,
  mmioLog,
  texts,
} from "../kit.ts";

const CTL = KIT.IOMMU_MMIO + MMIO.CONTROL;

/** What a first kernel leaves behind: translation, command buffer, event log and interrupts on. */
function leaveEnabled(kit: ReturnType<typeof makeKit>): number {
  const v = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12) | (1 << 28) | (1 << 29);
  kit.m.mem.write32(CTL, v >>> 0);
  return v >>> 0;
}

Deno.test("amd_iommu: init walks the states in order, each step doing its part", () => {
  const kit = makeKit({ nic: true });
  const { k, iommu } = kit;
  const d = k.amd;
  const steps: [InitState, () => void][] = [
    ["IOMMU_IVRS_DETECTED", () => assert.equal(d.dev_table, 0)],
    ["IOMMU_ACPI_FINISHED", () => {
      assert.notEqual(d.dev_table, 0);
      assert.equal(d.iommus.length, 1);
      assert.equal(iommu.control("IommuEn"), 0);
    }],
    ["IOMMU_ENABLED", () => {
      assert.equal(iommu.control("IommuEn"), 1);
      assert.equal(iommu.deviceTable()[0], d.dev_table);
      assert.equal(d.dev_data.size, 0, "no device attached yet");
    }],
    ["IOMMU_PCI_INIT", () => {
      assert.equal(d.dev_data.get(KIT.NIC)!.domain!.id, 1);
      assert.equal(iommu.control("EventIntEn"), 0);
    }],
    ["IOMMU_INTERRUPTS_EN", () => {
      assert.equal(iommu.control("EventIntEn"), 1);
      assert.equal(d.iommus[0].int_enabled, true);
      assert.ok(!texts(k).includes("AMD-Vi: Lazy IO/TLB flushing enabled"));
    }],
    ["IOMMU_DMA_OPS", () => assert.ok(texts(k).includes("AMD-Vi: Lazy IO/TLB flushing enabled"))],
    ["IOMMU_INITIALIZED", () => {}],
  ];
  assert.equal(d.init_state, "IOMMU_START_STATE");
  for (const [state, check] of steps) {
    d.go_to_state(state);
    assert.equal(d.init_state, state);
    check();
  }
  assert.deepEqual(texts(k, "info"), [
    "AMD-Vi: Found IOMMU at 0000:00:00.2 cap 0x40",
    "AMD-Vi: Extended features (0x40):",
    "AMD-Vi: Interrupt remapping enabled",
    "AMD-Vi: Lazy IO/TLB flushing enabled",
  ]);
  // The feature names are pr_cont text after a record that ended in a newline: a record of
  // their own, at the default level.
  assert.deepEqual(texts(k, "warn"), [" IA"]);
});

Deno.test("amd_iommu: without an IVHD the driver stops at IOMMU_NOT_FOUND and touches nothing", () => {
  const kit = makeKit({ nic: true, ivrs: { ivhds: [], pciWindows: [] } });
  const writes = mmioLog(kit.iommu);
  kit.k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(kit.k.amd.init_state, "IOMMU_NOT_FOUND");
  assert.equal(kit.k.alloc.allocatedPages, 0);
  assert.equal(writes.length, 0);
});

Deno.test("amd_iommu: early_amd_iommu_init allocates a fresh GFP_KERNEL|__GFP_ZERO table (above 4 GiB here) and disable_iommus clears IommuEn", () => {
  const calls: HookCall[] = [];
  const kit = makeKit({ nic: true, hooks: hooksWith({}, calls) });
  const { k, m, iommu } = kit;
  const before = leaveEnabled(kit);
  // Garbage where the table will land: a fresh table must not show it.
  const expectAt = KIT.K1_HIGH.base + KIT.K1_HIGH.size - 0x8000;
  m.mem.write32(expectAt + 5 * 32 + 24, 0xdead_beef);
  const writes = mmioLog(iommu);
  k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  // The device table: DeviceIDs 0..0x2ff → 24 KiB → order 3 (32 KiB), top of ZONE_NORMAL.
  const gfp = calls.find((c) => c.name === "amd_iommu.early_amd_iommu_init.dev_table_gfp");
  assert.equal(gfp?.value, GFP.KERNEL | GFP.ZERO);
  assert.equal(k.amd.last_bdf, KIT.LAST_BDF);
  assert.equal(k.amd.dev_table_size, 0x8000);
  assert.equal(k.amd.dev_table, expectAt);
  assert.ok(k.amd.dev_table >= 0x1_0000_0000, "GFP_KERNEL may land above 4 GiB");
  assert.equal(ownerText(m.mem.ownerOf(k.amd.dev_table)), "kernel1:amd_iommu_dev_table");
  assert.equal(ownerText(m.mem.ownerOf(k.amd.dev_table + 0x7000)), "kernel1:amd_iommu_dev_table");
  assert.equal(m.mem.read32(expectAt + 5 * 32 + 24), 0, "zeroed");
  // disable_iommus: CmdBufEn, EventIntEn, EventLogEn, GALogEn, GAIntEn, IommuEn, one at a
  // time (read-modify-write of both halves), IommuEn last.
  const lows = writes.filter((w) => w.offset === MMIO.CONTROL).map((w) => w.value);
  let v = before;
  const expected = [12, 3, 2, 28, 29, 0].map((bit) => (v = (v & ~(1 << bit)) >>> 0));
  assert.deepEqual(lows, expected);
  assert.deepEqual(
    writes.filter((w) => w.offset === MMIO.CONTROL + 4).map((w) => w.value),
    [0, 0, 0, 0, 0, 0],
  );
  assert.equal(iommu.control("IommuEn"), 0);
  assert.equal(
    writes.filter((w) => w.offset !== MMIO.CONTROL && w.offset !== MMIO.CONTROL + 4)
      .length,
    0,
    "nothing else is written before early_enable_iommus",
  );
});

Deno.test("amd_iommu: the dev_table_gfp hook decides the zone (GFP_DMA32 puts the table below 4 GiB)", () => {
  const kit = makeKit({
    hooks: hooksWith({
      waterfall: {
        "amd_iommu.early_amd_iommu_init.dev_table_gfp": (g) => (g as number) | GFP.DMA32,
      },
    }),
  });
  kit.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  assert.equal(kit.k.amd.dev_table, KIT.K1_LOW.base + KIT.K1_LOW.size - 0x8000);
});

Deno.test("amd_iommu: the disable_iommus hook can keep translation on", () => {
  const kit = makeKit({
    hooks: hooksWith({
      waterfall: { "amd_iommu.early_amd_iommu_init.disable_iommus": () => false },
    }),
  });
  leaveEnabled(kit);
  kit.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  assert.equal(kit.iommu.control("IommuEn"), 1);
  assert.equal(kit.iommu.control("CmdBufEn"), 1);
});

Deno.test("amd_iommu: init_device_table sets IV on every DeviceID 0..last_bdf and nothing else", () => {
  const kit = makeKit();
  kit.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  const d = kit.k.amd;
  assert.equal(d.irq_remap, true);
  for (let devid = 0; devid <= KIT.LAST_BDF; devid++) {
    assert.deepEqual([...dteOf(kit.k, devid)], [0, 0, 0, 0, 1, 0, 0, 0], `DTE ${devid}`);
  }
  assert.deepEqual([...dteOf(kit.k, KIT.LAST_BDF + 1)], [0, 0, 0, 0, 0, 0, 0, 0]);

  const off = makeKit({ cmdline: "intremap=off" });
  off.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  assert.equal(off.k.amd.irq_remap, false);
  assert.equal(DTE.get(dteOf(off.k, 0), "IV"), 0);
});

Deno.test("amd_iommu: with DEV_ALL the table covers 0..0xffff: 2 MiB, Size field 0x1ff", () => {
  const kit = makeKit({ devices: "all" });
  kit.k.amd.go_to_state("IOMMU_ENABLED");
  assert.equal(kit.k.amd.last_bdf, 0xffff);
  assert.equal(kit.k.amd.dev_table_size, 2 * 2 ** 20);
  assert.equal(kit.k.amd.dev_table % (2 * 2 ** 20), 0, "naturally aligned order-9 block");
  assert.deepEqual(kit.iommu.deviceTable(), [kit.k.amd.dev_table, 2 * 2 ** 20]);
  assert.equal(DTE.get(dteOf(kit.k, 0xffff), "IV"), 1);
});

Deno.test("amd_iommu: early_enable_iommus (4.13) writes the Device Table Base while IommuEn=0, then enables and flushes with INVALIDATE_IOMMU_ALL", () => {
  const kit = makeKit({ nic: true });
  const { k, iommu } = kit;
  leaveEnabled(kit);
  k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  const writes = mmioLog(iommu);
  const cmds = commandLog(iommu);
  k.amd.go_to_state("IOMMU_ENABLED");
  const table = k.amd.dev_table;
  const dtb = writes.filter((w) => w.offset === MMIO.DEV_TABLE || w.offset === MMIO.DEV_TABLE + 4);
  // One 64-bit write, low half first: base | (32 KiB / 4 KiB - 1).
  assert.deepEqual(dtb.map((w) => [w.offset, w.value, w.iommuEn]), [
    [MMIO.DEV_TABLE, (table % 2 ** 32) + 7, 0],
    [MMIO.DEV_TABLE + 4, Math.floor(table / 2 ** 32), 0],
  ]);
  const enable = writes.findIndex((w) => w.offset === MMIO.CONTROL && (w.value & 1) === 1);
  const idx = (off: number) => writes.findIndex((w) => w.offset === off);
  assert.ok(idx(MMIO.DEV_TABLE) < idx(MMIO.CMD_BUF), "device table, then command buffer");
  assert.ok(idx(MMIO.CMD_BUF) < idx(MMIO.EVT_BUF), "then the event log");
  assert.ok(idx(MMIO.EVT_BUF) < enable, "IommuEn last");
  assert.equal(writes.slice(0, enable).every((w) => w.iommuEn === 0), true);
  // iommu_init_flags: Coherent on, InvTimeOut = 4 (1 s); the rings enabled.
  for (
    const [bit, value] of [["Coherent", 1], ["InvTimeOut", 4], ["CmdBufEn", 1], ["EventLogEn", 1]]
  ) {
    assert.equal(iommu.control(bit as string), value, bit as string);
  }
  assert.equal(iommu.control("EventIntEn"), 0, "interrupts come later (INTERRUPTS_EN)");
  // The closing flush: INVALIDATE_IOMMU_ALL, then a COMPLETION_WAIT on cmd_sem.
  assert.deepEqual(cmds.map((c) => c.name), ["INVALIDATE_IOMMU_ALL", "COMPLETION_WAIT"]);
  assert.ok(cmds[0].t > writes[enable].t, "after IommuEn=1");
  assert.equal(cmds[1].fields.S, 1);
  assert.equal(cmds[1].fields.StoreAddress * 8, k.amd.iommus[0].cmd_sem);
  assert.equal(cmds[1].fields.StoreData, 1);
  assert.equal(kit.m.mem.read32(k.amd.iommus[0].cmd_sem), 1, "the IOMMU stored the semaphore");
  assert.equal(k.amd.cmdStats.timeouts, 0);
});

Deno.test("amd_iommu: without EFR.IASup the flush is per DeviceID, per IRT and per domain (0..0xffff each)", () => {
  const kit = makeKit({ efr: { IASup: 0 } });
  kit.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  const cmds = commandLog(kit.iommu);
  kit.k.amd.go_to_state("IOMMU_ENABLED");
  const N = 0x10000;
  assert.equal(cmds.length, 3 * N + 3);
  const dte = cmds.slice(0, N), irt = cmds.slice(N + 1, 2 * N + 1);
  const pages = cmds.slice(2 * N + 2, 3 * N + 2);
  assert.deepEqual(cmds.slice(0, 3).map((c) => [c.name, c.fields.DeviceID]), [
    ["INVALIDATE_DEVTAB_ENTRY", 0],
    ["INVALIDATE_DEVTAB_ENTRY", 1],
    ["INVALIDATE_DEVTAB_ENTRY", 2],
  ]);
  assert.ok(dte.every((c, i) => c.name === "INVALIDATE_DEVTAB_ENTRY" && c.fields.DeviceID === i));
  assert.equal(cmds[N].name, "COMPLETION_WAIT");
  assert.ok(
    irt.every((c, i) => c.name === "INVALIDATE_INTERRUPT_TABLE" && c.fields.DeviceID === i),
  );
  assert.equal(cmds[2 * N + 1].name, "COMPLETION_WAIT");
  assert.ok(
    pages.every((c, i) =>
      c.name === "INVALIDATE_IOMMU_PAGES" && c.fields.DomainID === i && c.fields.S === 1 &&
      c.fields.PDE === 1 && c.fields.Address * 4096 === INV_ALL_PAGES_ADDRESS
    ),
  );
  assert.equal(cmds[3 * N + 2].name, "COMPLETION_WAIT");
  assert.ok(cmds.every((c) => c.result.startsWith("ok")));
});

for (const kdump of [false, true]) {
  Deno.test(`amd_iommu: init_device_table_dma sets V|TV on every DeviceID${kdump ? " and SA (kdump kernel)" : ", no SA (not kdump)"}`, () => {
    const calls: HookCall[] = [];
    const kit = makeKit({
      nic: true,
      cmdline: kdump ? "irqpoll reset_devices elfcorehdr=0x37ff0000" : "ro",
      hooks: hooksWith({}, calls),
    });
    const { k } = kit;
    k.amd.go_to_state("IOMMU_INITIALIZED");
    assert.equal(k.is_kdump_kernel(), kdump);
    const bits = calls.find((c) => c.name === "amd_iommu.init_device_table_dma.bits");
    assert.deepEqual(bits?.value, kdump ? ["V", "TV", "SA"] : ["V", "TV"]);
    const sa = kdump ? 1 : 0;
    // A DeviceID without a device: V|TV only ("does not allow DMA"), IV from init_device_table.
    for (const devid of [0, KIT.NODEV, KIT.LAST_BDF]) {
      const w = dteOf(k, devid);
      assert.deepEqual([w[0], w[1]], [3, 0], `q0 of ${devid}`);
      assert.deepEqual([w[2], w[3] & ~(1 << 2)], [0, 0]);
      assert.equal(DTE.get(w, "SA"), sa);
      assert.equal(DTE.get(w, "IV"), 1);
    }
    assert.deepEqual([...dteOf(k, KIT.LAST_BDF + 1)], [0, 0, 0, 0, 0, 0, 0, 0]);
    // The attached NIC: translation to its domain; SA set again after the attach in kdump.
    const nic = dteOf(k, KIT.NIC);
    const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
    for (const [f, val] of [["V", 1], ["TV", 1], ["IR", 1], ["IW", 1], ["Mode", 3], ["SA", sa]]) {
      assert.equal(DTE.get(nic, f as "V"), val, f as string);
    }
    assert.equal(DTE.get(nic, "DomainID"), dom.id);
    assert.equal(DTE.get(nic, "PageTableRootPtr") * PAGE_SIZE, dom.pt_root);
  });
}

Deno.test("amd_iommu: amd_iommu=off prints the 4.13 line and stops at IOMMU_CMDLINE_DISABLED with translation off", () => {
  const kit = makeKit({ nic: true, cmdline: "amd_iommu=off" });
  const { k, iommu } = kit;
  leaveEnabled(kit);
  const cmds = commandLog(iommu);
  k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(k.amd.init_state, "IOMMU_CMDLINE_DISABLED");
  const line = k.dmesg.lines.find((l) => l.text.includes("disabled"));
  assert.deepEqual(
    [line?.level, line?.text],
    ["info", "AMD-Vi: AMD IOMMU disabled on kernel command-line"],
  );
  assert.equal(iommu.control("IommuEn"), 0, "disable_iommus still ran in early init");
  assert.equal(k.amd.irq_remap, false);
  assert.equal(k.amd.check_device(KIT.NIC), false);
  assert.equal(cmds.length, 0);
  assert.equal(k.pciDev(KIT.NIC)!.dmaOps, undefined, "the DMA API maps directly");
});

Deno.test("amd_iommu: iommu=pt gives identity domains: Mode 0, no page table, DMA passes untranslated", () => {
  const kit = makeKit({ nic: true, cmdline: "iommu=pt" });
  const { k, m } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const dd = k.amd.dev_data.get(KIT.NIC)!;
  assert.equal(dd.domain!.type, "identity");
  assert.equal(dd.domain!.id, 1);
  const w = dteOf(k, KIT.NIC);
  for (const [f, val] of [["V", 1], ["TV", 1], ["IR", 1], ["IW", 1], ["Mode", 0]]) {
    assert.equal(DTE.get(w, f as "V"), val, f as string);
  }
  assert.equal(DTE.get(w, "PageTableRootPtr"), 0);
  assert.equal(DTE.get(w, "DomainID"), 1);
  const dev = k.pciDev(KIT.NIC)!;
  assert.equal(dev.dmaOps, undefined);
  const buf = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  assert.ok(buf >= 0x1_0000_0000);
  // Direct mapping: the physical address, if the device's mask reaches it.
  assert.equal(k.dma.dma_map_single(dev, buf + 0x10, 64, "from-device"), undefined);
  k.dma.dma_set_mask(dev, 64);
  assert.equal(k.dma.dma_map_single(dev, buf + 0x10, 64, "from-device"), buf + 0x10);
  const log = dmaLog(m);
  const r = m.dmaWrite(KIT.NIC, buf + 0x10, [0x1234_5678]);
  assert.deepEqual(r, { ok: true, spa: buf + 0x10 });
  assert.deepEqual(log[0].outcome, { kind: "untranslated", spa: buf + 0x10, why: "mode-0" });
  assert.equal(m.mem.read32(buf + 0x10), 0x1234_5678);
});
