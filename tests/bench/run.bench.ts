/** One run of the default scenario: the 4.13 baseline, and the series. */
import { run } from "../../runtime/lab/run.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";

Deno.bench("run default (4.13 baseline)", { group: "run", baseline: true }, () => {
  run(DEFAULT_SCENARIO);
});

const series = seriesFromSpec("all");
Deno.bench("run default (series)", { group: "run" }, () => {
  run(DEFAULT_SCENARIO, { series });
});
