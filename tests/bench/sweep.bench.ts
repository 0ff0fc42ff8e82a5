/**
 * A 100-seed sweep of the default scenario, without and with the series (what `run --seeds
 * 100` and `demo` do), as the CLI runs it (the default pool: 100 jobs run in this thread, as
 * fresh workers would cost more than they save), in this thread, and in two fresh workers.
 * The line printed first gives each sweep's wall time once, after a warm-up.
 */
import { runSweep } from "../../runtime/lab/sweep-run.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { figure, ms } from "./measure.ts";

const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);

async function timed(spec: string, workers?: number): Promise<number> {
  const s = performance.now();
  await runSweep({ scenario: DEFAULT_SCENARIO, recipe: { spec } }, SEEDS, { workers });
  return performance.now() - s;
}

await timed("all"); // warm-up: module load, JIT
figure(
  "100-seed sweep of default, default pool",
  `4.13 ${ms(await timed("none"))}, series ${ms(await timed("all"))}`,
);

Deno.bench(
  "100-seed sweep, 4.13 baseline, default pool",
  { group: "sweep", baseline: true },
  async () => {
    await runSweep({ scenario: DEFAULT_SCENARIO, recipe: { spec: "none" } }, SEEDS);
  },
);

Deno.bench("100-seed sweep, the series, default pool", { group: "sweep" }, async () => {
  await runSweep({ scenario: DEFAULT_SCENARIO, recipe: { spec: "all" } }, SEEDS);
});

Deno.bench("100-seed sweep, the series, this thread", { group: "sweep" }, async () => {
  await runSweep({ scenario: DEFAULT_SCENARIO, recipe: { spec: "all" } }, SEEDS, { workers: 0 });
});

Deno.bench("100-seed sweep, the series, 2 fresh workers", { group: "sweep" }, async () => {
  await runSweep({ scenario: DEFAULT_SCENARIO, recipe: { spec: "all" } }, SEEDS, { workers: 2 });
});
