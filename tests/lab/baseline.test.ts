/**
 * The pre-series (4.13) kernel on the default scenario reproduces the three symptoms of
 * the cover letter, each shown by its mechanism; a plain kexec and a machine without DMA in
 * flight come out clean.
 */
import assert from "node:assert/strict";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { PAGE_SIZE } from "../../runtime/hw/memory.ts";
import type { Bnx2Driver } from "../../runtime/kernel/drivers/bnx2.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import type { ScenarioInput } from "../../runtime/lab/scenario.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";

const sim = simulateLab(DEFAULT_SCENARIO);
const r = sim.report;
const NIC0 = 0x100, NIC1 = 0x101;

function bnx2(k: typeof sim.kernel1): Bnx2Driver {
  return k!.drivers.find((d) => d.name === "bnx2") as Bnx2Driver;
}

/** Every IOVA the first kernel's NIC driver had handed to the chip. */
function oldIovas(devid: number): { lo: number; hi: number }[] {
  const bp = bnx2(sim.kernel1).devs.get(devid)!;
  const out = [{ lo: bp.blk!.dma, hi: bp.blk!.dma + PAGE_SIZE }, {
    lo: bp.ring!.dma,
    hi: bp.ring!.dma + bp.p.rxRingSize * 16,
  }];
  for (const s of bp.slots) out.push({ lo: s.dma, hi: s.dma + bp.p.rxBufBytes });
  return out;
}

Deno.test("(a) after the kdump kernel re-enables translation the NIC's old IOVAs fault, and SA keeps them out of the log", () => {
  const initialized = r.timing["kernel2.iommuInitialized"];
  const faults = r.timeline.filter((t) =>
    t.kind === "dma-fault" && t.t > initialized &&
    (t.device === "01:00.0" || t.device === "01:00.1")
  );
  assert.ok(faults.length > 0, "the NIC keeps DMAing after the IOMMU is up again");
  for (const f of faults) {
    assert.match(f.text, /IO_PAGE_FAULT suppressed by SA$/);
    const iova = parseInt(/ (0x[0-9a-f]+) aborted/.exec(f.text)![1], 16);
    const devid = f.device === "01:00.0" ? NIC0 : NIC1;
    assert.ok(
      oldIovas(devid).some((x) => iova >= x.lo && iova < x.hi),
      `0x${iova.toString(16)} was a first-kernel IOVA`,
    );
  }
  assert.equal(r.faultsSuppressed, faults.length);
  // Mechanism: the NIC's DTE in the kdump kernel's table points at a new domain with an empty
  // page table, and init_device_table_dma set SA on it (the 4.13 kdump-only suppression).
  const k2 = sim.kernel2!;
  const dte = sim.machine.iommus[0].peekDte(NIC0);
  assert.equal(DTE.get(dte, "V"), 1);
  assert.equal(DTE.get(dte, "TV"), 1);
  assert.equal(DTE.get(dte, "SA"), 1);
  const dom = k2.amd.dev_data.get(NIC0)!.domain!;
  assert.equal(DTE.get(dte, "DomainID"), dom.id);
  assert.equal(DTE.get(dte, "PageTableRootPtr") * PAGE_SIZE, dom.pt_root);
  assert.equal(
    sim.machine.iommus[0].deviceTable()[0],
    k2.amd.dev_table,
    "the IOMMU reads the kdump kernel's table",
  );
  // Nothing logged, so nothing printed.
  assert.equal(r.events.IO_PAGE_FAULT, 0);
  assert.equal(r.faultsPrinted, 0);
  assert.ok(!r.dmesg.some((l) => l.kernel === "kernel2" && l.text.includes("IO_PAGE_FAULT")));
});

