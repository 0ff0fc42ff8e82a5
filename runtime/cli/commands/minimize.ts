/**
 * `kdump-lab minimize`: the smallest set of patches of the series that is still good — delta
 * debugging (ddmin) with the plugins of `--with` always applied. A set that would not build
 * counts as not good and is not run. Prints the 1-minimal set in series order and how many
 * runs it took; `--json` prints `{ set, runs, cacheHits, unresolved, tests, … }`.
 *
 * Exit codes: 0 with a set; 2 for bad input, a `--run` script that exits with 128 or more, or
 * a whole series that is not good (nothing to minimize).
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { InputError } from "../../lab/input.ts";
import { type SeriesMinimizer, seriesMinimizer, type SetTest } from "../../lab/minimize.ts";
import { pluginTitles } from "../../lab/plugins.ts";
import { checkWith } from "../../lab/probe.ts";
import { print, printErr } from "../io.ts";
import { start } from "../progress.ts";
import { sandboxOptions } from "../sandbox-options.ts";
import {
  addProbeOptions,
  addSearchSeriesOptions,
  judgeFromOptions,
  PROBE_HELP,
  quietOption,
  runScriptOption,
  SEARCH_SERIES_HELP,
  searchSetup,
  showProgress,
  verboseOption,
} from "../probe-options.ts";
import { resolveScenario } from "../scenario-options.ts";
import { judgeOption } from "../sweep-options.ts";

/** `{a, b}` */
const braces = (set: readonly string[]) => `{${set.join(", ")}}`;

/** One progress line. */
function testLine(t: SetTest): string {
  const outcome = t.outcome === "unresolved" ? "unresolved (would not build)" : t.outcome;
  return `testing ${braces(t.set)}: ${outcome}${t.cached ? " (cached)" : ""}`;
}

/** Registers the `minimize` command on `program`. */
export function registerMinimize(program: CommandUnknownOpts): void {
  const sandbox = sandboxOptions();
  addSearchSeriesOptions(addProbeOptions(
    program
      .command("minimize")
      .description("delta debugging: a 1-minimal set of patches for which the predicate is good"),
  ))
    .addOption(runScriptOption())
    .addOption(judgeOption().conflicts("run"))
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .option("--json", "print { set, runs, cacheHits, unresolved, tests, … } as JSON")
    .addOption(verboseOption())
    .addOption(quietOption())
    .addHelpText(
      "after",
      `${PROBE_HELP}
  A set of patches that would not build (a patch without what it requires) counts as not
  good and is not run; the answer is a set that builds.
${SEARCH_SERIES_HELP}`,
    )
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      const withIds = checkWith(opts.with);
      const judge = await judgeFromOptions(opts);
      const where = await searchSetup(opts, scenario);
      try {
        await minimizeWith(
          opts,
          seriesMinimizer({
            scenario,
            seed: opts.seed,
            seeds: opts.seeds,
            with: withIds,
            judge,
            criterion: opts.judge,
            ...where,
          }),
        );
      } finally {
        where.pool?.close();
      }
    });
}

/** Runs the search and prints its result. */
async function minimizeWith(
  opts: { with: string[]; verbose?: true; quiet?: true; json?: true; seeds?: number[] },
  search: SeriesMinimizer,
): Promise<void> {
  const withIds = opts.with;
  const seedCount = opts.seeds?.length ?? 1;
  const items = search.items;
  // Progress as bisect and ablate show it (--verbose, or stderr is a terminal): on a
  // terminal a bar towards ddmin's bound, whose total becomes the real count when the
  // search ends, plus a line per test with --verbose; elsewhere a line per test.
  const show = showProgress(opts);
  const tty = Deno.stderr.isTerminal();
  const lines = show && (opts.verbose === true || !tty);
  const bar = start(search.bound, "minimize", { unit: "tests", quiet: !show || !tty });
  let tested = 0;
  let res;
  try {
    res = await search.run((t) => {
      tested++;
      bar.tick();
      if (lines) printErr(testLine(t));
    });
  } finally {
    bar.setTotal(Math.max(tested, 1));
    bar.stop();
  }
  const withText = withIds.length ? ` + ${withIds.join(", ")}` : "";
  if (opts.json) {
    print(JSON.stringify(
      {
        status: res.status,
        set: res.set,
        with: withIds,
        runs: res.runs,
        cacheHits: res.cacheHits,
        unresolved: res.unresolved,
        full: res.full,
        tests: res.tests,
      },
      null,
      2,
    ));
  }
  if (res.status === "full-not-good") {
    throw new InputError(
      `nothing to minimize: the whole series${withText} is not good (${res.full.detail})`,
    );
  }
  if (opts.json) return;
  const titles = pluginTitles();
  const width = Math.max(0, ...res.set.map((id) => id.length));
  print(
    `1-minimal set: ${res.set.length} of ${items.length} patches${
      withIds.length ? ` (with ${withIds.join(", ")} at every step)` : ""
    }`,
    ...(res.set.length
      ? res.set.map((id) => `  ${id.padEnd(width)}  ${titles.get(id) ?? ""}`)
      : ["  (none: the 4.13 baseline is already good)"]),
    `${res.runs} ${seedCount > 1 ? `sets run on ${seedCount} seeds each` : "runs"}, ` +
      `${res.cacheHits} cache hits, ${res.unresolved} sets that would not build (not run)`,
  );
}
