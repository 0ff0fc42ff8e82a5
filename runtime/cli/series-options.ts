/**
 * The options that choose the plugin series of a run: `--series SPEC`, `--replace ID=FILE`,
 * `--plugin FILE` placed by `--before ID` / `--after ID`, `--order IDS`, `--disable ID`,
 * `--force`; and `--plugin FILE` alone for the commands that list plugins and hook points.
 *
 * Placement rule: `--before` and `--after` place the `--plugin` given just before them on the
 * command line, one placement per `--plugin`; a `--plugin` without one is appended.
 *
 * @module
 */
import { InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@^14";
import { seriesFromRecipe, type SeriesRecipe } from "../lab/batch.ts";

/** A `--plugin FILE` and its placement, in command-line order. */
export interface PluginArg {
  file: string;
  before?: string;
  after?: string;
}

/** A `--replace ID=FILE`. */
export interface ReplaceArg {
  id: string;
  file: string;
}

/** Appends to a repeatable option's list (without changing the default). */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * Parses a comma list of plugin ids (`--order a,b,c`).
 *
 * @throws {InvalidArgumentError} for an empty list or an empty item
 */
export function parseIdList(value: string): string[] {
  const ids = value.split(",").map((s) => s.trim());
  if (ids.some((id) => id === "")) {
    throw new InvalidArgumentError("expected a comma list of plugin ids, e.g. a,b,c");
  }
  return ids;
}

/**
 * Parses one `--replace ID=FILE` and appends it to the list.
 *
 * @throws {InvalidArgumentError} when there is no `=` or either side is empty
 */
function parseReplace(value: string, previous: ReplaceArg[]): ReplaceArg[] {
  const eq = value.indexOf("=");
  const id = value.slice(0, eq).trim(), file = value.slice(eq + 1).trim();
  if (eq < 0 || !id || !file) throw new InvalidArgumentError("expected ID=FILE");
  return [...previous, { id, file }];
}

/** `--series SPEC` (default `none`, the 4.13 baseline). */
export function seriesOption() {
  return new Option(
    "--series <spec>",
    'plugins to apply: "all" (the 12 patches), "later" (upstream\'s later fixes), "none" ' +
      '(the 4.13 baseline) or a comma list of ids where "all" and "later" may appear, e.g. ' +
      "all,later,bnx2-no-kdump-wait",
  ).default("none");
}

/**
 * `--plugin FILE` with `--before ID` / `--after ID`. The three options share one list, filled
 * in command-line order, so a placement belongs to the `--plugin` just before it.
 */
export function pluginPlacementOptions() {
  const files: PluginArg[] = [];
  const place = (how: "before" | "after") => (id: string): PluginArg[] => {
    const last = files.at(-1);
    if (!last) throw new InvalidArgumentError(`--${how} places a --plugin FILE given before it`);
    if (last.before !== undefined || last.after !== undefined) {
      throw new InvalidArgumentError(
        `--plugin ${last.file} is already placed (one --before or --after per --plugin)`,
      );
    }
    last[how] = id;
    return files;
  };
  return {
    plugin: new Option(
      "--plugin <file>",
      "add the plugin a TypeScript file default-exports (definePlugin); appended unless " +
        "--before/--after follows it (repeatable)",
    ).argParser((file): PluginArg[] => {
      files.push({ file });
      return files;
    }),
    before: new Option("--before <id>", "place the preceding --plugin just before plugin ID")
      .argParser(place("before")),
    after: new Option("--after <id>", "place the preceding --plugin just after plugin ID")
      .argParser(place("after")),
  };
}

/** `--replace ID=FILE` (repeatable). */
export function replaceOption() {
  return new Option(
    "--replace <id=file>",
    "replace plugin ID by the plugin in FILE, in the same place (repeatable)",
  ).argParser(parseReplace).default([] as ReplaceArg[]);
}

/** `--order IDS`. */
export function orderOption() {
  return new Option("--order <ids>", "run these ids first, in this order, then the rest")
    .argParser(parseIdList);
}

/** `--disable ID` (repeatable). */
export function disableOption() {
  return new Option("--disable <id>", "leave plugin ID out of the run (repeatable)")
    .argParser(collect).default([] as string[]);
}

/** `--force`. */
export function forceOption() {
  return new Option("--force", "run even when plugins' dependencies are missing");
}

/** `--plugin FILE` for listings (repeatable, no placement). */
export function listPluginOption() {
  return new Option("--plugin <file>", "include the plugin a TypeScript file exports (repeatable)")
    .argParser(collect).default([] as string[]);
}

/** The help text that explains how the series options combine. */
export const SERIES_HELP = `
How the series is built:
  It starts from --series (default "none": the 4.13 baseline), then
  1. --replace ID=FILE puts the plugin in FILE in the place of ID;
  2. each --plugin FILE is added at the end, or just before / after the plugin named by
     the --before ID / --after ID that follows it on the command line (one per --plugin);
     a file whose id --series names keeps that place unless --before/--after moves it;
  3. --order IDS runs these ids first, in that order, then the rest in theirs;
  4. --disable ID leaves a plugin out.
  A series with missing dependencies is skipped (verdict "skipped"; the summary names what
  is missing) unless --force runs it anyway.

Examples:
  kdump-lab run --series all,bnx2-no-kdump-wait
  kdump-lab run --series all --disable helper-functions --force
  kdump-lab run --series all --plugin ./my-fix.ts --after copy-dev-tables
  kdump-lab run --series all --replace copy-dev-tables=./my-copy.ts`;

/** The series options as commander parsed them. */
export interface SeriesOpts {
  series: string;
  replace: ReplaceArg[];
  plugin?: PluginArg[];
  order?: string[];
  disable: string[];
}

/** The series the options describe, as plain data (what workers receive). */
export function recipeFromOptions(opts: SeriesOpts): SeriesRecipe {
  return {
    spec: opts.series,
    plugins: (opts.plugin ?? []).map((p) => ({ ...p })),
    replace: opts.replace.map((r) => ({ ...r })),
    order: opts.order,
    disable: opts.disable,
  };
}

/**
 * Loads the plugin files the options name and builds the series.
 *
 * @throws {InputError} for a bad file, an unknown id or an impossible placement (one line)
 */
export function seriesFromOptions(opts: SeriesOpts) {
  return seriesFromRecipe(recipeFromOptions(opts));
}