Deno.test("(b) while translation is off the NIC's IOVAs are used as physical addresses and land in the first kernel's memory", () => {
  assert.ok(r.strayWriteCount > 0);
  // When IommuEn was cleared (disable_iommus) and set again (early_enable_iommus).
  const ctl = r.timeline.filter((t) =>
    t.kind === "mmio" && t.kernel === "kernel2" && t.text.includes("control[31:0]")
  );
  const value = (t: { text: string }) => parseInt(t.text.split("<= ")[1], 16);
  const off = ctl.find((t) => (value(t) & 1) === 0)!;
  const on = ctl.find((t) => t.t > off.t && (value(t) & 1) === 1)!;
  assert.ok(off && on, "the kdump kernel turned translation off and on again");
  const offWindow = r.strayWrites.filter((s) => s.how === "iommu-off");
  assert.ok(offWindow.length > 0);
  const bp = bnx2(sim.kernel1).devs.get(NIC1)!;
  for (const s of offWindow) {
    assert.equal(s.device, "01:00.1");
    assert.equal(s.address, s.iova, "untranslated: the IOVA is the physical address");
    assert.ok(s.time > off.t && s.time < on.t, "inside the window with IommuEn = 0");
    const iova = parseInt(s.iova, 16);
    assert.ok(
      bp.slots.some((x) => iova >= x.dma && iova < x.dma + bp.p.rxBufBytes),
      "an RX buffer IOVA of the first kernel",
    );
    assert.match(
      s.owner,
      /^(kernel1:(slab|pagecache|user)|free|firmware.*)$/,
      "not the NIC's own buffer",
    );
    // what it hit: the frame's bytes are in that memory now
    assert.equal(sim.machine.mem.read32(iova) >>> 28, 0xe, "the NIC's frame pattern");
  }
  // After early_enable_iommus the fresh table has V=0: DMA still goes through untranslated.
  const enabledAt = r.timing["kernel2.iommuEnabled"], initAt = r.timing["kernel2.iommuInitialized"];
  for (const s of r.strayWrites.filter((x) => x.how === "dte-invalid")) {
    assert.ok(s.time > enabledAt && s.time < initAt);
  }
});

Deno.test("(c) the dump is corrupt, and the report traces it to the stray writes", () => {
  assert.equal(r.verdict, "dump-corrupt");
  assert.ok(r.dump && r.dump.badPages > 0);
  const strayPages = new Set(
    r.strayWrites.map((s) => Math.floor(parseInt(s.address, 16) / PAGE_SIZE)),
  );
  for (const e of r.dump!.examples) {
    assert.ok(strayPages.has(parseInt(e.pfn, 16)), `bad page ${e.pfn} was hit by a stray write`);
    assert.equal(e.owner, "kernel1:slab", "slab pages are in a level-31 dump");
  }
  assert.match(r.cause, /page\(s\) of the dump differ from memory at the panic/);
  assert.match(r.cause, /stray DMA write\(s\), first from 01:00\.1/);
});

Deno.test("a plain kexec of the same machine boots clean: drivers shut the NIC down, the IOMMU is off", () => {
  const s = structuredClone(DEFAULT_SCENARIO) as ScenarioInput;
  s.name = "default-kexec";
  s.second!.mode = "kexec";
  s.second!.cmdline = "BOOT_IMAGE=/vmlinuz-4.13.0 root=/dev/nvme0n1p2 ro";
  const k = simulateLab(s);
  assert.equal(k.report.verdict, "boot-ok");
  assert.equal(k.report.strayWriteCount, 0);
  assert.equal(k.report.faultsSuppressed, 0);
  assert.equal(Object.values(k.report.events).reduce((a, b) => a + b, 0), 0);
  // Mechanism: bnx2's ->shutdown reset the chips before the jump (the first reset was at
  // bnx2_open), so they stopped DMAing.
  for (const nic of k.built.nics) assert.equal(nic.counters.resets, 2);
  const afterKexec = k.report.timeline.filter((t) =>
    t.kind === "dma-fault" && t.kernel !== "kernel1"
  );
  assert.equal(afterKexec.length, 0);
});

Deno.test("with no DMA in flight at the panic the same machine dumps cleanly", () => {
  const s = structuredClone(DEFAULT_SCENARIO) as ScenarioInput;
  s.name = "default-idle";
  for (const d of s.machine.devices) if (d.kind === "nic") d.up = false;
  const k = simulateLab(s);
  assert.equal(k.report.verdict, "dump-ok");
  assert.equal(k.report.strayWriteCount, 0);
  assert.equal(k.report.dump!.badPages, 0);
  assert.ok(k.report.dump!.pages > 0, "the dump has pages");
  for (const nic of k.built.nics) {
    assert.equal(nic.stats.frames, 0, "no frames ever reached memory");
  }
});

Deno.test("the same scenario and seed give byte-identical reports; another seed differs", () => {
  const a = JSON.stringify(simulateLab(DEFAULT_SCENARIO).report);
  assert.equal(a, JSON.stringify(r));
  const b = simulateLab(DEFAULT_SCENARIO, { seed: 2 }).report;
  assert.equal(b.seed, 2);
  assert.notEqual(JSON.stringify(b), a);
});
