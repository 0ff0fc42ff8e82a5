/**
 * guest-translation with the series, on seeds 1-20: what the README's "stale PPR log" finding
 * says, by mechanism. The copied DTE of the accelerator (03:00.0) keeps V, TV, PPR and its
 * DomainID but loses GV and the GCR3 root (drop-gcr3-root); its translations then fail, it
 * sends a page request, and the IOMMU — whose PPR log base still holds the first kernel's
 * value until the kdump kernel programs a new one — writes it into the crashed kernel's PPR
 * log page: the one page of the dump that differs from memory at the panic.
 */
import assert from "node:assert/strict";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const ACCEL = 0x300; // 03:00.0
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/** The PPR log base a kernel programmed (from the MMIO writes of the timeline). */
function pprBase(r: ReturnType<typeof simulateLab>["report"], kernel: "kernel1" | "kernel2") {
  const w = r.timeline.filter((t) =>
    t.kind === "mmio" && t.kernel === kernel && t.text.includes("pprlog-base")
  );
  const lo = w.find((t) => t.text.includes("[31:0]"))!,
    hi = w.find((t) => t.text.includes("[63:32]"))!;
  const value = (t: typeof lo) => parseInt(t.text.split("<= ")[1], 16);
  // Bits 51:12 are the address; the high dword's bits 27:24 are the log's length.
  return { t: lo.t, base: (value(hi) & 0xfffff) * 2 ** 32 + (value(lo) & ~0xfff >>> 0) };
}

Deno.test("guest-translation, seeds 1-20: GV and the GCR3 root are stripped in the copied DTE; a page request lands in the old PPR log page, the dump's one bad page", () => {
  for (const seed of SEEDS) {
    const sim = simulateLab(SCENARIOS["guest-translation"], {
      series: seriesFromSpec("all"),
      seed,
    });
    const r = sim.report;
    const at = (table: number) => {
      const w = new Uint32Array(8);
      sim.machine.mem.readDwords(table + ACCEL * 32, 8, w);
      return w;
    };
    const old = at(sim.kernel1!.amd.dev_table), copy = at(sim.kernel2!.amd.dev_table);
    assert.equal(DTE.get(old, "GV"), 1, `seed ${seed}: the first kernel's DTE has GV`);
    assert.ok(DTE.value(old, "GCR3TableRootPtr") > 0);
    for (const f of ["V", "TV", "PPR", "DomainID"] as const) {
      assert.equal(DTE.get(copy, f), DTE.get(old, f), `seed ${seed}: ${f} copied`);
    }
    assert.equal(DTE.get(copy, "GV"), 0, `seed ${seed}: GV stripped`);
    assert.equal(DTE.value(copy, "GCR3TableRootPtr"), 0, `seed ${seed}: GCR3 root stripped`);
    // The old PPR log page is the one bad page of the dump; it was written after the panic.
    const oldPpr = pprBase(r, "kernel1"), newPpr = pprBase(r, "kernel2");
    assert.notEqual(oldPpr.base, newPpr.base);
    assert.equal(r.verdict, "dump-corrupt", `seed ${seed}`);
    assert.equal(r.dump!.badPages, 1, `seed ${seed}`);
    const bad = r.dump!.examples[0];
    assert.equal(bad.pfn, `0x${(oldPpr.base / 4096).toString(16)}`, `seed ${seed}`);
    assert.equal(bad.owner, "kernel1:iommu-ppr-log");
    assert.match(bad.why, /written after it/);
    sim.machine.dispose();
  }
});
