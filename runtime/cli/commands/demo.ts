/**
 * `kdump-lab demo` (`deno task demo`): runs a scenario twice — the 4.13 baseline, then with
 * the whole series (`all`: what 4.14 is) — and shows the two outcomes side by side. `--json`
 * prints `{ baseline, series }`, both Reports; `--html FILE` also writes both as one page: their
 * headers side by side, their timelines on one shared time axis.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { renderReportsHtml } from "../../html/mod.ts";
import { seriesFromSpec } from "../../lab/plugins.ts";
import { run } from "../../lab/run.ts";
import { renderDemo } from "../demo-view.ts";
import { htmlOption, writeHtml } from "../html-output.ts";
import { print, terminalWidth } from "../io.ts";
import {
  resolveScenario,
  scenarioFileOption,
  scenarioOption,
  seedOption,
} from "../scenario-options.ts";

/** The series the demo compares with the baseline. */
const DEMO_SERIES = "all";

/** Registers the `demo` command on `program`. */
export function registerDemo(program: CommandUnknownOpts): void {
  program
    .command("demo")
    .description(
      "run a scenario without the series (4.13) and with it (4.14); compare side by side",
    )
    .addOption(scenarioOption())
    .addOption(scenarioFileOption())
    .addOption(seedOption())
    .option("--json", "print { baseline, series }: the two Reports")
    .addOption(htmlOption("both reports, their timelines on one shared time axis"))
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      const baseline = run(scenario, { seed: opts.seed });
      const series = run(scenario, { seed: opts.seed, series: seriesFromSpec(DEMO_SERIES) });
      const labels = {
        left: "4.13 (no patches)",
        right: `4.14 (the series: ${series.series.length} patches)`,
      };
      if (opts.html !== undefined) {
        await writeHtml(
          opts.html,
          renderReportsHtml([
            { key: "baseline", label: labels.left, tag: "4.13", report: baseline },
            { key: "series", label: labels.right, tag: "4.14", report: series },
          ], { title: `kdump-lab demo: ${baseline.scenario}` }),
        );
      }
      if (opts.json) return print(JSON.stringify({ baseline, series }, null, 2));
      print(...renderDemo(baseline, series, { width: terminalWidth(), labels }));
    });
}
