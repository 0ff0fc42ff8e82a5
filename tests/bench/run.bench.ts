/**
 * One run of the default scenario, in process: the 4.13 baseline, and the series. Deno's table gives the average; the line printed first gives the medians over
 * seeds 1–20 (the target: ≤ 2 ms median).
 */
import { run } from "../../runtime/lab/run.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { figure, median, ms } from "./measure.ts";

const series = seriesFromSpec("all");

function medianOverSeeds(opts: { series?: typeof series }): number {
  const t: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let seed = 1; seed <= 20; seed++) {
      const s = performance.now();
      run(DEFAULT_SCENARIO, { ...opts, seed });
      t.push(performance.now() - s);
    }
  }
  return median(t.slice(20)); // the first round warms up
}

figure(
  "one default run, in process (median over seeds 1-20)",
  `4.13 ${ms(medianOverSeeds({}))}, series ${ms(medianOverSeeds({ series }))}`,
);

Deno.bench("run default (4.13 baseline)", { group: "run", baseline: true }, () => {
  run(DEFAULT_SCENARIO);
});

Deno.bench("run default (the series)", { group: "run" }, () => {
  run(DEFAULT_SCENARIO, { series });
});
