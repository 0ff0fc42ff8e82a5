/**
 * Running the runs of a matrix: what a matrix is asked to do ({@link MatrixConfig}, plain
 * data a Worker can receive), the series each run applies, and the compact result line a run
 * gives ({@link MatrixLine}) instead of its whole report.
 *
 * The series of run `i`: the whole series in series order, the `with` plugins (driver
 * plugins such as bnx2-no-kdump-wait, or series patches kept on in every run) and users' plugin
 * files added as `--plugin` adds them, then every series patch disabled that neither run `i`
 * nor `with` applies. Runs are not forced unless the config says so: `run()` skips a series
 * whose dependencies are missing (verdict "skipped", nothing simulated).
 *
 * A run whose plugins look the same as an earlier run's wherever that run reached (the same
 * handlers at every hook point it called, the same providers of every symbol it looked up,
 * the same version banner) gets that run's line without a simulation (runtime/lab/reuse.ts);
 * `reuse: false` simulates every run.
 *
 * @module
 */
import { formatZodError } from "./errors.ts";
import { InputError } from "./input.ts";
import { type MatrixMode, MatrixPlan, type MatrixRun } from "./matrix.ts";
import { buildSeries, loadPluginFile, patchIds } from "./plugins.ts";
import type { Series } from "../plugin/mod.ts";
import type { Verdict } from "./report.ts";
import { run } from "./run.ts";
import { parseScenario, type ScenarioInput, scenarioSchema } from "./scenario.ts";
import type { SandboxLimits } from "./sandbox.ts";
import { outcomeOf } from "./table.ts";
import { reached, type ReuseEntry, RunReuse } from "./reuse.ts";

/** A user's plugin file added to every run, placed like `--plugin FILE [--before|--after ID]`. */
export interface PluginFileArg {
  /** The plugin file's path. */
  file: string;
  /** The id of the plugin it goes before (`--before ID`). */
  before?: string;
  /** The id of the plugin it goes after (`--after ID`). */
  after?: string;
}

/** What a matrix runs. Plain data: it is posted to Workers as is. */
export interface MatrixConfig {
  /** The scenario, as written (a built-in's value or a parsed scenario file). */
  scenario: ScenarioInput;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** A matrix over seeds: every set runs on each of these (replaces `seed`). */
  seeds?: number[];
  /** `full` (every subset) or `pairwise`. */
  mode: MatrixMode;
  /** The toggled patches (default: the whole series). */
  patches?: string[];
  /** Plugin ids applied in every run (driver plugins, or series patches kept on). */
  with?: string[];
  /** Users' plugin files applied in every run. */
  plugins?: PluginFileArg[];
  /** Users' plugin files in place of plugins, in every run (`--replace ID=FILE`). */
  replace?: { id: string; file: string }[];
  /** Ids run first, in this order (`--order`). */
  order?: string[];
  /** Plugins off in every run (`--disable`). */
  disable?: string[];
  /** Run series whose dependencies are missing instead of skipping them. */
  force?: boolean;
  /** The limits users' plugin files run under (default: the sandbox's defaults). */
  sandbox?: SandboxLimits;
  /**
   * Give a run the line of an earlier run its plugins cannot tell apart from it (default
   * true; see runtime/lab/reuse.ts). False simulates every run.
   */
  reuse?: boolean;
}

/** The result of one run: a line of the matrix's JSONL. */
export interface MatrixLine {
  /** The run's position in the matrix (0-based). */
  index: number;
  /** Bitmask over every patch (bit j = the j-th of the series, then the later fixes). */
  mask: number;
  /** The toggled patches the run applied, in series order. */
  ids: string[];
  /** A matrix over seeds: the run's seed. */
  seed?: number;
  /** How the run ended. */
  verdict: Verdict;
  /** IO_PAGE_FAULTs the IOMMU logged. */
  ioPageFaults: number;
  /** IO_PAGE_FAULT lines the kernels printed. */
  faultsPrinted: number;
  /** IO_PAGE_FAULTs kept out of the log (DTE.SA and co.). */
  faultsSuppressed: number;
  /** Stray DMA writes. */
  strayWriteCount: number;
  /** Dump pages that differ from memory at the panic. */
  badPages: number;
  /** Why: the report's cause cut to its first clause (see {@link shortCause}). */
  cause: string;
}

/** The longest cause a line carries. */
const CAUSE_MAX = 120;

/** A cause cut to its first clause (before `; `) and to `max` characters. */
export function shortCause(cause: string, max = CAUSE_MAX): string {
  const first = cause.split("; ")[0];
  return first.length <= max ? first : first.slice(0, max - 1) + "…";
}

/** What a matrix keeps of a run to give it again: the line without the run's own fields. */
export type MatrixOutcome = Omit<MatrixLine, keyof MatrixRun>;

/** The outcome fields of `o` (which may carry more), in the JSONL order. */
export function matrixOutcome(o: MatrixOutcome): MatrixOutcome {
  return {
    verdict: o.verdict,
    ioPageFaults: o.ioPageFaults,
    faultsPrinted: o.faultsPrinted,
    faultsSuppressed: o.faultsSuppressed,
    strayWriteCount: o.strayWriteCount,
    badPages: o.badPages,
    cause: o.cause,
  };
}

/** A line with its keys in the JSONL order (so equal lines serialise to equal bytes). */
export function matrixLine(run: MatrixRun, o: MatrixOutcome): MatrixLine {
  return {
    index: run.index,
    mask: run.mask,
    ids: run.ids,
    ...(run.seed !== undefined ? { seed: run.seed } : {}),
    ...matrixOutcome(o),
  };
}

