/**
 * The 2025 series' buffer patches, by mechanism, seeds 1-20. snp-remap-buffers: a kdump kernel
 * takes the command buffer and event log the crashed kernel programmed (read back from the
 * registers), and with SNP the completion-wait semaphore from the exclusion base register.
 * snp-skip-enable-buffers: a kdump kernel no longer writes those base registers. Together the
 * IOMMU and the kdump kernel use one buffer; the skip alone leaves the IOMMU reading the crashed
 * kernel's buffer while the kernel queues into its own — completion waits time out.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const TIMEOUT = "AMD-Vi: Completion-Wait loop timed out";
const base = (v: number) => (v % 2 ** 52) - (v % 4096);

function sim(scenario: string, spec: string, seed: number, disable: string[] = []) {
  const series = seriesFromSpec(spec);
  for (const id of disable) series.disable(id);
  const s = simulateLab(SCENARIOS[scenario], { series, seed });
  const r = s.report;
  const said = (t: string) => r.dmesg.filter((l) => l.kernel === "kernel2" && l.text === t).length;
  /** The kdump kernel's writes to the command buffer and event log base registers. */
  const baseWrites =
    r.timeline.filter((e) =>
      e.kind === "mmio" && e.t > r.timing.panic && /cmdbuf-base|evtlog-base/.test(e.text)
    ).length;
  return { s, r, said, baseWrites, hw: s.machine.iommus[0] };
}

Deno.test("snp-remap-buffers: the kdump kernel's command buffer and event log are the crashed kernel's, read back from the registers; the semaphore too with SNP", () => {
  for (const seed of SEEDS) {
    for (const scenario of ["default", "snp-host"]) {
      const { s, said, hw } = sim(scenario, "all,later", seed);
      const u1 = s.kernel1!.amd.iommus[0], u2 = s.kernel2!.amd.iommus[0];
      assert.equal(u2.cmd_buf, u1.cmd_buf, `${scenario} seed ${seed}`);
      assert.equal(u2.evt_buf, u1.evt_buf);
      assert.equal(base(hw.regs.get64(MMIO.CMD_BUF)), u1.cmd_buf);
      assert.equal(said("AMD-Vi: Re-using command buffer from the previous kernel"), 1);
      assert.equal(said("AMD-Vi: Re-using event buffer from the previous kernel"), 1);
      assert.equal(said(TIMEOUT), 0);
      const snp = scenario === "snp-host";
      // With SNP the semaphore is the first kernel's completion store page (its range base).
      const page = u1.cmd_sem - (u1.cmd_sem % 4096);
      assert.equal(u2.cmd_sem === page, snp, "the semaphore is reused only with SNP");
      assert.equal(said("AMD-Vi: Re-using CWB buffers from the previous kernel"), snp ? 1 : 0);
      if (snp) assert.equal(base(hw.regs.get64(MMIO.EXCL_BASE)), u2.cmd_sem);
      s.machine.dispose();
    }
  }
});

Deno.test("snp-skip-enable-buffers: the kdump kernel writes no buffer base register; with the buffers remapped the outcome is the same", () => {
  for (const seed of SEEDS) {
    const skip = sim("snp-host", "all,later", seed);
    const write = sim("snp-host", "all,later", seed, ["snp-skip-enable-buffers"]);
    assert.equal(skip.baseWrites, 0, `seed ${seed}`);
    assert.equal(write.baseWrites, 4, "two 64-bit bases, each as two dwords (ignored: SNP)");
    assert.equal(
      base(write.hw.regs.get64(MMIO.CMD_BUF)),
      write.s.kernel1!.amd.iommus[0].cmd_buf,
    );
    assert.equal(skip.r.verdict, write.r.verdict);
    assert.equal(skip.r.dump?.badPages, write.r.dump?.badPages);
    skip.s.machine.dispose();
    write.s.machine.dispose();
  }
});

Deno.test("snp-skip-enable-buffers alone (no remap): the IOMMU reads the crashed kernel's command buffer, the kdump kernel writes its own — completion waits time out", () => {
  for (const seed of SEEDS) {
    const { s, said, baseWrites, hw } = sim("default", "all,snp-skip-enable-buffers", seed);
    const u1 = s.kernel1!.amd.iommus[0], u2 = s.kernel2!.amd.iommus[0];
    assert.equal(baseWrites, 0);
    assert.notEqual(u2.cmd_buf, u1.cmd_buf);
    assert.equal(base(hw.regs.get64(MMIO.CMD_BUF)), u1.cmd_buf, `seed ${seed}`);
    assert.equal(said(TIMEOUT), 13, `seed ${seed}`);
    s.machine.dispose();
  }
});
