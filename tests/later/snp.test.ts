/**
 * snp-host, by mechanism. The hardware: with SEV-SNP enforced the IOMMU ignores writes to the
 * locked registers (until a cold reset). With the series (the copy path), seeds 1-20: the
 * kdump kernel's Device Table Base and command buffer writes are ignored, so the IOMMU keeps
 * the crashed kernel's table and buffer; the kdump kernel's completion waits never complete
 * ("Completion-Wait loop timed out", again and again) and its disk, attached in a table the
 * IOMMU does not read, never completes a command: the capture hangs. With the 2025 fixes
 * (all,later) the old table and buffers are reused in place: no timeout, the dump is written,
 * and its only differing pages are the IOMMU structures the kdump kernel took over.
 */
import assert from "node:assert/strict";
import { AmdIommu } from "../../runtime/hw/iommu/iommu.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { EventClock } from "../../runtime/hw/clock.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import { scenarioSchema } from "../../runtime/lab/scenario.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { derive } from "../../runtime/lab/scenarios/derive.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const sc = SCENARIOS["snp-host"];
const TIMEOUT = "AMD-Vi: Completion-Wait loop timed out";

const run = (spec: string, seed: number) => simulateLab(sc, { series: seriesFromSpec(spec), seed });

const kdumpLines = (r: ReturnType<typeof run>["report"], text: string) =>
  r.dmesg.filter((l) => l.kernel === "kernel2" && l.text === text).length;

Deno.test("SNP enforcement: locked registers ignore writes until a cold reset; an IOMMU without SNPSup cannot enforce", () => {
  const mem = { isRam: () => true } as never;
  const u = new AmdIommu({ efr: { SNPSup: 1 } } as never, mem, new EventClock(1));
  u.write32(MMIO.DEV_TABLE, 0x1000_0000 | 0xf);
  assert.ok(u.enforceSnp());
  for (const reg of [MMIO.DEV_TABLE, MMIO.CMD_BUF, MMIO.EVT_BUF, MMIO.EXCL_BASE]) {
    const before = u.read32(reg);
    u.write32(reg, 0x2000_0000);
    u.write32(reg + 4, 0x3);
    assert.equal(u.read32(reg), before, `0x${reg.toString(16)} ignored`);
    assert.equal(u.read32(reg + 4), 0);
  }
  u.write32(MMIO.CMD_TAIL, 0x40); // not locked
  assert.equal(u.read32(MMIO.CMD_TAIL), 0x40);
  u.powerOn();
  assert.equal(u.snpEnforced, false);
  const plain = new AmdIommu({ efr: {} } as never, mem, new EventClock(1));
  assert.equal(plain.enforceSnp(), false);
});

Deno.test("snp-host with the series, seeds 1-20: the IOMMU keeps the old table and command buffer; completion waits time out; the timer, remapped to the stopped CPU 0, never ticks", () => {
  const PANIC = "Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC";
  for (const seed of SEEDS) {
    const sim = run("all", seed);
    const r = sim.report, hw = sim.machine.iommus[0];
    const k1 = sim.kernel1!.amd, k2 = sim.kernel2!.amd;
    assert.ok(
      r.dmesg.some((l) =>
        l.kernel === "kernel1" && l.text === "AMD-Vi: IOMMU SNP support enabled."
      ),
    );
    assert.equal(hw.deviceTable()[0], k1.dev_table, `seed ${seed}: the old table stays`);
    assert.notEqual(k2.dev_table, k1.dev_table, "the kdump kernel wrote its copy's address");
    const cmdBase = hw.regs.get64(MMIO.CMD_BUF) % 2 ** 52;
    assert.equal(cmdBase - (cmdBase % 4096), k1.iommus[0].cmd_buf);
    assert.notEqual(k2.iommus[0].cmd_buf, k1.iommus[0].cmd_buf);
    assert.equal(kdumpLines(r, "Copied DEV table from previous kernel."), 1);
    // The kdump kernel's semaphore lies outside the completion store range: never written.
    assert.equal(hw.inCompletionStoreRange(k2.iommus[0].cmd_sem), false);
    assert.ok(kdumpLines(r, TIMEOUT) >= 3, `seed ${seed}`);
    // The timer goes through the crashed kernel's IRTE, to CPU 0: lost unless the kdump
    // kernel runs on CPU 0 (the panic happened there).
    const cpu = sim.kernel2!.cfg.cpu ?? 0;
    if (cpu !== 0) {
      assert.equal(r.verdict, "panic", `seed ${seed} (CPU ${cpu})`);
      assert.equal(kdumpLines(r, PANIC), 1);
    } else {
      assert.equal(r.verdict, "hang", `seed ${seed} (CPU 0)`);
      assert.equal(kdumpLines(r, TIMEOUT), 14);
    }
    sim.machine.dispose();
  }
});