/** The config with its lists checked and filled in: what the JSONL header records. */
export interface CheckedConfig {
  scenario: ScenarioInput;
  /** The scenario's name. */
  name: string;
  /** The seed the runs use (over seeds: the first). */
  seed: number;
  /** A matrix over seeds: the seeds every set runs on. */
  seeds?: number[];
  mode: MatrixMode;
  patches: string[];
  with: string[];
  plugins: PluginFileArg[];
  replace: { id: string; file: string }[];
  order: string[];
  disable: string[];
  force: boolean;
  plan: MatrixPlan;
}

/**
 * Checks a config without loading plugin files: the patches, the `with` ids (none twice, none
 * also toggled), the scenario. An unknown `with` id is refused by {@link matrixRunner}, which
 * knows the plugin files' ids too.
 *
 * @throws {InputError} one line naming the bad value
 */
export function checkConfig(config: MatrixConfig): CheckedConfig {
  const plan = new MatrixPlan(config.mode, config.patches, config.seeds);
  const withIds = config.with ?? [];
  const seen = new Set<string>();
  for (const id of withIds) {
    if (seen.has(id)) throw new InputError(`--with: plugin "${id}" named twice`);
    if (plan.patches.includes(id)) {
      throw new InputError(`--with: "${id}" is toggled by the matrix; it cannot also be always on`);
    }
    seen.add(id);
  }
  const parsed = scenarioSchema.safeParse(config.scenario);
  if (!parsed.success) throw new InputError(formatZodError("scenario", parsed.error));
  return {
    scenario: config.scenario,
    name: parsed.data.name,
    seed: config.seeds?.length ? config.seeds[0] : config.seed ?? parsed.data.seed,
    ...(config.seeds?.length ? { seeds: [...config.seeds] } : {}),
    mode: config.mode,
    patches: [...plan.patches],
    with: [...withIds],
    plugins: (config.plugins ?? []).map((p) => ({ ...p })),
    replace: (config.replace ?? []).map((r) => ({ ...r })),
    order: [...(config.order ?? [])],
    disable: [...(config.disable ?? [])],
    force: config.force ?? false,
    plan,
  };
}

/** Runs the runs of one matrix by index (one per worker). */
export interface MatrixRunner {
  /** The line of run `index`: simulated, or an earlier run's that it cannot differ from. */
  run(index: number): MatrixLine;
  /** Runs so far that got an earlier run's line instead of a simulation. */
  readonly reused: number;
  /** The runs simulated since the last call, as another worker's runner can {@link learn} them. */
  takeLearnt(): ReuseEntry<MatrixOutcome>[];
  /** Remembers runs another worker's runner simulated. */
  learn(entries: readonly ReuseEntry<MatrixOutcome>[]): void;
}

/**
 * Prepares the runs of a matrix: checks the config, loads the plugin files and builds the
 * series every run starts from. Workers call it with the config the parent posted.
 *
 * @throws {InputError} for a bad config, an unknown `with` id, a bad plugin file or placement
 */
export async function matrixRunner(config: MatrixConfig): Promise<MatrixRunner> {
  const c = checkConfig(config);
  const series = patchIds();
  const add = [];
  for (const p of c.plugins) {
    add.push({ plugin: await loadPluginFile(p.file), before: p.before, after: p.after });
  }
  const replace = [];
  for (const r of c.replace) replace.push({ id: r.id, plugin: await loadPluginFile(r.file) });
  const extra = c.with.filter((id) => !series.includes(id));
  const base = buildSeries({
    spec: ["all", "later", ...extra].join(","),
    add,
    replace,
    order: c.order,
    disable: c.disable,
  });
  const always = c.with.filter((id) => series.includes(id));
  const scenario = parseScenario(c.scenario); // once per worker (checkConfig validated it)
  const memo = config.reuse === false ? undefined : new RunReuse<MatrixOutcome>();
  let learnt: ReuseEntry<MatrixOutcome>[] = [];
  return {
    run(index) {
      const r = c.plan.at(index);
      const series = seriesOf(base, always, r);
      const seed = r.seed ?? c.seed;
      const resolved = series.resolve();
      // A run that is skipped (nothing simulated) is neither looked up nor kept.
      const reusable = memo !== undefined && (c.force || resolved.missing.length === 0);
      const known = reusable ? memo.find(seed, resolved.plugins) : undefined;
      if (known !== undefined) return matrixLine(r, known);
      const seen = reusable ? reached() : undefined;
      const report = run(scenario, { series, seed, force: c.force, reached: seen });
      const outcome = matrixOutcome({
        ...outcomeOf(report),
        verdict: report.verdict,
        cause: shortCause(report.cause),
      });
      if (seen !== undefined) {
        const e = memo!.add(seed, resolved.plugins, seen, outcome);
        if (e !== undefined) learnt.push(e);
      }
      return matrixLine(r, outcome);
    },
    get reused() {
      return memo?.hits ?? 0;
    },
    takeLearnt() {
      const out = learnt;
      learnt = [];
      return out;
    },
    learn(entries) {
      for (const e of entries) memo?.learn(e);
    },
  };
}

/** The series of one run: `base` with every series patch off that neither applies. */
function seriesOf(base: Series, always: readonly string[], r: MatrixRun): Series {
  const s = base.clone();
  for (const id of patchIds()) if (!r.ids.includes(id) && !always.includes(id)) s.disable(id);
  return s;
}
