/**
 * The ways out of a kernel (runtime/kernel/crash.ts): crash_kexec leaves the IOMMU and the
 * devices running; kernel_kexec shuts the drivers down and then the IOMMU. And what the
 * 4.13 kdump kernel's IOMMU init then does to the DMA the crash left in flight.
 */
import assert from "node:assert/strict";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import { crash_kexec, kernel_kexec } from "../../runtime/kernel/crash.ts";
import {
  bnx2Of,
  dmaLog,
  dteOf,
  type HookCall,
  hooksWith,
  KIT,
  linesSince,
  makeKernel,
  makeKit,
  mmioLog,
} from "./kit.ts";

function running(extra: Parameters<typeof makeKit>[0] = {}) {
  const kit = makeKit({
    nic: { traffic: { framesPerSecond: 10_000, frameBytes: 1500 } },
    disk: true,
    drivers: ["bnx2", "nvme"],
    bnx2: { rxRingSize: 256 },
    ...extra,
  });
  start_kernel(kit.k);
  bnx2Of(kit.k).open(kit.k.pciDev(KIT.NIC)!);
  kit.k.spend(2_000_000);
  return kit;
}

Deno.test("crash: crash_kexec leaves IommuEn=1 and the device table base as they were; the NIC keeps DMAing through the old tables", () => {
  const calls: HookCall[] = [];
  const kit = running({ hooks: hooksWith({}, calls) });
  const { k, m, iommu, nic } = kit;
  const table = iommu.deviceTable();
  assert.deepEqual(table, [k.amd.dev_table, 0x8000]);
  const writes = mmioLog(iommu);
  const from = k.dmesg.lines.length;
  crash_kexec(k, "sysrq triggered crash");
  assert.deepEqual(linesSince(k, from), [
    ["emerg", "Kernel panic - not syncing: sysrq triggered crash"],
    ["info", "kexec: Starting crash kernel"],
  ]);
  assert.equal(calls.filter((c) => c.name === "kernel.machine_crash_shutdown").length, 1);
  assert.equal(k.alive, false);
  assert.throws(() => k.spend(1), /dead/);
  assert.equal(writes.length, 0, "nothing written to the IOMMU");
  assert.equal(iommu.control("IommuEn"), 1);
  assert.deepEqual(iommu.deviceTable(), table);
  const log = dmaLog(m);
  const frames = nic!.stats.frames;
  m.clock.advance(5_000_000);
  assert.ok(nic!.stats.frames > frames, "frames keep arriving");
  const nicDma = log.filter((r) => r.devid === KIT.NIC);
  assert.ok(nicDma.length > 0);
  const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
  assert.ok(nicDma.every((r) => r.outcome.kind === "translated" && r.outcome.domid === dom.id));
});

Deno.test("crash: kernel_kexec runs the drivers' ->shutdown (disk, then NIC) and then disables the IOMMU", () => {
  const kit = running();
  const { k, m, iommu, nic, disk } = kit;
  const order: string[] = [];
  for (const [name, dev] of [["nic", nic!], ["disk", disk!]] as const) {
    const orig = dev.write32.bind(dev);
    dev.write32 = (off: number, v: number) => {
      order.push(`${name}:${off.toString(16)}=${v}`);
      orig(off, v);
    };
  }
  iommu.observers.push({
    mmioWrite: (off, v) => {
      if (off === MMIO.CONTROL) order.push(`iommu:control=${v.toString(16)}`);
    },
  });
  const resets = nic!.counters.resets;
  kernel_kexec(k, true);
  assert.equal(order[0], "disk:0=0", "device_shutdown walks the devices in reverse");
  assert.equal(order[1], "nic:8=1", "bnx2: DMA_STOP");
  const firstIommu = order.findIndex((s) => s.startsWith("iommu:"));
  const lastDevice = order.findLastIndex((s) => !s.startsWith("iommu:"));
  assert.ok(lastDevice < firstIommu, "drivers first, IOMMU last");
  assert.equal(nic!.counters.resets, resets + 1, "bnx2_reset_chip");
  assert.equal(iommu.control("IommuEn"), 0);
  assert.equal(iommu.control("CmdBufEn"), 0);
  assert.equal(k.alive, false);
  assert.ok(k.dmesg.lines.some((l) => l.text === "kexec_core: Starting new kernel"));
  const log = dmaLog(m);
  m.clock.advance(10_000_000);
  assert.equal(log.filter((r) => r.devid === KIT.NIC).length, 0, "the NIC is quiet");
});

