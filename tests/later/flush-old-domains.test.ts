/**
 * flush-old-domains (36b7200f67df) on default, seeds 1-20: set_dte_entry flushes the old
 * domain of every copied entry it overwrites — one more INVALIDATE_IOMMU_PAGES and
 * COMPLETION_WAIT per rewritten DTE (both NIC functions and the disk), the first of them
 * dropping the crashed kernel's cached translations of the NIC when the NIC still has some
 * cached (on most seeds) — and nothing else changes:
 * 4.14's copy reserves the old DomainIDs, so no new domain can hit an old domain's entries.
 */
import assert from "node:assert/strict";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import type { Series } from "../../runtime/plugin/mod.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run, simulateLab } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

/** The kdump kernel's page flushes, in order, with the IOTLB entries each dropped. */
const flushes = (r: Report) =>
  r.timeline.filter((e) => e.kernel === "kernel2" && e.kind === "command")
    .map((e) => /INVALIDATE_IOMMU_PAGES: ok \((\d+) entries\)/.exec(e.text))
    .filter((m) => m !== null).map((m) => Number(m[1]));

Deno.test("flush-old-domains, default, seeds 1-20: a flush per overwritten old domain, the NIC's drops the old entries; the outcome is the same", () => {
  const dropped: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const withIt = run(SCENARIOS.default, {
      series: seriesFromSpec("all,flush-old-domains"),
      seed,
    });
    const without = run(SCENARIOS.default, { series: seriesFromSpec("all"), seed });
    assert.equal(withIt.series.at(-1), "flush-old-domains");
    const a = flushes(withIt), b = flushes(without);
    assert.equal(a.length - b.length, 3, `seed ${seed}: three DTEs rewritten over old IDs`);
    assert.equal(withIt.stats.commands - without.stats.commands, 6, `seed ${seed}`);
    // Without it, only the last flush (the dump's) finds anything cached; with it, the first
    // — the NIC's old domain, at its deferred attach — drops the crashed kernel's entries.
    assert.deepEqual(b.slice(0, -1).filter((n) => n > 0), [], `seed ${seed}`);
    if (a[0] > 0) dropped.push(seed);
    for (const k of ["verdict", "strayWriteCount", "faultsPrinted", "faultsSuppressed"] as const) {
      assert.equal(withIt[k], without[k], `seed ${seed}: ${k}`);
    }
    assert.equal(withIt.events.IO_PAGE_FAULT, without.events.IO_PAGE_FAULT);
  }
  // Whether the NIC still has translations cached when it is attached depends on the seed.
  assert.deepEqual(dropped, DROPPED);
});

/** The seeds of 1-20 on which the NIC's old-domain flush drops cached entries. */
const DROPPED = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];

Deno.test("DomainIDs, seeds 1-5: 4.14 gives the NIC and the disk new IDs; without its reservation they take the old IDs back", () => {
  const domainIds = (series: Series, seed: number) => {
    const sim = simulateLab(SCENARIOS.default, { series, seed });
    const id = (table: number, devid: number) => {
      const w = new Uint32Array(8);
      sim.machine.mem.readDwords(table + devid * 32, 8, w);
      return DTE.get(w, "DomainID");
    };
    const out = [0x100, 0x101, 0x200].map((
      d,
    ) => [id(sim.kernel1!.amd.dev_table, d), id(sim.kernel2!.amd.dev_table, d)]);
    sim.machine.dispose();
    return out;
  };
  // The reservation is in sanity-check-old-dte (drop-gcr3-root needs it, so it goes too).
  const noReserve = () =>
    seriesFromSpec("all").disable("sanity-check-old-dte").disable("drop-gcr3-root");
  for (let seed = 1; seed <= 5; seed++) {
    for (const [old, now] of domainIds(seriesFromSpec("all"), seed)) {
      assert.ok(old > 0 && now > 0 && now !== old, `seed ${seed}: ${old} → ${now}`);
    }
    for (const [old, now] of domainIds(noReserve(), seed)) {
      assert.equal(now, old, `seed ${seed}: the old ID handed out again`);
    }
  }
});
