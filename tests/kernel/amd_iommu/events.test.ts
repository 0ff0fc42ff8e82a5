/**
 * Event-log handling (runtime/kernel/amd_iommu/events.ts): the IOMMU's MSI wakes the
 * threaded handler, which prints each event in the 4.13 formats, zeroes the entry and moves
 * EVT_HEAD on. Faults come from real DMA through the IOMMU.
 */
import assert from "node:assert/strict";
import { DTE_BYTES } from "../../../runtime/hw/layouts/dte.ts";
import { MMIO } from "../../../runtime/hw/layouts/mmio.ts";
import { start_kernel } from "../../../runtime/kernel/boot.ts";
import { LOOP_TIMEOUT } from "../../../runtime/kernel/amd_iommu/types.ts";
import { eventLog, KIT, linesSince, makeKit } from "../kit.ts";

const reg = (kit: ReturnType<typeof makeKit>, off: number) =>
  kit.m.mem.read32(KIT.IOMMU_MMIO + off);

function initialized(opts: Parameters<typeof makeKit>[0] = {}) {
  const kit = makeKit({ nic: true, ...opts });
  kit.k.amd.go_to_state("IOMMU_INITIALIZED");
  return kit;
}

Deno.test('events: an IO_PAGE_FAULT of a device with dev_data is printed with dev_err ("pci" while no driver is bound)', () => {
  const kit = initialized();
  const { k, m, iommu } = kit;
  assert.equal(iommu.control("EventIntEn"), 1);
  const logged = eventLog(iommu);
  const from = k.dmesg.lines.length;
  // The NIC writes to an IOVA its (empty) domain does not map.
  const r = m.dmaWrite(KIT.NIC, 0xffff_f000, [1]);
  assert.deepEqual(r.ok, false);
  assert.deepEqual(logged, [{ name: "IO_PAGE_FAULT", result: "written" }]);
  assert.equal(k.dmesg.lines.length, from, "printed by the threaded handler, not at once");
  k.spend(10_000);
  assert.deepEqual(linesSince(k, from), [[
    "err",
    "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x00000000fffff000 flags=0x0020]",
  ]]);
  assert.equal(k.amd.events.faultsPrinted, 1);
  assert.deepEqual(k.amd.events.seen[0], {
    name: "IO_PAGE_FAULT",
    devid: KIT.NIC,
    domid: 1,
    address: 0xffff_f000,
    flags: 0x20,
    printed: true,
  });
});

Deno.test("events: with the driver bound the prefix is the driver's name", () => {
  const kit = makeKit({ nic: true, drivers: ["bnx2"] });
  const { k, m } = kit;
  start_kernel(k);
  const from = k.dmesg.lines.length;
  m.dmaWrite(KIT.NIC, 0x1234_5000, [1]);
  const buf = new Uint32Array(1);
  m.dmaRead(KIT.NIC, 0x1234_6008, buf);
  k.spend(10_000);
  assert.deepEqual(linesSince(k, from).map((l) => l[1]), [
    "bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x0000000012345000 flags=0x0020]",
    "bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x0000000012346008 flags=0x0000]",
  ]);
});

Deno.test("events: without dev_data the fault falls back to pr_err with device=BB:DD.F", () => {
  const kit = initialized();
  const { k, m } = kit;
  const from = k.dmesg.lines.length;
  // 01:01.0 has no PCI device: its DTE is V|TV with IR=IW=0 → permission fault (PR|RW|PE).
  m.dmaWrite(KIT.NODEV, 0x1234_5000, [1]);
  k.spend(10_000);
  assert.deepEqual(linesSince(k, from), [[
    "err",
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:01.0 domain=0x0000 address=0x0000000012345000 flags=0x0070]",
  ]]);
});

