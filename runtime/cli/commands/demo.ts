/**
 * `kdump-lab demo` (`deno task demo`): runs a scenario twice — the 4.13 baseline, then with
 * the whole series (`all`: what 4.14 is) — and shows the two outcomes side by side. `--json`
 * prints `{ baseline, series }`, both Reports; `--html FILE` also writes both as one page: their
 * headers side by side, their timelines on one shared time axis.
 *
 * @module
 */
import { type CommandUnknownOpts, Option } from "npm:@commander-js/extra-typings@^14";
import { runSweep } from "../../lab/sweep-run.ts";
import { type DemoSweeps, renderDemo } from "../demo-view.ts";
import { start } from "../progress.ts";
import { parseSeedsArg, workersOption } from "../sweep-options.ts";
import { renderReportsHtml } from "../../html/mod.ts";
import { seriesFromSpec } from "../../lab/plugins.ts";
import { run } from "../../lab/run.ts";
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

/** The seeds both sides run over by default: 1..100. */
const DEMO_SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);

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
    .addOption(
      new Option(
        "--seeds <spec>",
        "the sweep both sides run over (N = 1..N, A..B, comma lists); 0: none",
      ).default(DEMO_SEEDS, "100").argParser((v) => v === "0" ? [] : parseSeedsArg(v)),
    )
    .addOption(workersOption())
    .option("--json", "print { baseline, series, sweeps }: the two Reports and both sweeps")
    .addOption(htmlOption("both reports, their timelines on one shared time axis"))
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      const baseline = run(scenario, { seed: opts.seed });
      const series = run(scenario, { seed: opts.seed, series: seriesFromSpec(DEMO_SERIES) });
      const seeds = opts.seeds as number[];
      let sweeps: DemoSweeps | undefined;
      if (seeds.length) {
        const bar = start(2 * seeds.length, "demo", { quiet: !Deno.stderr.isTerminal() });
        const over = (spec: string) =>
          runSweep({ scenario, recipe: { spec } }, seeds, {
            workers: opts.workers as number | undefined,
            onProgress: (n) => bar.tick(n),
          });
        sweeps = { baseline: await over("none"), series: await over(DEMO_SERIES) };
        bar.stop();
      }
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
      if (opts.json) return print(JSON.stringify({ baseline, series, sweeps }, null, 2));
      print(...renderDemo(baseline, series, { width: terminalWidth(), labels, sweeps }));
    });
}
