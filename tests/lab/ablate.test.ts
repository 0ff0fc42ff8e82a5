/**
 * runtime/lab/ablate.ts: leave-one-out on the default scenario with bnx2-reset. The first
 * row is the whole series (id `none`), then one row per patch in series order; a row equals
 * a direct, unforced run of the series without that patch; a series that would not build
 * says who needs the patch; changes are measured against the whole series.
 */
import assert from "node:assert/strict";
import { ablate, NOTHING_LEFT_OUT } from "../../runtime/lab/ablate.ts";
import { InputError } from "../../runtime/lab/input.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import type { RunFn } from "../../runtime/lab/probe.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { differences, outcomeOf } from "../../runtime/lab/table.ts";
import type { Series } from "../../runtime/plugin/mod.ts";

const sc = SCENARIOS.default;

Deno.test("ablate: the whole series first, then each patch left out, each a direct unforced run", () => {
  const calls: { ids: string[]; force?: boolean }[] = [];
  const spy: RunFn = (s, o) => {
    calls.push({ ids: (o.series as Series).enabledIds(), force: o.force });
    return run(s, o);
  };
  const progress: string[] = [];
  const rows = ablate({
    scenario: sc,
    with: ["bnx2-reset"],
    run: spy,
    onRow: (r, i, total) => progress.push(`${i + 1}/${total} ${r.id}`),
  });
  assert.deepEqual(rows.map((r) => r.id), [NOTHING_LEFT_OUT, ...seriesIds()]);
  assert.equal(progress.length, 13);
  assert.equal(progress[12], `13/13 disable-only-if-off`);
  assert.ok(calls.every((c) => c.force === undefined), "never forced");
  assert.deepEqual(calls[0].ids, [...seriesIds(), "bnx2-reset"]);

  const full = run(sc, { series: seriesFromSpec("all,bnx2-reset") });
  assert.equal(rows[0].verdict, full.verdict);
  assert.equal(rows[0].verdict, "dump-ok");
  assert.deepEqual(rows[0].changes, []);
  for (const [i, id] of seriesIds().entries()) {
    const row = rows[i + 1];
    assert.deepEqual(calls[i + 1].ids, [...seriesIds().filter((x) => x !== id), "bnx2-reset"]);
    const direct = run(sc, { series: seriesFromSpec("all,bnx2-reset").disable(id) });
    const o = outcomeOf(direct);
    assert.equal(row.verdict, direct.verdict, id);
    assert.equal(row.ioPageFaults, o.ioPageFaults, id);
    assert.equal(row.printed, o.printed, id);
    assert.equal(row.suppressed, o.suppressed, id);
    assert.equal(row.strays, o.strays, id);
    assert.equal(row.badPages, o.badPages, id);
    if (direct.verdict === "skipped") {
      const needers = [...new Set(direct.missing.map((m) => m.plugin))];
      assert.deepEqual(row.neededBy, needers, id);
      assert.deepEqual(row.changes, [`would not build: needed by ${needers.join(", ")}`]);
    } else {
      assert.deepEqual(row.neededBy, []);
      assert.deepEqual(row.changes, differences(outcomeOf(full), o), id);
    }
  }
});

Deno.test("ablate on default + bnx2-reset: what the model says each patch does", () => {
  const rows = ablate({ scenario: sc, with: ["bnx2-reset"] });
  const by = new Map(rows.map((r) => [r.id, r]));
  // Refactors and helpers others build on cannot be left out alone.
  assert.equal(by.get("detect-pre-enabled")!.verdict, "skipped");
  assert.deepEqual(by.get("helper-functions")!.neededBy, ["copy-old-trans-table"]);
  // Without the copied translation tables the NIC's in-flight DMA corrupts the dump.
  const copy = by.get("copy-old-trans-table")!;
  assert.equal(copy.verdict, "dump-corrupt");
  assert.ok(copy.strays > 0 && copy.badPages > 0);
  assert.ok(copy.changes.includes("verdict dump-ok → dump-corrupt"));
  // Without disable-only-if-off the kdump kernel turns translation off: strays, and a hang.
  const off = by.get("disable-only-if-off")!;
  assert.equal(off.verdict, "hang");
  assert.ok(off.changes.includes("verdict dump-ok → hang"));
});

Deno.test("ablate: --with plugins are not left out; unknown ones are refused", () => {
  const fakeRuns: string[][] = [];
  const rows = ablate({
    scenario: sc,
    with: ["bnx2-reset", "disable-only-if-off"],
    run: (s, o) => {
      fakeRuns.push((o.series as Series).enabledIds());
      return run(s, o);
    },
  });
  assert.deepEqual(rows.map((r) => r.id), [
    NOTHING_LEFT_OUT,
    ...seriesIds().filter((id) => id !== "disable-only-if-off"),
  ]);
  assert.ok(fakeRuns.every((ids) => ids.includes("disable-only-if-off")));
  assert.throws(() => ablate({ scenario: sc, with: ["nope"] }), InputError);
});
