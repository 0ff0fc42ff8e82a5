/**
 * avic-ga-log, seeds 1-20: the first kernel's GA log is still running in the kdump kernel
 * (the copy path keeps IommuEn, nothing clears GALogEn). 4.14 leaves it silently — the IOMMU
 * keeps the crashed kernel's GA log, its base register ignoring the kdump kernel's write;
 * with a8d4a37d1bb9's check the kernel warns; with c5e1a1eb9279's stop-and-poll the log moves
 * to the kdump kernel's buffer, without a warning.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const WARNING = "WARNING: CPU: 0 PID: 1 at drivers/iommu/amd/init.c iommu_ga_log_enable";

function gaLog(spec: string, seed: number) {
  const sim = simulateLab(SCENARIOS["avic-ga-log"], { series: seriesFromSpec(spec), seed });
  const hw = sim.machine.iommus[0];
  const reg = hw.regs.get64(MMIO.GA_LOG_BASE) % 2 ** 52;
  const out = {
    base: reg - (reg % 4096),
    old: sim.kernel1!.amd.iommus[0].ga_log,
    mine: sim.kernel2!.amd.iommus[0].ga_log,
    running: hw.control("GALogEn") === 1 && hw.control("IommuEn") === 1,
    warnings: sim.report.dmesg.filter((l) => l.kernel === "kernel2" && l.text === WARNING).length,
    verdict: sim.report.verdict,
  };
  sim.machine.dispose();
  return out;
}

Deno.test("avic-ga-log, seeds 1-20: the crashed kernel's GA log keeps running; the check warns; the fix moves it", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const series = gaLog("all", seed);
    assert.ok(series.old !== undefined && series.mine !== undefined && series.old !== series.mine);
    assert.equal(series.base, series.old, `seed ${seed}: 4.14 leaves the old GA log in use`);
    assert.ok(series.running);
    assert.equal(series.warnings, 0);
    const warned = gaLog("all,ga-log-warn-running", seed);
    assert.equal(warned.base, warned.old, `seed ${seed}`);
    assert.equal(warned.warnings, 1);
    const fixed = gaLog("all,ga-log-warn-running,ga-log-disable-running", seed);
    assert.equal(
      fixed.base,
      fixed.mine,
      `seed ${seed}: the log moved to the kdump kernel's buffer`,
    );
    assert.ok(fixed.running);
    assert.equal(fixed.warnings, 0);
    // No guest runs in the kdump kernel: nothing is logged either way, the dump is the same.
    assert.equal(series.verdict, fixed.verdict);
  }
});
