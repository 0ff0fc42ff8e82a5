/**
 * Options shared by `bisect`, `minimize` and `ablate`: what they run on (`--scenario`,
 * `--scenario-file`, `--seed`, `--with IDS`: plugins applied at every step), `--run SCRIPT` (a
 * predicate script, as `git bisect run` takes one), `--verbose` and `--quiet`.
 *
 * @module
 */
import { type Command, Option, type OptionValues } from "npm:@commander-js/extra-typings@^14";
import type { Judge, ProbeSetup } from "../lab/probe.ts";
import { recipeFiles, seriesFromRecipe } from "../lab/batch.ts";
import type { ScenarioInput } from "../lab/scenario.ts";
import { setPool } from "../lab/set-pool.ts";
import { scriptJudge } from "../lab/script-judge.ts";
import { scenarioFileOption, scenarioOption, seedOption } from "./scenario-options.ts";
import {
  disableOption,
  orderOption,
  parseIdList,
  pluginPlacementOptions,
  recipeFromOptions,
  replaceOption,
  type SeriesOpts,
} from "./series-options.ts";
import { limitsFromOptions } from "./sandbox-options.ts";
import { seedsOption, workersOption } from "./sweep-options.ts";

/**
 * `--with IDS`: a comma list, repeatable; the ids add up.
 *
 * @param description the help text, for a command that does not search (the matrix)
 */
export function withOption(
  description =
    "plugins applied at every step, not searched over (comma list, repeatable), e.g. bnx2-no-kdump-wait",
) {
  return new Option("--with <ids>", description).argParser((
    value,
    previous: string[],
  ) => [...previous, ...parseIdList(value)])
    .default([] as string[], "none");
}

/**
 * Adds what a probing command runs on to `cmd`, in this order: `--scenario`, `--scenario-file`,
 * `--seed`, `--seeds` (each step runs on every seed), `--workers` and `--with`.
 */
export function addProbeOptions<
  A extends unknown[],
  O extends OptionValues,
  G extends OptionValues,
>(
  cmd: Command<A, O, G>,
) {
  return cmd
    .addOption(scenarioOption())
    .addOption(scenarioFileOption())
    .addOption(seedOption())
    .addOption(seedsOption())
    .addOption(workersOption())
    .addOption(withOption());
}

/**
 * Adds the series options to a searching command (`bisect`, `minimize`, `ablate`), as `run`
 * has them: `--series SPEC` (the series the search runs over, default all), `--plugin FILE`
 * with `--before`/`--after`, `--replace ID=FILE`, `--order IDS` and `--disable ID`.
 */
export function addSearchSeriesOptions<
  A extends unknown[],
  O extends OptionValues,
  G extends OptionValues,
>(
  cmd: Command<A, O, G>,
) {
  const placement = pluginPlacementOptions();
  return cmd
    .addOption(
      new Option(
        "--series <spec>",
        "the series the search runs over (default all): its patches are searched, other " +
          "plugins it names are applied at every step like --with",
      ).default("all"),
    )
    .addOption(placement.plugin)
    .addOption(placement.before)
    .addOption(placement.after)
    .addOption(replaceOption())
    .addOption(orderOption())
    .addOption(disableOption());
}

/**
 * Where the steps of a search run. The series every step starts from, when the series options
 * change it (else the steps are the patches and the `--with` plugins): `--series` with the
 * `--with` plugins, then `--replace`, `--plugin`, `--order` and `--disable` as `run` applies
 * them. Built and run in this process for one seed and no users' file (`base`); else in a pool
 * (`pool`: close it when the search ends) — Workers spreading the seeds over the cores, or
 * sandbox hosts when it names users' files, so users' code never runs here.
 *
 * @throws {InputError} for a bad file, an unknown id or an impossible placement
 */
