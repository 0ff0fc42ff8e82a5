/**
 * runtime/lab/minimize.ts: ddmin on constructed cases (a fake predicate over eight items),
 * the outcome cache, dependency handling (a set that would not build is "unresolved" and not
 * run), and the real glue (series of a set, `--with` plugins always applied) with a fake run.
 */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";
import { minimize, seriesMinimizer, split } from "../../runtime/lab/minimize.ts";
import { seriesIds } from "../../runtime/lab/plugins.ts";
import { type RunFn, setSeries, type Tested } from "../../runtime/lab/probe.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import type { Series } from "../../runtime/plugin/mod.ts";

const ITEMS = ["a", "b", "c", "d", "e", "f", "g", "h"];

/** A fake test: good iff `needed` ⊆ set; counts calls per set. */
function needs(needed: readonly string[]) {
  const calls = new Map<string, number>();
  const test = (set: readonly string[]): Tested => {
    const key = set.join(",");
    calls.set(key, (calls.get(key) ?? 0) + 1);
    const ok = needed.every((x) => set.includes(x));
    return { judgement: ok ? "good" : "bad", verdict: ok ? "dump-ok" : "hang", detail: "" };
  };
  return { calls, test };
}

Deno.test("split: n contiguous parts, as equal as possible, in order", () => {
  assert.deepEqual(split(ITEMS, 2), [["a", "b", "c", "d"], ["e", "f", "g", "h"]]);
  assert.deepEqual(split(ITEMS, 3), [["a", "b"], ["c", "d", "e"], ["f", "g", "h"]]);
  assert.deepEqual(split(["a", "b"], 4), [["a"], ["b"]]);
});

Deno.test("ddmin: good iff {a, c} ⊆ set, over 8 items → exactly {a, c}", async () => {
  const f = needs(["a", "c"]);
  const res = await minimize({ items: ITEMS, test: f.test });
  assert.equal(res.status, "minimized");
  assert.deepEqual(res.set, ["a", "c"]);
  assert.equal(res.full.outcome, "good");
  // Each distinct set is tested once; repeats are cache hits.
  assert.ok([...f.calls.values()].every((n) => n === 1), "no set tested twice");
  assert.equal(res.runs, f.calls.size);
  assert.equal(res.tests.filter((t) => !t.cached).length, res.runs);
  assert.equal(res.tests.filter((t) => t.cached).length, res.cacheHits);
  assert.ok(res.cacheHits > 0, "ddmin asks for some sets again (complements at n = 2)");
  assert.equal(res.unresolved, 0);
  // The cache is keyed by the set, not by the order it was asked in.
  assert.ok(f.calls.has("") && f.calls.has(ITEMS.join(",")), "the empty and the whole set");
});

Deno.test("ddmin: single items, every item, and the empty set", async () => {
  for (const needed of [["h"], ["a"], ITEMS, ["b", "g"], ["a", "d", "e", "h"]]) {
    const res = await minimize({ items: ITEMS, test: needs(needed).test });
    assert.deepEqual(res.set, needed, needed.join(","));
  }
  const empty = await minimize({ items: ITEMS, test: needs([]).test });
  assert.deepEqual(empty.set, [], "the empty set is good: nothing is needed");
  assert.equal(empty.runs, 2);
  const none = await minimize({ items: ITEMS, test: needs(["z"]).test });
  assert.equal(none.status, "full-not-good");
  assert.deepEqual(none.set, []);
  assert.equal(none.runs, 1);
});

Deno.test("ddmin: the result is 1-minimal even when the predicate is not monotone", async () => {
  // Good iff d, and b or (f without g): adding g can make a good set bad.
  const test = (set: readonly string[]): Tested => {
    const has = (x: string) => set.includes(x);
    const ok = has("d") && (has("b") || (has("f") && !has("g")));
    return { judgement: ok ? "good" : "bad", verdict: "", detail: "" };
  };
  const res = await minimize({ items: ITEMS, test });
  const good = (s: readonly string[]) => test(s).judgement === "good";
  assert.ok(good(res.set));
  for (const x of res.set) assert.ok(!good(res.set.filter((y) => y !== x)), `without ${x}`);
});