Deno.test("crash: kernel_kexec without the IOMMU shutdown (or before it is installed) leaves translation on", () => {
  const kit = running();
  kernel_kexec(kit.k, false);
  assert.equal(kit.iommu.control("IommuEn"), 1);
  assert.equal(kit.nic!.counters.resets, 2, "the drivers were still shut down");
  // Installed from IOMMU_ENABLED on: at PCI_INIT it runs...
  const mid = makeKit({ nic: true });
  mid.k.amd.go_to_state("IOMMU_PCI_INIT");
  assert.equal(typeof mid.k.x86_platform.iommu_shutdown, "function");
  kernel_kexec(mid.k, true);
  assert.equal(mid.iommu.control("IommuEn"), 0);
  // ...but not while init has not enabled anything (translation left on by a hook here).
  const early = makeKit({
    hooks: hooksWith({
      waterfall: { "amd_iommu.early_amd_iommu_init.disable_iommus": () => false },
    }),
  });
  early.m.mem.write32(KIT.IOMMU_MMIO + MMIO.CONTROL, 1);
  early.k.amd.go_to_state("IOMMU_ACPI_FINISHED");
  assert.equal(early.k.x86_platform.iommu_shutdown, undefined, "installed by early_enable_iommus");
  kernel_kexec(early.k, true);
  assert.equal(early.iommu.control("IommuEn"), 1);
});

Deno.test("crash: the 4.13 kdump kernel's init turns the in-flight DMA untranslated, then (SA) silently aborted", () => {
  const kit = running();
  const { k, m, iommu } = kit;
  const old = bnx2Of(k).devs.get(KIT.NIC)!;
  const oldIovas = new Set(old.slots.map((s) => Math.floor(s.dma / 4096)));
  oldIovas.add(Math.floor(old.blk!.dma / 4096));
  oldIovas.add(Math.floor(old.ring!.dma / 4096));
  crash_kexec(k, "oops");
  m.clock.advance(1_000_000);
  const k2 = makeKernel(kit, {
    id: "kernel2",
    cmdline: "irqpoll reset_devices elfcorehdr=0x37ff0000",
    memory: [{ ...KIT.RESERVE }],
  });
  const log = dmaLog(m);
  const suppressed: number[] = [];
  iommu.observers.push({
    suppressed: (_n, devid, addr) => devid === KIT.NIC && suppressed.push(addr),
  });
  // disable_iommus: translation off, the old IOVAs are physical addresses now.
  k2.amd.go_to_state("IOMMU_ACPI_FINISHED");
  m.clock.advance(2_000_000);
  const off = log.filter((r) => r.devid === KIT.NIC);
  assert.ok(off.length > 0);
  for (const r of off) {
    assert.deepEqual(r.outcome, { kind: "untranslated", spa: r.iova, why: "iommu-off" });
    assert.ok(oldIovas.has(Math.floor(r.iova / 4096)), "an IOVA of the first kernel");
  }
  // Enabled with the fresh table: the NIC's entry has only IV, V=0 → still untranslated.
  k2.amd.go_to_state("IOMMU_ENABLED");
  assert.equal(iommu.deviceTable()[0], k2.amd.dev_table);
  assert.notEqual(k2.amd.dev_table, k.amd.dev_table);
  assert.equal(DTE.get(dteOf(k2, KIT.NIC), "V"), 0);
  log.length = 0;
  m.clock.advance(2_000_000);
  const invalid = log.filter((r) => r.devid === KIT.NIC);
  assert.ok(invalid.length > 0);
  assert.ok(
    invalid.every((r) => r.outcome.kind === "untranslated" && r.outcome.why === "dte-invalid"),
  );
  // Attached to an empty domain with SA set: every old IOVA aborts, nothing is logged.
  k2.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(DTE.get(dteOf(k2, KIT.NIC), "SA"), 1);
  log.length = 0;
  m.clock.advance(5_000_000);
  const after = log.filter((r) => r.devid === KIT.NIC);
  assert.ok(after.length > 0);
  assert.ok(after.every((r) => r.outcome.kind === "abort" && r.outcome.logged === false));
  assert.equal(suppressed.length, after.length, "each abort suppressed by SA");
  assert.ok(!k2.dmesg.lines.some((l) => l.text.includes("IO_PAGE_FAULT")));
});

Deno.test("crash: panic runs with interrupts off — work a kernel scheduled never runs, though the crash path spends time", () => {
  const kit = running();
  const { k, m } = kit;
  const ran: string[] = [];
  k.schedule(1, () => ran.push("timer"), "test");
  const napiFrames = bnx2Of(k).devs.get(KIT.NIC)!.rxFrames;
  const t0 = m.clock.now;
  crash_kexec(k, "test");
  assert.ok(m.clock.now > t0, "disable_IO_APIC's register writes took time");
  m.clock.advance(5_000_000);
  assert.deepEqual(ran, [], "the timer that came due during the crash path did not run");
  assert.equal(bnx2Of(k).devs.get(KIT.NIC)!.rxFrames, napiFrames, "no NAPI poll after the panic");
  // The I/O APIC's pins are masked on the way out.
  const io = m.chipset!.ioapic;
  for (let pin = 0; pin < 24; pin++) assert.equal(io.rte[pin * 2] & (1 << 16), 1 << 16, `${pin}`);
});