Deno.test("events: per-device ratelimit (10 per 5 s), then printk_ratelimit (10 per 5 s), then silence", () => {
  const kit = initialized();
  const { k, m } = kit;
  const from = k.dmesg.lines.length;
  for (let i = 0; i < 25; i++) m.dmaWrite(KIT.NIC, 0x1000_0000 + i * 0x1000, [i]);
  k.spend(10_000);
  const lines = linesSince(k, from).map((l) => l[1]);
  assert.equal(lines.length, 20);
  assert.ok(
    lines.slice(0, 10).every((t, i) =>
      t ===
        `pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x00000000${
          (0x1000_0000 + i * 0x1000).toString(16)
        } flags=0x0020]`
    ),
  );
  assert.equal(
    lines[10],
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 domain=0x0001 address=0x000000001000a000 flags=0x0020]",
  );
  assert.ok(
    lines.slice(10).every((t) =>
      t.startsWith("AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0")
    ),
  );
  assert.equal(k.dmesg.suppressed, 5);
  assert.equal(k.amd.dev_data.get(KIT.NIC)!.rs.missed, 15);
  assert.equal(k.amd.events.faultsPrinted, 20);
  assert.deepEqual(k.amd.events.seen.map((e) => e.printed).slice(19), [
    true,
    false,
    false,
    false,
    false,
    false,
  ]);
  // 5 s later the device may print again.
  k.spend(5_000_000_000);
  const again = k.dmesg.lines.length;
  m.dmaWrite(KIT.NIC, 0x2000_0000, [1]);
  k.spend(10_000);
  assert.deepEqual(linesSince(k, again).map((l) => l[1]), [
    "pci 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x0000000020000000 flags=0x0020]",
  ]);
});

Deno.test("events: ILLEGAL_DEV_TABLE_ENTRY prints two records and the CURRENT in-memory DTE; the entry is zeroed and EVT_HEAD advanced", () => {
  const kit = initialized();
  const { k, m } = kit;
  const d = k.amd;
  const at = d.dev_table + KIT.NODEV * DTE_BYTES;
  const head0 = reg(kit, MMIO.EVT_HEAD);
  // A reserved bit in q0 (bit 2) of a valid entry.
  m.mem.write32(at, m.mem.read32(at) | 4);
  assert.equal(m.dmaWrite(KIT.NODEV, 0x5000, [1]).ok, false);
  const entry = d.iommus[0].evt_buf + head0;
  assert.equal(m.mem.read32(entry + 4) >>> 28, 1, "ILLEGAL_DEV_TABLE_ENTRY in the log");
  // The entry changes again before the handler runs: the dump shows the entry as it is then.
  m.mem.write32(at + 8, 0x0bad);
  const from = k.dmesg.lines.length;
  k.spend(10_000);
  assert.deepEqual(linesSince(k, from), [
    ["err", "AMD-Vi: Event logged ["],
    ["warn", "ILLEGAL_DEV_TABLE_ENTRY device=01:01.0 address=0x0000000000005000 flags=0x00a0]"],
    ["err", "AMD-Vi: DTE[0]: 0000000000000007"],
    ["err", "AMD-Vi: DTE[1]: 0000000000000bad"],
    ["err", "AMD-Vi: DTE[2]: 0000000000000001"],
    ["err", "AMD-Vi: DTE[3]: 0000000000000000"],
  ]);
  const w = new Uint32Array(4);
  m.mem.readDwords(entry, 4, w);
  assert.deepEqual([...w], [0, 0, 0, 0]);
  assert.equal(reg(kit, MMIO.EVT_HEAD), (head0 + 16) % 8192);
  assert.equal(reg(kit, MMIO.EVT_HEAD), reg(kit, MMIO.EVT_TAIL));
  assert.equal(reg(kit, MMIO.STATUS) & 2, 0, "EventLogInt acknowledged");
});

