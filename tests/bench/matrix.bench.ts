/**
 * The full 2^12 matrix of the series on the default scenario, in Workers on
 * every core (4096 runs: the series that build are run, the others skipped). One iteration
 * (Deno still does one warm-up call, so the matrix runs twice); each call also prints its
 * runs per second. Not a timed test: nothing is asserted about the time.
 */
import { defaultWorkers, runMatrix } from "../../runtime/lab/matrix-pool.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

Deno.bench({
  name: "matrix: 2^12 subsets, default, workers on every core",
  group: "matrix",
  n: 1,
  warmup: 0,
  async fn() {
    const started = performance.now();
    const f = await runMatrix(
      { scenario: SCENARIOS.default, mode: "full" },
      { workers: defaultWorkers() },
    );
    const s = (performance.now() - started) / 1000;
    const ran = f.lines.filter((l) => l.verdict !== "skipped").length;
    console.log(
      `matrix: ${f.lines.length} runs (${ran} run, ${f.lines.length - ran} skipped) in ` +
        `${s.toFixed(1)} s with ${defaultWorkers()} workers: ` +
        `${(f.lines.length / s).toFixed(0)} runs/s, ${(ran / s).toFixed(1)} simulated runs/s`,
    );
  },
});
