/**
 * Each patch's scenario, with and without the patch: every patch changes something
 * observable in its scenario; the refactor-only ones do it through the dependency (without
 * them the series would not build).
 */
import assert from "node:assert/strict";
import { differences, type Outcome, outcomeOf, patchTable } from "../../runtime/lab/table.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const rows = patchTable();
const row = (id: string) => rows.find((r) => r.id === id)!;

Deno.test("every patch of the series has a row, in series order, and changes something observable", () => {
  assert.deepEqual(rows.map((r) => r.id), seriesIds());
  for (const r of rows) {
    assert.ok(r.changes.length > 0, `${r.id} in ${r.scenario}: nothing changed`);
  }
});

Deno.test("refactor-only patches: without them the series does not build", () => {
  for (const id of ["helper-functions", "dte-bit-fields"]) {
    const r = row(id);
    assert.equal(r.without.verdict, "skipped");
    assert.ok(r.without.missing.some((m) => m.endsWith(`requires ${id}`)));
    assert.ok(r.rebuilt && r.rebuilt.dropped.length > 0);
  }
});

Deno.test("copy-old-trans-table: without it the kdump kernel re-initialises the IOMMU and the dump is corrupt", () => {
  const r = row("copy-old-trans-table");
  assert.equal(r.scenario, "default");
  assert.equal(r.with.verdict, "dump-ok");
  assert.ok(r.with.lines.includes("Copied DEV table from previous kernel."));
  assert.equal(r.without.verdict, "dump-corrupt");
  assert.ok(r.without.strayWriteCount > 0);
  assert.ok(!r.without.lines.some((l) => l.startsWith("Copied DEV table")));
});

Deno.test("sanity-check-old-dte refuses a 512-entry IntTabLen; without it the copy goes through", () => {
  const r = row("sanity-check-old-dte");
  assert.equal(r.scenario, "old-irq-tablen");
  // The first DeviceID with an old remapping entry: 00:14.0, the I/O APIC's.
  assert.ok(r.with.lines.includes("Wrong old irq remapping flag: 0xa0"));
  assert.ok(r.with.lines.includes("Failed to copy DEV table from previous kernel."));
  const w = r.rebuilt?.outcome ?? r.without;
  assert.ok(w.lines.includes("Copied DEV table from previous kernel."));
});

Deno.test("dev-table-below-4g: without it a torn Device Table Base write lets a frame out untranslated", () => {
  const r = row("dev-table-below-4g");
  assert.equal(r.scenario, "torn-devtab-write");
  assert.equal(r.with.verdict, "dump-ok");
  assert.equal(r.with.strayWriteCount, 0);
  assert.equal(r.without.verdict, "dump-corrupt");
  assert.ok(r.without.strayWriteCount > 0);
});

Deno.test("amd-use-attach-deferred: a device no driver ever maps keeps its old translation instead of faulting", () => {
  const r = row("amd-use-attach-deferred");
  assert.equal(r.scenario, "no-dma-api-driver");
  assert.equal(r.with.ioPageFaults, 0);
  // drop-gcr3-root uses its defer_attach: the series is rebuilt without both.
  assert.deepEqual(r.rebuilt?.dropped, ["drop-gcr3-root"]);
  assert.ok(r.rebuilt!.outcome.ioPageFaults > 0);
  assert.ok(r.rebuilt!.outcome.faultsPrinted > 0);
});

Deno.test("disable-only-if-off: without it translation stays off in the kdump kernel, commands stall and the timer check panics", () => {
  const r = row("disable-only-if-off");
  assert.equal(r.with.verdict, "dump-ok");
  assert.equal(r.without.verdict, "panic");
  assert.ok(r.without.strayWriteCount > 0);
  assert.ok(r.without.lines.includes("AMD-Vi: Completion-Wait loop timed out"));
  assert.ok(
    r.without.lines.includes(
      "Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC",
    ),
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

Deno.test("dev-table-below-4g refuses an old table above 4 GiB (old-table-above-4g); without it the copy goes through", () => {
  const sc = SCENARIOS["old-table-above-4g"];
  const full = seriesFromSpec("all");
  const a = outcomeOf(run(sc, { series: full }));
  const b = outcomeOf(run(sc, { series: full.clone().disable("dev-table-below-4g") }));
  assert.ok(a.lines.includes("The address of old device table is above 4G, not trustworthy!"));
  assert.ok(a.lines.includes("Failed to copy DEV table from previous kernel."));
  assert.ok(!b.lines.includes("The address of old device table is above 4G, not trustworthy!"));
  assert.ok(b.lines.includes("Copied DEV table from previous kernel."));
});