Deno.test("ddmin with dependencies: sets that would not build are unresolved and not run", async () => {
  // c requires b, e requires c: good iff {a, e} ⊆ set, so the answer must carry b and c too.
  const requires: Record<string, string[]> = { c: ["b"], e: ["c"] };
  const unmet = (set: readonly string[]) =>
    set.flatMap((x) =>
      (requires[x] ?? []).filter((r) => !set.includes(r)).map((r) => `${x} requires ${r}`)
    );
  const f = needs(["a", "e"]);
  // As setProber answers for a series that would not build: a skip, without running it.
  const test = (set: readonly string[]): Tested => {
    const missing = unmet(set);
    if (!missing.length) return f.test(set);
    return {
      judgement: "skip",
      verdict: "skipped",
      detail: `would not build: ${missing.join("; ")}`,
    };
  };
  const res = await minimize({ items: ITEMS, test });
  assert.deepEqual(res.set, ["a", "b", "c", "e"]);
  assert.ok(res.unresolved > 0);
  assert.equal(res.runs, f.calls.size, "sets that would not build are not runs");
  assert.equal(res.tests.filter((t) => !t.cached).length, res.runs + res.unresolved);
  for (const key of f.calls.keys()) {
    assert.deepEqual(unmet(key ? key.split(",") : []), [], `ran ${key}, which would not build`);
  }
  const refused = res.tests.find((t) => t.outcome === "unresolved")!;
  assert.equal(refused.verdict, "skipped");
  assert.match(refused.detail, /^would not build: (c requires b|e requires c)/);
  // Every one-smaller subset is unresolved or bad.
  for (const x of res.set) {
    const smaller = res.set.filter((y) => y !== x);
    assert.ok(unmet(smaller).length > 0 || f.test(smaller).judgement === "bad", `without ${x}`);
  }
});

Deno.test("minimize over the real series with a fake run: dependencies close the answer", async () => {
  const base = run(SCENARIOS.default, {});
  const runs: string[][] = [];
  let skipped = 0;
  // Fake: dump-ok iff the series applies copy-old-trans-table, disable-only-if-off and bnx2-no-kdump-wait;
  // a series that would not build goes to the real run(), which skips it.
  const fakeRun: RunFn = (sc, o) => {
    const series = o.series as Series;
    if (series.resolve().missing.length) {
      skipped++;
      return run(sc, o);
    }
    const ids = series.enabledIds();
    runs.push(ids);
    const ok = ["copy-old-trans-table", "disable-only-if-off", "bnx2-no-kdump-wait"].every((x) =>
      ids.includes(x)
    );
    const report: Report = {
      ...base,
      series: ids,
      verdict: ok ? "dump-ok" : "hang",
      events: { ...base.events, IO_PAGE_FAULT: 0 },
      strayWriteCount: 0, // the default judge (clean) also asks for no stray write
    };
    return report;
  };
  const withIds = ["bnx2-no-kdump-wait"];
  const search = seriesMinimizer({ scenario: SCENARIOS.default, with: withIds, run: fakeRun });
  assert.deepEqual(search.items, seriesIds(), "bnx2-no-kdump-wait is not a patch of the series");
  assert.equal(search.bound, 12 * 12 + 3 * 12);
  const res = await search.run();
  assert.deepEqual(res.set, [
    "detect-pre-enabled",
    "helper-functions",
    "dte-bit-fields",
    "copy-dev-tables",
    "copy-old-trans-table",
    "disable-only-if-off",
  ]);
  assert.equal(res.runs, runs.length);
  assert.equal(res.unresolved, skipped);
  assert.ok(skipped > 0);
  for (const ids of runs) {
    assert.equal(ids.at(-1), "bnx2-no-kdump-wait", "the --with plugin is applied at every step");
    assert.deepEqual(
      setSeries(ids.slice(0, -1), withIds).resolve().missing,
      [],
      "only sets that build are run",
    );
  }
});

Deno.test("seriesMinimizer: series patches named by --with are applied at every step, not searched", () => {
  const search = seriesMinimizer({
    scenario: SCENARIOS.default,
    with: ["bnx2-no-kdump-wait", "disable-only-if-off"],
  });
  assert.deepEqual(search.items, seriesIds().filter((id) => id !== "disable-only-if-off"));
  assert.equal(search.bound, 11 * 11 + 3 * 11);
  assert.throws(() => seriesMinimizer({ scenario: SCENARIOS.default, with: ["nope"] }), InputError);
});
