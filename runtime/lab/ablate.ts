/**
 * Leave-one-out over the series: the whole series plus the plugins applied at every step
 * (`--with`), then, for each patch, the same without it. A series that would not build
 * without the patch is not forced: its row is `skipped` and says who needs the patch.
 * Each row is compared with the whole series' run (the counters and key kernel messages of
 * {@link outcomeOf}).
 *
 * The rows are a list: the first has id `none` (nothing left out: the whole series), then one
 * per patch of the series, in series order, whose id is the patch left out.
 *
 * @module
 */
import { patchIds, pluginTitles, seriesIds } from "./plugins.ts";
import {
  checkWith,
  type RunFn,
  searchedIds,
  type SetPool,
  setSeries,
  setupEnabled,
  stepSeries,
} from "./probe.ts";
import type { Series } from "../plugin/mod.ts";
import type { Report } from "./report.ts";
import { run as labRun } from "./run.ts";
import { sweepRun } from "./sweep.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";
import {
  differences,
  type Outcome,
  outcomeOf,
  type OutcomeSweep,
  sweepDifferences,
  sweepOutcomes,
} from "./outcome.ts";

/** The id of the row that leaves nothing out. */
export const NOTHING_LEFT_OUT = "none";

/** A row's runs over several seeds (the row's own counters are its first seed's). */
export type AblationSweep = OutcomeSweep;

/** One row: the outcome with patch `id` left out (`none`: the whole series). */
export interface AblationRow extends Outcome {
  /** The patch left out, or `none` for the whole series. */
  id: string;
  /** Its title (for `none`: a description of the row). */
  title: string;
  /** The plugins of the run, in order. */
  series: string[];
  /** What differs from the whole series' run, in words; for a skipped row, who needs it. */
  changes: string[];
  /** For a skipped row: the plugins that cannot build without the patch. */
  neededBy: string[];
  /** The seed of the row's counters (the first of `seeds`). */
  seed: number;
  /** Over several seeds (`seeds`): the spread of the row's runs. */
  sweep?: AblationSweep;
}

/** Options of {@link ablate}. */
export interface AblateOptions {
  /** The scenario to run (a built-in or a parsed file). */
  scenario: ScenarioInput | Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Runs every row on each of these seeds (replaces `seed`). */
  seeds?: readonly number[];
  /** Plugins applied at every step (not left out). */
  with?: readonly string[];
  /** The run function (default the lab's). */
  run?: RunFn;
  /** The series every run starts from (see `stepSeries`); default: the series and `with`. */
  base?: Series;
  /**
   * Where the runs happen instead of this process (users' plugin files: sandbox hosts); it
   * carries its own base series, and `base` and `run` are not used.
   */
  pool?: SetPool;
  /** Progress: called after each row. */
  onRow?: (row: AblationRow, index: number, total: number) => void;
}

/** Runs the whole series, then the series without each patch (see the module documentation). */
export async function ablate(opts: AblateOptions): Promise<AblationRow[]> {
  const withIds = checkWith(opts.with ?? []);
  const run = opts.run ?? labRun;
  let scenario = opts.scenario;
  const titles = pluginTitles();
  // The patches every row starts from: the twelve, or what the base series enables of every
  // patch (the later fixes included).
  const all = setupEnabled(opts) ? patchIds() : seriesIds();
  const out = searchedIds(setupEnabled(opts), withIds);
  const total = out.length + 1;
  const rowFor = async (left: string | undefined, full?: AblationRow): Promise<AblationRow> => {
    const ids = all.filter((id) => id !== left);
    let reports: Report[];
    if (opts.pool) {
      const given = seeds.map((s) => s ?? parseScenario(scenario).seed);
      reports = await opts.pool.run([...ids, ...withIds], given);
    } else {
      const series = opts.base ? stepSeries(opts.base, ids, withIds) : setSeries(ids, withIds);
      if (run === labRun) scenario = parseScenario(scenario); // once: parsed, used as is
      reports = seeds.map((seed) => run(scenario, { series, seed }));
    }
    const report = reports[0];
    const o = outcomeOf(report);
    const sweep = reports.length > 1
      ? sweepOutcomes(reports.map(sweepRun), reports.map(outcomeOf))
      : undefined;
    const neededBy = [...new Set(report.missing.map((m) => m.plugin))];
    const changes = !full
      ? []
      : o.verdict === "skipped"
      ? [`would not build: needed by ${neededBy.join(", ")}`]
      : sweep && full.sweep
      ? sweepDifferences(full.sweep, sweep)
      : differences(full, o);
    return {
      id: left ?? NOTHING_LEFT_OUT,
      title: left ? titles.get(left) ?? left : "the whole series (nothing left out)",
      series: report.series,
      ...o,
      changes,
      neededBy,
      seed: report.seed,
      ...(sweep ? { sweep } : {}),
    };
  };
  const seeds: (number | undefined)[] = opts.seeds?.length ? [...opts.seeds] : [opts.seed];
  const first = await rowFor(undefined);
  const rows = [first];
  opts.onRow?.(first, 0, total);
  for (const id of out) {
    const row = await rowFor(id, first);
    rows.push(row);
    opts.onRow?.(row, rows.length - 1, total);
  }
  return rows;
}