Deno.test("snp-host with all,later, seeds 1-20: the old table and buffers reused; no timeout; the dump is written; only the taken-over pages differ", () => {
  for (const seed of SEEDS) {
    const sim = run("all,later", seed);
    const r = sim.report, hw = sim.machine.iommus[0];
    const k1 = sim.kernel1!.amd, k2 = sim.kernel2!.amd;
    assert.equal(k2.dev_table, k1.dev_table, `seed ${seed}: reused in place`);
    assert.equal(hw.deviceTable()[0], k1.dev_table);
    assert.equal(k2.iommus[0].cmd_buf, k1.iommus[0].cmd_buf, "the old command buffer remapped");
    assert.ok(hw.inCompletionStoreRange(k2.iommus[0].cmd_sem));
    assert.equal(kdumpLines(r, "Reused DEV table from previous kernel."), 1);
    assert.equal(kdumpLines(r, TIMEOUT), 0, `seed ${seed}`);
    assert.equal(r.dump?.result, "complete");
    assert.equal(r.strayWriteCount, 0);
    // The differing pages: the IOMMU structures of the crashed kernel the kdump kernel uses.
    assert.ok(r.dump!.badPages > 0);
    for (const e of r.dump!.examples) {
      assert.match(
        e.owner,
        /^kernel1:(amd_iommu_dev_table|iommu-cmd-buf|iommu-evt-log|struct amd_iommu)$/,
      );
      assert.equal(e.why, "changed in memory after the panic by the kdump kernel (no DMA)");
    }
    sim.machine.dispose();
  }
});

Deno.test("preserve-domain-ids, seeds 1-5: on the reuse path the old DomainIDs are reserved; without it the new domains take them back", () => {
  const nicDomain = (spec: string, seed: number) => {
    const sim = run(spec, seed);
    const w = new Uint32Array(8);
    sim.machine.mem.readDwords(sim.kernel2!.amd.dev_table + 0x100 * 32, 8, w);
    const reserved = [1, 2].map((id) => sim.kernel2!.amd.pd_alloc_bitmap[id]);
    sim.machine.dispose();
    return { id: w[2] & 0xffff, reserved };
  };
  for (let seed = 1; seed <= 5; seed++) {
    const withIt = nicDomain("all,later", seed);
    const without = nicDomain("all,snp-reuse-devtab,snp-remap-buffers", seed);
    assert.equal(withIt.id, 3, `seed ${seed}: the NIC's new domain avoids the old IDs 1 and 2`);
    assert.equal(without.id, 1, `seed ${seed}: the old ID 1 handed out again`);
  }
});

Deno.test("an SNP host needs IOMMUs that support SNP: refused with the field's path", () => {
  const bad = derive(SCENARIOS.default, {
    name: "bad-snp",
    description: "an SNP host without SNPSup",
    firstKernel: { snpHost: true },
  });
  const r = scenarioSchema.safeParse(bad);
  assert.ok(!r.success);
  const issue = r.error.issues.find((x) => x.path.join(".") === "firstKernel.snpHost");
  assert.match(issue?.message ?? "", /IOMMU 0 does not support SEV-SNP/);
});
