/**
 * Each patch's scenario, with and without the patch, over seeds 1-20 (patchSweepTable): every
 * patch changes something observable in its scenario; the refactor-only ones do it through
 * the dependency (without them the series would not build). What holds on every seed is
 * asserted on every seed (counters' min/max, messages' counts); what holds on some is stated
 * as such.
 */
import assert from "node:assert/strict";
import {
  differences,
  type Outcome,
  outcomeOf,
  patchSweepTable,
  patchTable,
} from "../../runtime/lab/table.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const N = SEEDS.length;
const rows = await patchSweepTable(SEEDS);
const row = (id: string) => rows.find((r) => r.id === id)!;

Deno.test("every patch of the series has a row, in series order, and changes something observable over 20 seeds", () => {
  assert.deepEqual(rows.map((r) => r.id), seriesIds());
  for (const r of rows) {
    assert.ok(r.changes.length > 0, `${r.id} in ${r.scenario}: nothing changed`);
    assert.deepEqual(r.sweeps!.with.seeds, SEEDS);
  }
});

Deno.test("the table over seeds: its first seed's outcomes are patchTable's (seed 1), and 1 or 2 workers agree", async () => {
  const one = patchTable(1);
  for (const [i, r] of rows.entries()) {
    assert.deepEqual(r.with, one[i].with, r.id);
    assert.deepEqual(r.without, one[i].without, r.id);
  }
  const few = SEEDS.slice(0, 4);
  assert.deepEqual(
    await patchSweepTable(few, { workers: 1 }),
    await patchSweepTable(few, { workers: 2 }),
  );
});

Deno.test("refactor-only patches: without them the series does not build", () => {
  for (const id of ["helper-functions", "dte-bit-fields"]) {
    const r = row(id);
    assert.equal(r.without.verdict, "skipped");
    assert.deepEqual(r.sweeps!.without.verdicts, { skipped: N });
    assert.ok(r.without.missing.some((m) => m.endsWith(`requires ${id}`)));
    assert.ok(r.rebuilt && r.rebuilt.dropped.length > 0);
  }
});

Deno.test("copy-old-trans-table: without it the kdump kernel re-initialises the IOMMU: stray writes on every seed", () => {
  const r = row("copy-old-trans-table");
  const { with: w, without: wo } = r.sweeps!;
  assert.equal(r.scenario, "default");
  assert.equal(w.clean, N);
  assert.equal(w.lines["Copied DEV table from previous kernel."], N);
  assert.equal(wo.clean, 0);
  assert.ok(wo.counters.strayWriteCount.min > 0, "a stray write on every seed");
  assert.equal(wo.lines["Copied DEV table from previous kernel."], undefined);
  // The strays corrupt the dump on some seeds only (those whose strays hit dumped pages).
  assert.deepEqual(Object.keys(wo.verdicts).sort(), ["dump-corrupt", "dump-ok"]);
  assert.ok(wo.counters.badPages.max > 0);
});

Deno.test("sanity-check-old-dte refuses a 512-entry IntTabLen on every seed; without it the copy goes through", () => {
  const r = row("sanity-check-old-dte");
  assert.equal(r.scenario, "old-irq-tablen");
  // The first DeviceID with an old remapping entry: 00:14.0, the I/O APIC's.
  assert.equal(r.sweeps!.with.lines["Wrong old irq remapping flag: 0xa0"], N);
  assert.equal(r.sweeps!.with.lines["Failed to copy DEV table from previous kernel."], N);
  const w = r.sweeps!.rebuilt ?? r.sweeps!.without;
  assert.equal(w.lines["Copied DEV table from previous kernel."], N);
  assert.equal(w.clean, N);
});

Deno.test("dev-table-below-4g: over seeds 1-20 its row is old-table-above-4g, where its check refuses the copy on every seed (the torn write's rate: torn-devtab.test.ts)", () => {
  const r = row("dev-table-below-4g");
  assert.equal(r.scenario, "old-table-above-4g");
  const { with: w, without: wo } = r.sweeps!;
  assert.equal(w.lines["The address of old device table is above 4G, not trustworthy!"], N);
  assert.ok(w.counters.strayWriteCount.min > 0, "the fallback lets DMA stray on every seed");
  assert.equal(wo.lines["Copied DEV table from previous kernel."], N);
  assert.equal(wo.clean, N);
});

Deno.test("amd-use-attach-deferred: a device no driver ever maps keeps its old translation instead of faulting, on every seed", () => {
  const r = row("amd-use-attach-deferred");
  assert.equal(r.scenario, "no-dma-api-driver");
  assert.equal(r.sweeps!.with.counters.ioPageFaults.max, 0);
  // drop-gcr3-root uses its defer_attach: the series is rebuilt without both.
  assert.deepEqual(r.rebuilt?.dropped, ["drop-gcr3-root"]);
  assert.ok(r.sweeps!.rebuilt!.counters.ioPageFaults.min > 0);
  assert.ok(r.sweeps!.rebuilt!.counters.faultsPrinted.min > 0);
});

Deno.test("disable-only-if-off: without it translation stays off, commands stall and the timer check panics, on every seed", () => {
  const r = row("disable-only-if-off");
  const { with: w, without: wo } = r.sweeps!;
  assert.equal(w.clean, N);
  assert.deepEqual(wo.verdicts, { panic: N });
  assert.ok(wo.counters.strayWriteCount.min > 0);
  assert.equal(wo.lines["AMD-Vi: Completion-Wait loop timed out"], N);
  assert.equal(
    wo.lines["Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC"],
    N,
  );
});

Deno.test("differences() names what changed, and nothing when outcomes match", () => {
  const a: Outcome = {
    verdict: "dump-ok",
    ioPageFaults: 0,
    faultsPrinted: 0,
    faultsSuppressed: 0,
    strayWriteCount: 0,
    badPages: 0,
    lines: ["x"],
    missing: [],
  };
  assert.deepEqual(differences(a, a), []);
  assert.deepEqual(differences(a, { ...a, verdict: "hang", strayWriteCount: 3, lines: [] }), [
    "verdict dump-ok → hang",
    "stray DMA writes 0 → 3",
    'no "x"',
  ]);
});

Deno.test("dev-table-below-4g refuses an old table above 4 GiB (old-table-above-4g); without it the copy goes through (seeds 1-20)", () => {
  const sc = SCENARIOS["old-table-above-4g"];
  const full = seriesFromSpec("all");
  for (const seed of SEEDS) {
    const a = outcomeOf(run(sc, { series: full, seed }));
    const b = outcomeOf(run(sc, { series: full.clone().disable("dev-table-below-4g"), seed }));
    assert.ok(a.lines.includes("The address of old device table is above 4G, not trustworthy!"));
    assert.ok(a.lines.includes("Failed to copy DEV table from previous kernel."));
    assert.ok(!b.lines.includes("The address of old device table is above 4G, not trustworthy!"));
    assert.ok(b.lines.includes("Copied DEV table from previous kernel."), `seed ${seed}`);
  }
});
