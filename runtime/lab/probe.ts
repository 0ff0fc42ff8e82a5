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
import { builtinPlugins, laterIds, patchIds, seriesFromSpec, seriesIds } from "./plugins.ts";
import {
  DEFAULT_JUDGE,
  judgeRuns,
  type JudgeSpec,
  judgeSpecText,
  judgeText,
  meets,
} from "./judge.ts";
import type { Report } from "./report.ts";
import { sweepRun } from "./sweep.ts";
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
 * The default predicate, `clean` (see judge.ts): "good" when the dump is correct (verdict
 * `dump-ok`), the IOMMU logged no IO_PAGE_FAULT and no DMA write strayed; "skip" for a series
 * that was not run (`skipped`); else "bad".
 */
export function defaultJudge(report: Report): Judgement {
  return judgeRuns(DEFAULT_JUDGE, [sweepRun(report)]);
}

/**
 * The verdicts of a set's runs in one word: the verdict for one run, else each verdict with
 * its count out of the runs (`dump-ok:97/100,dump-corrupt:3/100`), most frequent first.
 */
export function verdictsWord(reports: readonly Report[]): string {
  if (reports.length === 1) return reports[0].verdict;
  const counts = new Map<string, number>();
  for (const r of reports) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([v, n]) => `${v}:${n}/${reports.length}`).join(",");
}

/**
 * A set's runs over several seeds in one line: the verdicts, how many seeds met the
 * criterion, and the first seed that did not (replay it with `--seed`).
 */
export function sweepDetail(reports: readonly Report[], criterion: JudgeSpec): string {
  const rows = reports.map(sweepRun);
  const met = rows.filter((r) => meets(criterion, r));
  const miss = rows.find((r) => !meets(criterion, r));
  const what = judgeSpecText({ ...criterion, atLeast: 1 });
  return `${verdictsWord(reports)}; ${what} on ${met.length}/${rows.length} ` +
    `seeds${
      miss ? ` (not on seed ${miss.seed}: ${reportDetail(reports[rows.indexOf(miss)])})` : ""
    }`;
}

/**
 * What a predicate's answers over a set's seeds come to: "bad" when any seed is bad, "good"
 * when every seed is good, else (some skipped, none bad) "skip".
 */
export function combineJudgements(js: readonly Judgement[]): Judgement {
  if (js.includes("bad")) return "bad";
  return js.every((j) => j === "good") ? "good" : "skip";
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
 * The series of a set of patch ids plus the `--with` plugins: the patches among them (the
 * series', then the later fixes) in upstream order, then the other `--with` plugins in the
 * order given.
 */
export function setSeries(ids: Iterable<string>, withIds: readonly string[] = []): Series {
  const wanted = new Set([...ids, ...withIds]);
  const order = patchIds();
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
  for (const id of patchIds()) if (!keep.has(id) && s.has(id)) s.disable(id);
  return s;
}

/**
 * The patches a base series applies (enabled), in upstream order — the series', then the
 * later fixes': what a search tries.
 *
 * @param enabled the ids the base series enables (undefined: no base, the twelve patches)
 */
export function searchedIds(
  enabled: readonly string[] | undefined,
  withIds: readonly string[] = [],
): string[] {
  if (!enabled) return seriesIds().filter((id) => !withIds.includes(id));
  const on = new Set(enabled);
  return patchIds().filter((id) => !withIds.includes(id) && on.has(id));
}

/**
 * The patches a series spec names (`all`, `later` and ids expanded), in upstream order,
 * without the `with` plugins and the disabled ones: what a search over `--series SPEC` tries,
 * known without loading any plugin file.
 */
export function specPatchIds(
  spec: string,
  withIds: readonly string[] = [],
  disable: readonly string[] = [],
): string[] {
  const named = new Set<string>();
  for (const raw of spec.split(",").map((x) => x.trim())) {
    if (raw === "all") seriesIds().forEach((id) => named.add(id));
    else if (raw === "later") laterIds().forEach((id) => named.add(id));
    else named.add(raw);
  }
  return patchIds().filter((id) => named.has(id) && !withIds.includes(id) && !disable.includes(id));
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
   * are not patches of the series always apply), once per seed, and gives the reports in the
   * order of `seeds`.
   */
  run(ids: readonly string[], seeds: readonly number[]): Promise<Report[]>;
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
  /**
   * The seeds every set runs on (default: `seed`, else the scenario's own); the set is
   * judged over all of them.
   */
  seeds?: readonly number[];
  /**
   * A predicate over each run's report (a `--run` script); over several seeds, see
   * {@link combineJudgements}. Without it the set is judged by `criterion`.
   */
  judge?: Judge;
  /** What good means over the seeds when there is no `judge` (default `clean`, see judge.ts). */
  criterion?: JudgeSpec;
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
 * the scenario (unforced) on each seed and judges the runs — or, when the runs were skipped
 * because dependencies are missing, answers "skip" with the cause.
 */
export function setProber(setup: ProbeSetup): (ids: Iterable<string>) => Promise<Tested> {
  const withIds = checkWith(setup.with ?? []);
  const criterion = setup.criterion ?? DEFAULT_JUDGE;
  const run = setup.run ?? labRun;
  let scenario = setup.scenario;
  const seeds: (number | undefined)[] = setup.seeds?.length ? [...setup.seeds] : [setup.seed];
  return async (ids) => {
    let reports: Report[];
    const set = [...ids];
    if (setup.pool) {
      const given = seeds.map((s) => s ?? parseScenario(scenario).seed);
      reports = await setup.pool.run([...set, ...withIds], given);
    } else {
      if (run === labRun) scenario = parseScenario(scenario); // once: parsed, used as is
      reports = seeds.map((seed) => {
        const series = setup.base ? stepSeries(setup.base, set, withIds) : setSeries(set, withIds);
        return run(scenario, { series, seed });
      });
    }
    if (reports.every((r) => r.verdict === "skipped")) {
      return { judgement: "skip", verdict: "skipped", detail: reports[0].cause };
    }
    let judgement: Judgement;
    if (setup.judge) {
      const js: Judgement[] = [];
      for (const r of reports) js.push(await setup.judge(r));
      judgement = combineJudgements(js);
    } else judgement = judgeRuns(criterion, reports.map(sweepRun));
    return {
      judgement,
      verdict: verdictsWord(reports),
      detail: reports.length === 1 ? reportDetail(reports[0]) : sweepDetail(reports, criterion),
    };
  };
}

/** The criterion a search judges by, in words (for help and headers). */
export function criterionText(setup: Pick<ProbeSetup, "judge" | "criterion">): string {
  return setup.judge ? "the --run script's answer" : judgeText(setup.criterion ?? DEFAULT_JUDGE);
}
