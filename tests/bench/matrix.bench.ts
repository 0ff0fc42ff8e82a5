/**
 * The full 2^12 matrix of the series on the default scenario, in Workers on
 * every core: as `matrix` runs it (the series that build are run, the others skipped
 * without building a machine) and as `matrix --force` runs it (all 4,096 run). A run whose
 * plugins look the same as an earlier run's wherever that run reached gets its line instead of
 * a simulation (runtime/lab/reuse.ts); the line says how many did. One
 * iteration each (Deno still does one warm-up call, so each matrix runs twice); each call
 * prints its runs per second. Not a timed test: nothing is asserted about the time.
 */
import { defaultWorkers, runMatrix } from "../../runtime/lab/matrix-pool.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { figure } from "./measure.ts";

async function matrix(force: boolean): Promise<void> {
  const started = performance.now();
  const f = await runMatrix(
    { scenario: SCENARIOS.default, mode: "full", force },
    { workers: defaultWorkers() },
  );
  const s = (performance.now() - started) / 1000;
  const ran = f.lines.filter((l) => l.verdict !== "skipped").length;
  figure(
    `matrix${force ? " --force" : ""}`,
    `${f.lines.length} runs (${ran - f.reused} simulated, ${f.reused} reused, ` +
      `${f.lines.length - ran} skipped) in ` +
      `${s.toFixed(2)} s with ${defaultWorkers()} workers: ${(f.lines.length / s).toFixed(0)} ` +
      `runs/s, ${((ran - f.reused) / s).toFixed(1)} simulated runs/s`,
  );
}

Deno.bench({
  name: "matrix: 2^12 subsets, default, workers on every core",
  group: "matrix",
  n: 1,
  warmup: 0,
  async fn() {
    await matrix(false);
  },
});

Deno.bench({
  name: "matrix --force: all 4,096 subsets simulated",
  group: "matrix",
  n: 1,
  warmup: 0,
  async fn() {
    await matrix(true);
  },
});
