/**
 * `kdump-lab run`: run one scenario, with a plugin series, through the panic and the kdump
 * kernel and print a short summary, the Report as JSON (`--json`, byte-identical for the
 * same scenario, series and seed), or the kernel log of both kernels as a console shows it
 * (`--dmesg`). `--html FILE` also writes a self-contained page with an SVG timeline.
 *
 * @module
 */
import { type CommandUnknownOpts, Option } from "npm:@commander-js/extra-typings@^14";
import { consoleLog } from "../../lab/console.ts";
import { run } from "../../lab/run.ts";
import { htmlOption, writeHtml } from "../html-output.ts";
import { print } from "../io.ts";
import {
  resolveScenario,
  scenarioFileOption,
  scenarioOption,
  seedOption,
} from "../scenario-options.ts";
import {
  disableOption,
  forceOption,
  orderOption,
  pluginPlacementOptions,
  replaceOption,
  SERIES_HELP,
  seriesFromOptions,
  seriesOption,
} from "../series-options.ts";
import { renderSummary } from "../summary.ts";

/** Registers the `run` command on `program`. */
export function registerRun(program: CommandUnknownOpts): void {
  const placement = pluginPlacementOptions();
  program
    .command("run")
    .description("run a scenario through a panic and its kdump kernel; print the outcome")
    .addOption(scenarioOption())
    .addOption(scenarioFileOption())
    .addOption(seedOption())
    .addOption(seriesOption())
    .addOption(placement.plugin)
    .addOption(placement.before)
    .addOption(placement.after)
    .addOption(replaceOption())
    .addOption(orderOption())
    .addOption(disableOption())
    .addOption(forceOption())
    .option("--json", "print the report as JSON (the same scenario and seed give the same bytes)")
    .addOption(
      new Option("--dmesg", "print both kernels' logs as a console shows them, not the summary")
        .conflicts("json"),
    )
    .addOption(htmlOption("the report, with an SVG timeline"))
    .addHelpText("after", SERIES_HELP)
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      const series = await seriesFromOptions(opts);
      const started = performance.now();
      const report = run(scenario, { seed: opts.seed, series, force: opts.force });
      const elapsedMs = performance.now() - started;
      if (opts.html !== undefined) {
        const { renderReportHtml } = await import("../../html/mod.ts"); // only when asked for
        await writeHtml(opts.html, renderReportHtml(report));
      }
      if (opts.json) print(JSON.stringify(report, null, 2));
      else if (opts.dmesg) print(...consoleLog(report));
      else print(...renderSummary(report, { elapsedMs }));
    });
}