Deno.test("events: PAGE_TAB_HARDWARE_ERROR (a PDE pointing at the PCI hole) prints as two records", () => {
  const kit = initialized();
  const { k, m } = kit;
  const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
  // Root entry 0: next level 2 at 0xd0000000 (no RAM there).
  m.mem.write32(dom.pt_root, 0xd000_0000 | (2 << 9) | 1);
  m.mem.write32(dom.pt_root + 4, 3 << 29);
  const from = k.dmesg.lines.length;
  m.dmaWrite(KIT.NIC, 0x3000, [1]);
  k.spend(10_000);
  const lines = linesSince(k, from);
  assert.deepEqual(lines[0], ["err", "AMD-Vi: Event logged ["]);
  assert.equal(lines.length, 2);
  assert.equal(lines[1][0], "warn");
  // flags = event bits 59:48: RW (0x020) and Type 1, master abort (bits 58:57 → 0x200).
  assert.equal(
    lines[1][1],
    "PAGE_TAB_HARDWARE_ERROR device=01:00.0 domain=0x0001 address=0x00000000d0000000 flags=0x0220]",
  );
});

Deno.test('events: an entry whose type is still 0 is re-read every 1 µs; a late write is printed, none after LOOP_TIMEOUT tries gives "No event written"', () => {
  const kit = initialized();
  const { k, m } = kit;
  const dev = k.amd.iommus[0];
  const ctl = KIT.IOMMU_MMIO + MMIO.CONTROL;
  const setLog = (on: boolean) => {
    const v = m.mem.read32(ctl);
    m.mem.write32(ctl, on ? v | 4 : (v & ~4) >>> 0);
  };
  // Pretend the IOMMU moved the tail before the entry's type landed (the erratum): with the
  // log stopped, software may move EVT_TAIL.
  const head = reg(kit, MMIO.EVT_HEAD);
  setLog(false);
  m.mem.write32(KIT.IOMMU_MMIO + MMIO.EVT_TAIL, (head + 16) % 8192);
  const entry = dev.evt_buf + head;
  m.clock.after(50_000, () => {
    m.mem.writeDwords(entry, [KIT.NODEV, (2 << 28) | (0x20 << 16), 0x7000, 0]);
  }, "test: late event write");
  const from = k.dmesg.lines.length, t0 = m.clock.now;
  k.amd.events.iommu_poll_events(dev);
  assert.deepEqual(linesSince(k, from).map((l) => l[1]), [
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:01.0 domain=0x0000 address=0x0000000000007000 flags=0x0020]",
  ]);
  assert.ok(m.clock.now - t0 >= 50_000 && m.clock.now - t0 < 60_000);
  // Nothing ever written: LOOP_TIMEOUT retries of 1 µs, then the message.
  const head2 = reg(kit, MMIO.EVT_HEAD);
  m.mem.write32(KIT.IOMMU_MMIO + MMIO.EVT_TAIL, (head2 + 16) % 8192);
  const from2 = k.dmesg.lines.length, t1 = m.clock.now;
  k.amd.events.iommu_poll_events(dev);
  assert.deepEqual(linesSince(k, from2), [["err", "AMD-Vi: No event written to event log"]]);
  assert.ok(m.clock.now - t1 >= LOOP_TIMEOUT * 1000);
  assert.equal(reg(kit, MMIO.EVT_HEAD), (head2 + 16) % 8192);
  setLog(true);
});

Deno.test("events: before INTERRUPTS_EN events wait in the log; the first interrupt after it prints them all", () => {
  const kit = makeKit({ nic: true });
  const { k, m } = kit;
  k.amd.go_to_state("IOMMU_PCI_INIT");
  m.dmaWrite(KIT.NIC, 0x4000, [1]);
  m.dmaWrite(KIT.NIC, 0x5000, [1]);
  k.spend(1_000_000);
  assert.equal(k.dmesg.lines.filter((l) => l.text.includes("IO_PAGE_FAULT")).length, 0);
  assert.equal((reg(kit, MMIO.EVT_TAIL) - reg(kit, MMIO.EVT_HEAD) + 8192) % 8192, 32);
  k.amd.go_to_state("IOMMU_INITIALIZED");
  m.dmaWrite(KIT.NIC, 0x6000, [1]);
  k.spend(10_000);
  const faults = k.dmesg.lines.filter((l) => l.text.includes("IO_PAGE_FAULT")).map((l) =>
    /address=0x0*([0-9a-f]+)/.exec(l.text)![1]
  );
  assert.deepEqual(faults, ["4000", "5000", "6000"]);
});
