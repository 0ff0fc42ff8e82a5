/** `run --seeds` and `run --gate`: the sweep's JSON and view, and the exit statuses. */
import assert from "node:assert/strict";
import { lab, ok, usage } from "./lab-kit.ts";

Deno.test("run --seeds --json: {scenario, series, seeds, verdicts, runs} and the rest; the same bytes with 1 and 2 workers", async () => {
  const [one, two] = await Promise.all([
    lab(["run", "--seeds", "1..4", "--series", "all", "--json", "--workers", "1"]),
    lab(["run", "--seeds", "4", "--series", "all", "--json", "--workers", "2"]),
  ]);
  ok(one, "1 worker");
  assert.equal(two.stdout, one.stdout);
  const r = JSON.parse(one.stdout);
  assert.deepEqual(Object.keys(r), [
    "scenario",
    "series",
    "seeds",
    "verdicts",
    "rates",
    "seedsByVerdict",
    "counters",
    "runs",
  ]);
  assert.deepEqual([r.scenario, r.seeds, r.verdicts], ["default", [1, 2, 3, 4], { "dump-ok": 4 }]);
  assert.deepEqual(Object.keys(r.runs[0]), [
    "seed",
    "verdict",
    "ioPageFaults",
    "faultsSuppressed",
    "faultsPrinted",
    "strayWriteCount",
    "badPages",
  ]);
});

Deno.test("run --gate: 0 when the runs meet the judge, 3 when not, 4 when nothing was simulated; bad specs exit 2", async () => {
  const [met, notMet, rate, skipped, single, badSpec, both] = await Promise.all([
    lab(["run", "--seeds", "3", "--series", "all", "--gate"]),
    lab(["run", "--seeds", "3", "--gate"]), // 4.13: stray writes on every seed
    lab(["run", "--seeds", "3", "--gate", "no-fault"]),
    lab(["run", "--seeds", "3", "--series", "all", "--disable", "helper-functions", "--gate"]),
    lab(["run", "--gate", "--json"]),
    lab(["run", "--seeds", "3", "--gate", "shiny"]),
    lab(["run", "--seeds", "3", "--seed", "4"]),
  ]);
  assert.equal(met.code, 0, met.stderr);
  assert.match(met.stdout, /3 of 3 runs meet it — met/);
  assert.equal(notMet.code, 3);
  assert.match(notMet.stdout, /0 of 3 runs meet it — not met/);
  assert.equal(rate.code, 0, "4.13's faults are suppressed by SA: none logged");
  assert.equal(skipped.code, 4);
  assert.equal(single.code, 3, "one run is judged too");
  assert.equal(JSON.parse(single.stdout).verdict, "dump-corrupt");
  usage(badSpec, /unknown criterion "shiny"/, "--gate shiny");
  usage(both, /--seeds.*cannot be used with.*--seed|--seed.*cannot be used with.*--seeds/, "both");
});
