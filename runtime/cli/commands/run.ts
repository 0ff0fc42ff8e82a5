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
import { print, printErr } from "../io.ts";
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
  recipeFromOptions,
  replaceOption,
  SERIES_HELP,
  seriesFromOptions,
  seriesOption,
  type SeriesOpts,
} from "../series-options.ts";
import { renderSummary } from "../summary.ts";
import { errorLine, ExitStatus } from "../errors.ts";
import { start } from "../progress.ts";
import {
  EXIT_GATE_FAILED,
  EXIT_GATE_SKIPPED,
  gateOption,
  seedsOption,
  workersOption,
} from "../sweep-options.ts";
import { renderSweep } from "../sweep-view.ts";
import { DEFAULT_JUDGE, judgeRuns, type JudgeSpec } from "../../lab/judge.ts";
import { parseScenario, type ScenarioInput } from "../../lab/scenario.ts";
import { BatchPool, recipeFiles } from "../../lab/batch.ts";
import type { Report } from "../../lab/report.ts";
import { EXIT_USERS_CODE, limitsFromOptions, sandboxOptions } from "../sandbox-options.ts";
import { runSweep } from "../../lab/sweep-run.ts";
import { type SweepRun, sweepRun } from "../../lab/sweep.ts";

/** Registers the `run` command on `program`. */
export function registerRun(program: CommandUnknownOpts): void {
  const placement = pluginPlacementOptions();
  const sandbox = sandboxOptions();
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
    .addOption(seedsOption())
    .addOption(workersOption())
    .addOption(gateOption())
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .option(
      "--json",
      "print the report as JSON (the same scenario and seed give the same bytes); with --seeds, " +
        "the sweep: {scenario, series, seeds, verdicts, rates, seedsByVerdict, counters, runs}",
    )
    .addOption(
      new Option("--dmesg", "print both kernels' logs as a console shows them, not the summary")
        .conflicts(["json", "seeds"]),
    )
    .addOption(htmlOption("the report, with an SVG timeline"))
    .addHelpText("after", SERIES_HELP)
    .addHelpText("after", RUN_SEEDS_HELP)
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      if (opts.seeds) return await sweepAction(scenario, opts);
      const started = performance.now();
      const report = await runOnce(scenario, opts);
      const elapsedMs = performance.now() - started;
      if (opts.html !== undefined) {
        const { renderReportHtml } = await import("../../html/mod.ts"); // only when asked for
        await writeHtml(opts.html, renderReportHtml(report));
      }
      if (opts.json) print(JSON.stringify(report, null, 2));
      else if (opts.dmesg) print(...consoleLog(report));
      else print(...renderSummary(report, { elapsedMs }));
      if (opts.gate) gate(opts.gate === true ? DEFAULT_JUDGE : opts.gate, [sweepRun(report)]);
      if (USERS_CODE_FAILED.has(report.verdict)) {
        // The summary shows the verdict and its cause; a console log or JSON on stdout does not
        // say why the exit code is 5 where a person reads it.
        if (opts.json || opts.dmesg) {
          printErr(errorLine("run", `${report.verdict}: ${report.cause}`));
        }
        throw new ExitStatus(EXIT_USERS_CODE);
      }
    });
}

/** Verdicts that say users' code failed: `run` exits with {@link EXIT_USERS_CODE}. */
const USERS_CODE_FAILED: ReadonlySet<string> = new Set([
  "plugin-error",
  "plugin-timeout",
  "plugin-oom",
]);

/**
 * One run: in this process when only built-in plugins apply; in a sandbox host (see
 * lab/sandbox.ts) when the options name users' plugin files.
 */
async function runOnce(
  scenario: ScenarioInput,
  opts: SweepOpts & SandboxOpts & { seed?: number },
): Promise<Report> {
  const recipe = recipeFromOptions(opts);
  if (recipeFiles(recipe).length === 0) {
    const series = await seriesFromOptions(opts);
    return run(scenario, { seed: opts.seed, series, force: opts.force });
  }
  const pool = new BatchPool({
    scenario,
    recipe,
    force: opts.force,
    reports: true,
    sandbox: limitsFromOptions(opts),
  }, { workers: 1 });
  try {
    const [result] = await pool.run([{ seed: opts.seed ?? parseScenario(scenario).seed }]);
    return result.report!;
  } finally {
    pool.close();
  }
}