export async function searchSetup(
  opts:
    & SeriesOpts
    & { with: readonly string[]; seeds?: number[]; workers?: number }
    & Parameters<
      typeof limitsFromOptions
    >[0],
  scenario: ScenarioInput,
): Promise<Pick<ProbeSetup, "base" | "pool">> {
  const plain = opts.series === "all" && !opts.plugin?.length && !opts.replace.length &&
    !opts.order?.length && !opts.disable.length;
  const spec = [...new Set([...opts.series.split(","), ...opts.with].map((s) => s.trim()))];
  const recipe = recipeFromOptions({ ...opts, series: spec.join(",") });
  const many = (opts.seeds?.length ?? 0) > 1;
  if (recipeFiles(recipe).length === 0 && !many) {
    return plain ? {} : { base: await seriesFromRecipe(recipe) };
  }
  return {
    pool: await setPool({
      scenario,
      recipe,
      workers: opts.workers,
      sandbox: limitsFromOptions(opts),
    }),
  };
}

/** `--run SCRIPT`: the predicate script. */
export function runScriptOption() {
  return new Option(
    "--run <script>",
    "predicate: `deno run SCRIPT` (sandboxed) gets the report as JSON on stdin; exit 0 good, " +
      "125 skip, 1-127 bad, 128+ aborts (default: good = dump-ok with no IO_PAGE_FAULT logged)",
  );
}

/**
 * `--verbose`: a line per test on stderr even when stderr is not a terminal (see
 * {@link showProgress}).
 *
 * @param description the help text, for a command whose lines differ
 */
export function verboseOption(
  description =
    "print a line per test on stderr (without it, progress shows only when stderr is a terminal)",
) {
  return new Option("--verbose", description);
}

/**
 * `--quiet`: no progress on stderr at all (the opposite of {@link verboseOption}; every long
 * command has both).
 */
export function quietOption(
  description = "print no progress on stderr, not even on a terminal",
) {
  return new Option("--quiet", description).conflicts("verbose");
}

/**
 * The predicate the options choose: the script of `--run` (sandboxed under the limits of
 * `--timeout`, `--max-memory`, `--allow-plugin-perms`), else none (the `--judge` criterion,
 * `clean` by default, judges the runs).
 */
export async function judgeFromOptions(
  opts: { run?: string } & Parameters<typeof limitsFromOptions>[0],
): Promise<Judge | undefined> {
  return opts.run === undefined ? undefined : await scriptJudge(opts.run, limitsFromOptions(opts));
}

/**
 * Whether to show progress on stderr: never with `--quiet`; always with `--verbose`; else
 * when stderr is a terminal.
 */
export function showProgress(opts: { verbose?: boolean; quiet?: boolean }): boolean {
  if (opts.quiet === true) return false;
  return opts.verbose === true || Deno.stderr.isTerminal();
}

/** The help text on predicates and `--with`. */
export const PROBE_HELP = `
Predicate:
  By default a set is good when every run is clean: verdict dump-ok, no IO_PAGE_FAULT
  logged and no stray DMA write. --judge SPEC says otherwise (dump-ok+no-fault, clean>=95%).
  With --seeds SPEC each set runs on every seed (in --workers workers) and is judged over
  them; a --run script answers for each run: the set is bad if any run is bad, good if
  every run is good, else skipped. With --run SCRIPT, \`deno run SCRIPT\` reads the report as JSON on stdin
  and answers with its exit code, as in git bisect run: 0 good, 125 skip, 1-127 bad; 128 or
  more aborts (exit 2). A series whose dependencies are missing is a skip (not run).
  The script may read only itself and kdump-lab's sources (--allow-plugin-perms grants
  more) and must answer within --timeout seconds (default 60), else the search aborts.`;

/** The help text on the series options of a searching command. */
export const SEARCH_SERIES_HELP = `
Series:
  Each step's series starts from --series (default all) with the --with plugins; the step
  turns off the patches it does not try. --replace ID=FILE, --plugin FILE [--before ID |
  --after ID], --order IDS and --disable ID edit it as they do for run (a disabled patch is
  never tried).`;
