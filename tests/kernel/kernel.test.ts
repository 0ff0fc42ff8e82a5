/**
 * The Kernel's plumbing (runtime/kernel/kernel.ts, printk.ts): simulated CPU time, polling,
 * timers that die with the kernel, 64-bit MMIO as two writes, interrupts, the command line.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { ownerText } from "../../runtime/hw/memory.ts";
import { GFP } from "../../runtime/kernel/alloc.ts";
import { COST } from "../../runtime/kernel/cost.ts";
import { parseCmdline } from "../../runtime/kernel/kernel.ts";
import { Dmesg, RateLimit, timestamp } from "../../runtime/kernel/printk.ts";
import { KIT, makeKernel, makeKit, makeMachine, mmioLog } from "./kit.ts";

Deno.test("kernel: spend runs device events due meanwhile; pollWait jumps event to event and times out exactly at its deadline", () => {
  const { k, m } = makeKit();
  let flag = false;
  m.clock.after(2_500, () => (flag = true), "test");
  assert.equal(k.pollWait(() => flag, 1_000, 10), 3, "seen at the third 1 µs step");
  assert.equal(m.clock.now, 3_000);
  const t0 = m.clock.now;
  assert.equal(k.pollWait(() => false, 1_000, 100_000), -1);
  assert.equal(m.clock.now - t0, 100_000_000);
  k.udelay(7);
  assert.equal(m.clock.now - t0, 100_007_000);
});

Deno.test("kernel: timers run in kernel time and are cancelled when the kernel stops", () => {
  const { k, m } = makeKit();
  const ran: string[] = [];
  k.schedule(1_000, () => ran.push("a"), "a");
  k.schedule(5_000, () => ran.push("b"), "b");
  k.spend(2_000);
  assert.deepEqual(ran, ["a"]);
  k.stop();
  m.clock.advance(10_000);
  assert.deepEqual(ran, ["a"]);
  assert.equal(k.alive, false);
  assert.throws(() => k.spend(1), /kernel1 is dead/);
});

Deno.test("kernel: writeq is two 32-bit MMIO writes, low half first, with CPU time between", () => {
  const { k, iommu } = makeKit();
  const w = mmioLog(iommu);
  k.writeq(0x1_2345_6000 + 0x1ff, KIT.IOMMU_MMIO + MMIO.DEV_TABLE);
  assert.deepEqual(w.map((x) => [x.offset, x.value]), [[0, 0x2345_61ff], [4, 1]]);
  assert.equal(w[1].t - w[0].t, COST.mmioWrite);
  assert.equal(k.readq(KIT.IOMMU_MMIO + MMIO.DEV_TABLE), 0x1_2345_61ff);
});

Deno.test("kernel: request_irq hands out vectors above the ISA range; an MSI with no handler is a spurious interrupt, one with a vector below 0x10 an APIC error", () => {
  const { k, m } = makeKit({ nic: true, cmdline: "intremap=off" });
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const got: number[] = [];
  assert.equal(k.request_irq((v) => got.push(v)), 0x41);
  assert.equal(k.request_irq((v) => got.push(v)), 0x42);
  assert.equal(k.request_isa_irq(0, (v) => got.push(v)), 0x30, "ISA_IRQ_VECTOR(0)");
  m.msi(KIT.NIC, 0xfee0_0000, 0x42);
  m.msi(KIT.NIC, 0xfee0_0000, 0x30);
  assert.deepEqual(got, [0x42, 0x30]);
  k.free_irq(0x42);
  m.msi(KIT.NIC, 0xfee0_0000, 0x42);
  assert.equal(k.spuriousIrqs, 1);
  assert.equal(k.dmesg.lines.at(-1)!.text, "do_IRQ: 0.66 No irq handler for vector");
  assert.equal(k.dmesg.lines.at(-1)!.level, "emerg");
  // Vector 2 (e.g. an IRTE index that was never remapped): illegal, dropped by the local
  // APIC, nothing printed at the default log level.
  const lines = k.dmesg.lines.length;
  m.msi(KIT.NIC, 0xfee0_0000, 0x02);
  assert.equal(k.apicErrors, 1);
  assert.equal(k.spuriousIrqs, 1);
  assert.equal(k.dmesg.lines.length, lines);
});

Deno.test("kernel: the command line, kdump detection, dev_err prefixes", () => {
  assert.deepEqual(
    [...parseCmdline(" ro  amd_iommu=off elfcorehdr=0x37ff0000 quiet ")],
    [["ro", ""], ["amd_iommu", "off"], ["elfcorehdr", "0x37ff0000"], ["quiet", ""]],
  );
  const { k } = makeKit({ nic: true, cmdline: "irqpoll elfcorehdr=0x37ff0000" });
  assert.equal(k.is_kdump_kernel(), true);
  assert.equal(makeKit().k.is_kdump_kernel(), false);
  const dev = k.pciDev(KIT.NIC)!;
  k.dev_err(dev, "boom");
  assert.equal(k.dmesg.lines.at(-1)!.text, "pci 0000:01:00.0: boom");
});

Deno.test("printk: console timestamps, printk_ratelimit and the per-object ratelimit (10 per 5 s)", () => {
  assert.equal(timestamp(1_234_567_891), "[    1.234567]");
  assert.equal(timestamp(0), "[    0.000000]");
  let now = 0;
  const d = new Dmesg(() => now);
  const allowed = Array.from({ length: 12 }, () => d.ratelimit());
  assert.deepEqual(allowed.map(Number), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  assert.equal(d.suppressed, 2);
  now = 4_999_999_999;
  assert.equal(d.ratelimit(), false);
  now = 5_000_000_000;
  assert.equal(d.ratelimit(), true);
  d.printk("err", "x");
  assert.equal(d.render(), "[    5.000000] x");
  const rs = new RateLimit();
  for (let i = 0; i < 10; i++) assert.equal(rs.allow(100), true);
  assert.equal(rs.allow(100), false);
  assert.equal(rs.missed, 1);
  assert.equal(rs.allow(5_000_000_100), true);
});

Deno.test("kernel: pages a kdump kernel frees go back to the crash kernel reserve; a plain kexec'd kernel's become free", () => {
  const km = makeMachine();
  const kdump = makeKernel(km, {
    id: "kernel2",
    cmdline: "irqpoll elfcorehdr=0x37ff0000",
    memory: [{ ...KIT.RESERVE }],
  });
  const p = kdump.alloc.allocPages(GFP.KERNEL, 0, "x")!;
  assert.ok(p >= KIT.RESERVE.base && p < KIT.RESERVE.base + KIT.RESERVE.size);
  kdump.alloc.freePages(p);
  assert.equal(ownerText(km.m.mem.ownerOf(p)), "crashkernel:free");
  // After a plain kexec the second kernel runs in the first one's memory, outside the reserve.
  const plain = makeKernel(km, { id: "kernel2", memory: [{ ...KIT.K1_LOW }] });
  const q = plain.alloc.allocPages(GFP.KERNEL, 0, "x")!;
  assert.equal(ownerText(km.m.mem.ownerOf(q)), "kernel2:x");
  plain.alloc.freePages(q);
  assert.equal(ownerText(km.m.mem.ownerOf(q)), "free:free");
});
