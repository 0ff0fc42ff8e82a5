/**
 * How `bisect`, `minimize` and `ablate` test a set of patches: the series a set of patch ids
 * makes (series order, then the plugins applied at every step, `--with`), one run of the
 * scenario with it, and a predicate over the Report that says "good", "bad" or "skip" — the
 * three answers `git bisect run` reads from a script.
 *
 * A set whose series has unmet dependencies (a patch that would not build) is not simulated:
 * `run()` gives it the verdict `skipped`, which is a "skip", with what is missing, and the
 * predicate is not asked.
 *
 * @module
 */
import type { Series } from "../plugin/mod.ts";
import { InputError } from "./input.ts";
import { builtinPlugins, seriesFromSpec, seriesIds } from "./plugins.ts";
import type { Report } from "./report.ts";
import { run as labRun, type RunOptions } from "./run.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";

/** What a predicate says of a run, in `git bisect run`'s terms. */
export type Judgement = "good" | "bad" | "skip";

/** A predicate over a run's report. */
export type Judge = (report: Report) => Judgement | Promise<Judgement>;

/** The run function (injectable, so tests and scripts can replace the simulation). */
export type RunFn = (scenario: ScenarioInput | Scenario, opts: RunOptions) => Report;

/** The result of testing one set of patches. */
export interface Tested {
  /** What the predicate said: good, bad, or skip. */
  judgement: Judgement;
  /** The run's verdict (`skipped` when the series would not build). */
  verdict: string;
  /** One line for people: the outcome's numbers, or why it was skipped. */
  detail: string;
}

/**
 * The default predicate: "good" when the dump is correct (verdict `dump-ok`) and the IOMMU
 * logged no IO_PAGE_FAULT; "skip" for a series that was not run (`skipped`); else "bad".
 */
export function defaultJudge(report: Report): Judgement {
  if (report.verdict === "skipped") return "skip";
  return report.verdict === "dump-ok" && report.events.IO_PAGE_FAULT === 0 ? "good" : "bad";
}

/**
 * A report in one line: verdict, IO_PAGE_FAULTs, stray writes, bad dump pages; for a run
 * users' code ended (`plugin-error`, `plugin-timeout`, `plugin-oom`), the verdict and who.
 */
export function reportDetail(report: Report): string {
  if (report.verdict === "skipped") return report.cause;
  if (report.verdict.startsWith("plugin-")) return `${report.verdict}: ${report.cause}`;
  const parts = [
    report.verdict,
    `${report.events.IO_PAGE_FAULT} IO_PAGE_FAULT logged`,
    `${report.strayWriteCount} stray writes`,
  ];
  if (report.dump?.badPages) parts.push(`${report.dump.badPages} bad dump pages`);
  return parts.join(", ");
}

/**
 * Checks the ids of the plugins applied at every step (`--with`): known plugins, each once.
 *
 * @throws {InputError} for an unknown or repeated id
 */
export function checkWith(ids: readonly string[]): string[] {
  const known = builtinPlugins();
  const seen = new Set<string>();
  for (const id of ids) {
    if (!known.has(id)) {
      throw new InputError(
        `--with: unknown plugin "${id}" (known: ${[...known.keys()].join(", ")})`,
      );
    }
    if (seen.has(id)) throw new InputError(`--with: plugin "${id}" named twice`);
    seen.add(id);
  }
  return [...ids];
}

/**
 * The series of a set of patch ids plus the `--with` plugins: the series' patches among them
 * in series order, then the other `--with` plugins in the order given.
 */
export function setSeries(ids: Iterable<string>, withIds: readonly string[] = []): Series {
  const wanted = new Set([...ids, ...withIds]);
  const order = seriesIds();
  const inSeries = order.filter((id) => wanted.has(id));
  const others = [...wanted].filter((id) => !order.includes(id));
  return seriesFromSpec([...inSeries, ...others].join(",") || "none");
}

/**
 * The series of a set of patch ids when the steps start from `base` (a series the series
 * options built: users' plugins added or in place of patches, an order, patches disabled):
 * `base` with every series patch that is neither in the set nor a `with` plugin disabled.
 */
export function stepSeries(
  base: Series,
  ids: Iterable<string>,
  withIds: readonly string[] = [],
): Series {
  const keep = new Set([...ids, ...withIds]);
  const s = base.clone();
  for (const id of seriesIds()) if (!keep.has(id) && s.has(id)) s.disable(id);
  return s;
}

/**
 * The series patches a base series applies (enabled), in series order: what a search tries.
 *
 * @param enabled the ids the base series enables (undefined: no base, every patch)
 */
export function searchedIds(
  enabled: readonly string[] | undefined,
  withIds: readonly string[] = [],
): string[] {
  const on = enabled ? new Set(enabled) : undefined;
  return seriesIds().filter((id) => !withIds.includes(id) && (!on || on.has(id)));
}

/**
 * Runs sets of patches somewhere other than in this process's series objects — in sandbox
 * hosts when the base series names users' plugin files (see `setPool` in set-pool.ts): the
 * runs of a search, with the base series built only where the runs happen.
 */
export interface SetPool {
  /** The ids of the plugins the base series enables, in run order. */
  readonly enabled: readonly string[];
  /**
   * Runs the scenario with the base series, its patches outside `ids` disabled (plugins that
   * are not patches of the series always apply), and gives the report.
   */
  run(ids: readonly string[]): Promise<Report>;
  /** Stops the pool's workers. */
  close(): void;
}

/** What to run a set of patches on. */
export interface ProbeSetup {
  /** The scenario (a built-in or a parsed file). */
  scenario: ScenarioInput | Scenario;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Plugins applied at every step (e.g. `bnx2-no-kdump-wait`). */
  with?: readonly string[];
  /** The predicate (default {@link defaultJudge}). */
  judge?: Judge;
  /** The run function (default the lab's `run`). */
  run?: RunFn;
  /**
   * The series every step starts from (see {@link stepSeries}); without it a step's series is
   * the set's patches and the `with` plugins (see {@link setSeries}).
   */
  base?: Series;
  /**
   * Where the sets run instead of this process (users' plugin files: sandbox hosts); it
   * carries its own base series, and `base` and `run` are not used.
   */
  pool?: SetPool;
}

/** The ids the steps of a search may try: the base's (pool's) enabled ones, or all. */
export function setupEnabled(setup: Pick<ProbeSetup, "base" | "pool">): string[] | undefined {
  return setup.pool ? [...setup.pool.enabled] : setup.base?.enabledIds();
}

/**
 * A function that tests a set of patch ids: builds its series with the `--with` plugins, runs
 * the scenario (unforced) and asks the predicate — or, when the run was skipped because
 * dependencies are missing, answers "skip" with the run's cause.
 */
export function setProber(setup: ProbeSetup): (ids: Iterable<string>) => Promise<Tested> {
  const withIds = checkWith(setup.with ?? []);
  const judge = setup.judge ?? defaultJudge;
  const run = setup.run ?? labRun;
  let scenario = setup.scenario;
  return async (ids) => {
    let report: Report;
    if (setup.pool) report = await setup.pool.run([...ids, ...withIds]);
    else {
      if (run === labRun) scenario = parseScenario(scenario); // once: parsed, used as is
      const series = setup.base ? stepSeries(setup.base, ids, withIds) : setSeries(ids, withIds);
      report = run(scenario, { series, seed: setup.seed });
    }
    if (report.verdict === "skipped") {
      return { judgement: "skip", verdict: "skipped", detail: report.cause };
    }
    return {
      judgement: await judge(report),
      verdict: report.verdict,
      detail: reportDetail(report),
    };
  };
}