/** What `--seeds` and `--gate` add to run's help. */
const RUN_SEEDS_HELP = `
Over seeds:
  --seeds 100 runs seeds 1..100 (also A..B and comma lists) in workers and prints each
  verdict's count, rate and 95 % interval, the counters' spread and the seeds of each verdict
  (replay one with --seed); --json prints the sweep, --html FILE draws its distribution.

Exit status with --gate [SPEC] (default clean: dump-ok, no IO_PAGE_FAULT, no stray write,
on every seed; e.g. --gate 'dump-ok>=99%'):
  0  the runs meet SPEC
  ${EXIT_GATE_FAILED}  they do not
  ${EXIT_GATE_SKIPPED}  the series would not build (nothing was simulated)
  2  bad input, 1 an internal error, as always

Examples:
  kdump-lab run --seeds 100 --series all
  kdump-lab run --seeds 1..20 --series all --json
  kdump-lab run --seeds 100 --series all --gate            # in a CI job
  kdump-lab run --seeds 100 --gate 'dump-ok>=95%' --scenario-file mine.yaml --series all`;

/** The sandbox options, as commander parsed them. */
type SandboxOpts = Parameters<typeof limitsFromOptions>[0];

/** The options of a sweep, as commander parsed them. */
type SweepOpts = SeriesOpts & {
  scenario: string;
  scenarioFile?: string;
  seeds?: number[];
  workers?: number;
  force?: boolean;
  json?: boolean;
  html?: string;
  gate?: JudgeSpec | true;
};

/** `run --seeds`: the sweep, its view (or JSON, or page), and the gate. */
async function sweepAction(scenario: ScenarioInput, opts: SweepOpts & SandboxOpts): Promise<void> {
  // A bar on a terminal; nothing otherwise (stdout stays the result, stderr stays quiet).
  const bar = start(opts.seeds!.length, "run", { quiet: !Deno.stderr.isTerminal() });
  const result = await runSweep(
    {
      scenario,
      recipe: recipeFromOptions(opts),
      force: opts.force,
      sandbox: limitsFromOptions(opts),
    },
    opts.seeds!,
    { workers: opts.workers, onProgress: (n) => bar.tick(n) },
  );
  bar.stop();
  const judge = opts.gate === true ? DEFAULT_JUDGE : opts.gate;
  if (opts.html !== undefined) {
    const { renderSweepHtml } = await import("../../html/mod.ts");
    await writeHtml(opts.html, renderSweepHtml(result, { judge }));
  }
  if (opts.json) print(JSON.stringify(result, null, 2));
  else print(...renderSweep(result, { replay: replayCommand(opts), judge }));
  if (judge) gate(judge, result.runs);
}

/** The command that replays one run of a sweep (without its --seed). */
function replayCommand(opts: SweepOpts): string {
  const words = ["kdump-lab run"];
  if (opts.scenarioFile !== undefined) words.push(`--scenario-file ${opts.scenarioFile}`);
  else words.push(`--scenario ${opts.scenario}`);
  if (opts.series !== "none") words.push(`--series ${opts.series}`);
  for (const p of opts.plugin ?? []) {
    words.push(`--plugin ${p.file}`);
    if (p.before) words.push(`--before ${p.before}`);
    if (p.after) words.push(`--after ${p.after}`);
  }
  for (const r of opts.replace) words.push(`--replace ${r.id}=${r.file}`);
  if (opts.order?.length) words.push(`--order ${opts.order.join(",")}`);
  for (const d of opts.disable) words.push(`--disable ${d}`);
  if (opts.force) words.push("--force");
  return words.join(" ");
}

/** Ends with the gate's exit status when the runs do not meet the judge. */
function gate(judge: JudgeSpec, runs: SweepRun[]): void {
  const j = judgeRuns(judge, runs);
  if (j === "skip") throw new ExitStatus(EXIT_GATE_SKIPPED);
  if (j === "bad") throw new ExitStatus(EXIT_GATE_FAILED);
}
