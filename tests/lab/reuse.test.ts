/**
 * Reusing a run's result (runtime/lab/reuse.ts): what a run records as reached, when another
 * set of plugins matches it (the same handlers and providers at every reached name, the same
 * seed and version banner) and when it does not; and, on real runs over several seeds, that a
 * set differing only at a point no run reached gives the same outcome when simulated, while
 * the record shows why (the point is absent from what the run reached).
 */
import assert from "node:assert/strict";
import { definePlugin, type Plugin } from "../../runtime/plugin/mod.ts";
import { builtinPlugins } from "../../runtime/lab/plugins.ts";
import { type Reached, reached, RunReuse } from "../../runtime/lab/reuse.ts";
import { run } from "../../runtime/lab/run.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import type { Report } from "../../runtime/lab/report.ts";

const tap = (id: string, hooks: string[], provides: string[] = []) =>
  definePlugin({
    id,
    title: id,
    hooks: Object.fromEntries(hooks.map((h) => [h, () => {}])),
    provides: Object.fromEntries(provides.map((s) => [s, () => () => {}])),
  }) as Plugin;

const A = tap("a", ["amd_iommu.init_iommu_one"], ["helper"]);
const B = tap("b", ["amd_iommu.copy_device_table.entries"]);
const C = tap("c", ["amd_iommu.init_iommu_one"]);
const D = tap("d", [], ["helper"]);

/** A report without the lists of plugins and of their missing dependencies: what ran. */
function whatRan(r: Report): string {
  const { series: _s, missing: _m, ...rest } = r;
  return JSON.stringify(rest);
}

const sets = (hooks: string[], symbols: string[] = []): Reached => ({
  hooks: new Set(hooks),
  symbols: new Set(symbols),
});

Deno.test("reuse: found for plugins that look the same at every reached name, not otherwise", () => {
  const memo = new RunReuse<string>();
  memo.add(
    1,
    [A],
    sets(["amd_iommu.init_iommu_one", "kernel.machine_crash_shutdown"], ["helper"]),
    "r1",
  );
  // B taps only a point the run never reached: the same run.
  assert.equal(memo.find(1, [A, B]), "r1");
  assert.equal(memo.find(1, [B, A]), "r1");
  // Another seed, or a plugin at a reached point (C taps init_iommu_one), or another order
  // there: simulated.
  assert.equal(memo.find(2, [A, B]), undefined);
  assert.equal(memo.find(1, [A, C]), undefined);
  assert.equal(memo.find(1, [C, A]), undefined);
  // The symbol the run looked up is provided by D first: another run.
  assert.equal(memo.find(1, [D, A]), undefined);
  // A plugin that taps the point but is not there: another run too.
  assert.equal(memo.find(1, [B]), undefined);
  assert.equal(memo.hits, 2);
});

Deno.test("reuse: runs without plugins are never kept nor answered; version banners stay apart", () => {
  const memo = new RunReuse<string>();
  assert.equal(memo.add(1, [], sets([]), "none"), undefined);
  assert.equal(memo.find(1, []), undefined);
  // The whole series in order is "4.14.0"; with one more plugin that taps nothing reached it
  // is "4.14.0+": a kernel prints its banner, so the two are kept apart.
  const series = [...builtinPlugins().values()].filter((p) => p.id !== "bnx2-no-kdump-wait")
    .slice(0, 12);
  memo.add(1, series, sets(["amd_iommu.init_iommu_one"]), "4.14");
  assert.equal(memo.find(1, series), "4.14");
  assert.equal(memo.find(1, [...series, B]), undefined);
});

Deno.test("reuse: an entry learnt from another runner answers as if made here", () => {
  const here = new RunReuse<string>(), there = new RunReuse<string>();
  const e = there.add(3, [A], sets(["amd_iommu.init_iommu_one"], ["helper"]), "theirs")!;
  here.learn(structuredClone(e)); // as posted between workers
  assert.equal(here.find(3, [A, B]), "theirs");
  assert.equal(here.find(3, [A, C]), undefined);
});

Deno.test("reuse on real runs: without the copy, the sanity check's point is never reached, so adding it changes nothing (seeds 1-8)", () => {
  const plugins = builtinPlugins();
  const ids = (...names: string[]) => names.map((n) => plugins.get(n)!);
  const detect = ids("detect-pre-enabled");
  const withCheck = ids("detect-pre-enabled", "sanity-check-old-dte");
  const withCopy = ids(
    "detect-pre-enabled",
    "helper-functions",
    "dte-bit-fields",
    "copy-dev-tables",
    "copy-old-trans-table",
  );
  const POINT = "amd_iommu.copy_device_table.entries";
  assert.equal(typeof plugins.get("sanity-check-old-dte")!.hooks[POINT], "function");
  for (let seed = 1; seed <= 8; seed++) {
    const memo = new RunReuse<string>();
    const seen = reached();
    const r = run(DEFAULT_SCENARIO, { series: detect, seed, force: true, reached: seen });
    assert.ok(seen.hooks.has("amd_iommu.early_enable_iommus"), `seed ${seed}`);
    assert.ok(!seen.hooks.has(POINT), `seed ${seed}: the copy's point is not reached`);
    const outcome = whatRan(r);
    memo.add(seed, detect, seen, outcome);
    assert.equal(memo.find(seed, withCheck), outcome, `seed ${seed}`);
    // Simulated, the set with the check gives that very report, dmesg and timeline included.
    const r2 = run(DEFAULT_SCENARIO, { series: withCheck, seed, force: true });
    assert.deepEqual(r2.missing.map((m) => m.plugin), [
      "sanity-check-old-dte",
      "sanity-check-old-dte",
      "sanity-check-old-dte",
    ]);
    assert.equal(whatRan(r2), outcome, `seed ${seed}`);
    // With the copy the point is reached: that set is simulated, not found.
    const seenCopy = reached();
    run(DEFAULT_SCENARIO, { series: withCopy, seed, force: true, reached: seenCopy });
    assert.ok(seenCopy.hooks.has(POINT), `seed ${seed}: the copy calls the point`);
    assert.equal(memo.find(seed, withCopy), undefined);
  }
});

Deno.test("reuse: a symbol's provider is the first plugin with a factory for it, as the runner picks it", () => {
  // Not made by definePlugin (which refuses it): an entry without a factory provides nothing.
  const hollow = { ...tap("hollow", []), provides: { helper: undefined } } as unknown as Plugin;
  const memo = new RunReuse<string>();
  memo.add(1, [hollow, D], sets([], ["helper"]), "from d");
  assert.equal(memo.find(1, [hollow, D]), "from d");
  assert.equal(memo.find(1, [D]), "from d", "hollow is not what provided it");
  assert.equal(memo.find(1, [hollow, A]), undefined, "another real provider");
});
