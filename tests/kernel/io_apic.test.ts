/**
 * The timer's route at boot (runtime/kernel/io_apic.ts): setup_IO_APIC() and check_timer().
 * With interrupt remapping the I/O APIC's DeviceID gets a remapping table whose IRTE[2] holds
 * the timer's vector and the redirection entry carries the index; the tick arrives only if
 * the IOMMU remaps it. With translation off it arrives as vector 2 — no vector at all — and
 * the kernel panics the way 4.14 does.
 */
import assert from "node:assert/strict";
import { DTE, INTCTL } from "../../runtime/hw/layouts/dte.ts";
import { IOAPIC_RTE } from "../../runtime/hw/layouts/ioapic.ts";
import { IRTE } from "../../runtime/hw/layouts/irte.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import { KernelPanic } from "../../runtime/kernel/kernel.ts";
import { commandLog, dteOf, KIT, makeKit, texts } from "./kit.ts";

const rte = (kit: ReturnType<typeof makeKit>, pin: number) =>
  kit.m.chipset!.ioapic.rte.subarray(pin * 2, pin * 2 + 2);

Deno.test("io_apic: with remapping, IRQ 0 goes through IRTE[2] of the I/O APIC's table; the timer ticks and check_timer passes", () => {
  const kit = makeKit({ nic: true });
  const cmds = commandLog(kit.iommu);
  start_kernel(kit.k);
  const { k, m } = kit;
  const t = k.amd.irq.tables.get(KIT.IOAPIC.devid)!;
  assert.ok(t, "a remapping table for 00:14.0");
  assert.deepEqual(t.used.slice(0, 32), new Array(32).fill(true), "the first 32 kept for pins");
  const w = dteOf(k, KIT.IOAPIC.devid);
  assert.deepEqual(
    [DTE.get(w, "IV"), DTE.get(w, "IntCtl"), DTE.get(w, "IntTabLen")],
    [1, INTCTL.REMAP, 8],
  );
  assert.equal(DTE.get(w, "InterruptTableRootPtr") * 64, t.addr);
  const irte = new Uint32Array(1);
  m.mem.readDwords(t.addr + 2 * 4, 1, irte);
  assert.deepEqual([IRTE.get(irte, "RemapEn"), IRTE.get(irte, "Vector")], [1, 0x30]);
  assert.equal(IOAPIC_RTE.get(rte(kit, 2), "Vector"), 2, "the IRTE index, not the vector");
  assert.ok(
    cmds.some((c) => c.name === "INVALIDATE_INTERRUPT_TABLE" && c.fields.DeviceID === 0xa0),
  );
  assert.ok(k.jiffies > 4, `jiffies ${k.jiffies}`);
  assert.equal(k.apicErrors, 0);
  assert.equal(IOAPIC_RTE.get(rte(kit, 2), "Mask"), 0);
  assert.equal(m.chipset!.hpet.stats.ticks, 10, "10 ms of a 1 kHz tick, then the HPET is stopped");
  k.spend(100_000_000);
  assert.equal(m.chipset!.hpet.stats.ticks, 10);
});

Deno.test("io_apic: with remapping configured but translation off, the tick arrives as vector 2 and the kernel panics", () => {
  // The IOMMU is brought up, then translation is switched off (disable_iommus) before the
  // timer is set up — the state a kdump kernel with the copy patches but without patch 12 is
  // in. Interrupt remapping stays configured.
  const kit = makeKit({ nic: true });
  const { k, m, iommu } = kit;
  const goToState = k.amd.go_to_state.bind(k.amd);
  k.amd.go_to_state = (target) => {
    goToState(target);
    if (target === "IOMMU_ENABLED") k.amd.disable_iommus();
  };
  assert.throws(() => start_kernel(k), (e) => e instanceof KernelPanic);
  assert.equal(iommu.control("IommuEn"), 0);
  assert.equal(m.mem.read32(KIT.IOMMU_MMIO + MMIO.STATUS) & (1 << 4), 0, "CmdBufRun reads 0");
  assert.equal(k.panicked, "timer doesn't work through Interrupt-remapped IO-APIC");
  assert.ok(k.apicErrors >= 10, `${k.apicErrors} ticks arrived as vector 2`);
  assert.equal(k.jiffies, 0);
  assert.ok(texts(k, "alert").includes("AMD-Vi: Completion-Wait loop timed out"));
  assert.equal(
    texts(k, "emerg").at(-1),
    "Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC",
  );
  assert.equal(m.chipset!.hpet.stats.ticks, 10);
});

Deno.test("io_apic: without remapping (intremap=off) the entry carries the vector and the timer works with translation off", () => {
  const kit = makeKit({ nic: true, cmdline: "intremap=off" });
  start_kernel(kit.k);
  assert.equal(IOAPIC_RTE.get(rte(kit, 2), "Vector"), 0x30);
  assert.equal(kit.k.amd.irq.tables.has(KIT.IOAPIC.devid), false);
  assert.ok(kit.k.jiffies > 4);
});

Deno.test("io_apic: an I/O APIC missing from the IVRS turns interrupt remapping off (check_ioapic_information)", () => {
  const kit = makeKit({ nic: true });
  const ivrs = { ...kit.ivrs, ioapics: [] };
  const k = makeKit({ nic: true, ivrs }).k;
  start_kernel(k);
  assert.equal(k.amd.irq_remap, false);
  assert.deepEqual(texts(k, "err"), [
    "[Firmware Bug]: AMD-Vi: IOAPIC[128] not in IVRS table",
    "[Firmware Bug]: AMD-Vi: No southbridge IOAPIC found",
    "AMD-Vi: Disabling interrupt remapping",
  ]);
  assert.ok(k.jiffies > 4, "the timer works, unremapped");
});
