/**
 * Running many runs of one scenario: a batch is a configuration (the scenario, the series as
 * a plain-data recipe, whether to force) and jobs (a seed each, and optionally which patches
 * of the series the job applies). Jobs run in Deno Workers — one per core by default — or in
 * this thread; results come back in job order, so they do not depend on the number of
 * workers or on who ran what. A pool keeps its workers between batches of jobs (a bisect
 * sends one batch per step).
 *
 * @module
 */
import { resolve } from "node:path";
import type { Series } from "../plugin/mod.ts";
import { InputError } from "./input.ts";
import type { PluginFileArg } from "./matrix-run.ts";
import { buildSeries, loadPluginFile, patchIds } from "./plugins.ts";
import { type Outcome, outcomeOf } from "./outcome.ts";
import type { Report } from "./report.ts";
import { run } from "./run.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";
import { type SweepRun, sweepRun } from "./sweep.ts";
import {
  DEFAULT_LIMITS,
  faultReport,
  type SandboxFault,
  type SandboxLimits,
  SandboxWorker,
} from "./sandbox.ts";

/** A series as plain data (what a Worker can receive): a spec and the edits on it. */
export interface SeriesRecipe {
  /** A series spec: `all`, `none`, ids (`all,bnx2-no-kdump-wait`). */
  spec: string;
  /** Plugin files added, placed like `--plugin FILE [--before|--after ID]`. */
  plugins?: PluginFileArg[];
  /** Plugins replaced by the plugin of a file, like `--replace ID=FILE`. */
  replace?: { id: string; file: string }[];
  /** Ids to put first, like `--order`. */
  order?: string[];
  /** Ids to disable, like `--disable`. */
  disable?: string[];
}

/** The users' files a recipe names (plugin files, replacements): its code to sandbox. */
export function recipeFiles(r: SeriesRecipe): string[] {
  return [...(r.plugins ?? []).map((p) => p.file), ...(r.replace ?? []).map((x) => x.file)];
}

/** Builds the series of a recipe (loading its plugin files). */
export async function seriesFromRecipe(r: SeriesRecipe): Promise<Series> {
  const add = [];
  for (const p of r.plugins ?? []) {
    add.push({ plugin: await loadPluginFile(p.file), before: p.before, after: p.after });
  }
  const replace = [];
  for (const x of r.replace ?? []) {
    replace.push({ id: x.id, plugin: await loadPluginFile(x.file) });
  }
  return buildSeries({ spec: r.spec, add, replace, order: r.order, disable: r.disable });
}

/** What a batch runs. Plain data: it is posted to Workers as is. */
export interface BatchConfig {
  /** The scenario, as written (a built-in's value or a parsed scenario file). */
  scenario: ScenarioInput;
  /** The series every job starts from. */
  recipe: SeriesRecipe;
  /** Run series whose dependencies are missing instead of skipping them. */
  force?: boolean;
  /** Return each run's whole Report, not only its row (for predicates that read reports). */
  reports?: boolean;
  /** Return each run's outcome (verdict, counters, key messages: what the table compares). */
  outcomes?: boolean;
  /**
   * The limits users' code runs under (default {@link DEFAULT_LIMITS}). A config whose recipe
   * names users' files always runs in sandbox hosts, never in this process.
   */
  sandbox?: SandboxLimits;
}

/** One run of a batch. */
export interface BatchJob {
  /** The seed of the run. */
  seed: number;
  /**
   * The patches of the series this run applies (the others are disabled; plugins that are
   * not patches of the series — driver plugins, plugin files — always apply). Absent: all.
   */
  only?: string[];
}

/** What one run gave. */
export interface BatchResult {
  /** The run's counters (its sweep row). */
  row: SweepRun;
  /** The applied series. */
  series: string[];
  /** Why the verdict is what it is (the report's cause). */
  cause: string;
  /** The whole report, when the config asked for it. */
  report?: Report;
  /** The run's outcome, when the config asked for it. */
  outcome?: Outcome;
}

/** Runs jobs of one config (in this thread). */
export type BatchRunner = (job: BatchJob) => BatchResult;

/**
 * Prepares the runs of a batch: parses the scenario once, builds the series once (loading
 * plugin files). Workers call it with the config the parent posted.
 *
 * @throws {InputError} for a bad scenario, plugin file or series edit
 */
export async function batchRunner(
  config: BatchConfig,
  onSeries?: (ids: string[]) => void,
): Promise<BatchRunner> {
  const scenario: Scenario = parseScenario(config.scenario);
  const base = await seriesFromRecipe(config.recipe);
  onSeries?.(base.resolve().plugins.map((p) => p.id));
  const patches = patchIds();
  return (job) => {
    let series = base;
    if (job.only) {
      series = base.clone();
      for (const id of patches) if (!job.only.includes(id) && series.has(id)) series.disable(id);
    }
    const report = run(scenario, { series, seed: job.seed, force: config.force });
    return {
      row: sweepRun(report),
      series: report.series,
      cause: report.cause,
      ...(config.reports ? { report } : {}),
      ...(config.outcomes ? { outcome: outcomeOf(report) } : {}),
    };
  };
}

/** A message from the parent to a batch worker. */
export type ToBatchWorker =
  | { type: "init"; config: BatchConfig }
  | { type: "run"; first: number; jobs: BatchJob[] };

/** A message from a batch worker to the parent. */
export type FromBatchWorker =
  | { type: "ready"; series?: string[] }
  | { type: "fault"; fault: SandboxFault }
  | { type: "results"; first: number; results: BatchResult[] }
  | { type: "error"; input: boolean; message: string };

/** The default number of workers: the cores this process may use. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** The largest chunk of jobs a worker is given at a time. */
const MAX_CHUNK = 16;

/**
 * Without an explicit worker count, a worker is started for every this many jobs (at most one
 * per core): starting one (loading the modules, warming the JIT) costs about as much as ~100
 * runs, so 100 seeds run faster in this thread than spread over two fresh workers
 * (tests/bench/sweep.bench.ts).
 */
const JOBS_PER_WORKER = 150;

/** Options of a pool. */
export interface BatchPoolOptions {
  /**
   * Workers (default: one per core, and one per 150 jobs of a batch — fewer jobs run in this
   * thread); 0 runs everything in this thread.
   */
  workers?: number;
}

/** A Worker, or a sandbox host in a Worker's shape. */
type PoolWorker = Worker | SandboxWorker;

/**
 * A pool of workers that runs batches of jobs of one config. A config whose recipe names
 * users' files runs in sandbox hosts (subprocesses with no permission beyond reading those
 * files, under the config's limits), one job a message so the time limit is per run; a run
 * that breaks a limit gets a report with its fault's verdict and the pool starts a new host.
 */
export class BatchPool {
  private runner?: Promise<BatchRunner>;
  private workers: PoolWorker[] = [];
  private readonly ready = new WeakSet<PoolWorker>();
  private readonly max: number;
  /** Whether the worker count was given (else it follows the batch's size). */
  private readonly explicit: boolean;
  /** The users' files of the config (none: Workers, or this thread). */
  private readonly files: string[];
  /** The series a sandbox host said the config builds (for the reports of faults). */
  private series: string[] = [];

  /** A pool for `config`'s runs; no worker starts before the first {@link BatchPool.run}. */
  constructor(private readonly config: BatchConfig, opts: BatchPoolOptions = {}) {
    this.max = opts.workers ?? defaultWorkers();
    this.explicit = opts.workers !== undefined;
    this.files = recipeFiles(config.recipe);
  }

  /** Whether the config's runs are sandboxed (it names users' files). */
  get sandboxed(): boolean {
    return this.files.length > 0;
  }

  /** The in-thread runner (also checks the config: a bad one fails here, before any worker). */
  private local(): Promise<BatchRunner> {
    return this.runner ??= batchRunner(this.config, (ids) => (this.series = ids));
  }

  /**
   * The ids of the plugins the config's series applies, in run order — built where its runs
   * are: in this thread, or (sandboxed) in a sandbox host, so users' files never load here.
   *
   * @throws {InputError} for a bad config (scenario, plugin file, series edit)
   */
  async enabledIds(): Promise<string[]> {
    if (!this.sandboxed) {
      await this.local();
      return [...this.series];
    }
    if (this.workers.length === 0) this.workers.push(this.start());
    const w = this.workers[0];
    if (!this.ready.has(w)) {
      await new Promise<void>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<FromBatchWorker>) => {
          const m = e.data;
          if (m.type === "ready") {
            this.ready.add(w);
            if (m.series) this.series = m.series;
            return resolve();
          }
          this.close();
          reject(
            m.type === "fault"
              ? new InputError(m.fault.message)
              : m.type === "error" && m.input
              ? new InputError(m.message)
              : new Error(`batch worker: ${m.type === "error" ? m.message : m.type}`),
          );
        };
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          this.close();
          reject(new Error(`batch worker failed: ${e.message}`));
        };
      });
    }
    return [...this.series];
  }

  /**
   * Runs `jobs` and returns their results in job order. One job, or a pool of 0 workers,
   * runs in this thread — unless the config is sandboxed: then always in sandbox hosts.
   *
   * @throws {InputError} for a bad config (scenario, plugin file, series edit)
   */
  async run(
    jobs: readonly BatchJob[],
    onProgress?: (finished: number) => void,
  ): Promise<BatchResult[]> {
    if (this.sandboxed) {
      if (jobs.length === 0) return [];
      const count = Math.max(1, Math.min(this.max, jobs.length));
      while (this.workers.length < count) this.workers.push(this.start());
      return await this.inWorkers(jobs, this.workers.slice(0, count), onProgress);
    }
    const runner = await this.local();
    const wanted = this.explicit ? jobs.length : Math.ceil(jobs.length / JOBS_PER_WORKER);
    // Workers started for an earlier batch are warm: use them.
    const count = Math.min(this.max, jobs.length, Math.max(wanted, this.workers.length));
    if (count <= 1) {
      return jobs.map((j) => {
        const r = runner(j);
        onProgress?.(1);
        return r;
      });
    }
    while (this.workers.length < count) this.workers.push(this.start());
    return await this.inWorkers(jobs, this.workers.slice(0, count), onProgress);
  }

  /** Stops the workers. */
  close(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  /** Starts a worker (a sandbox host when sandboxed) and sends it the config. */
  private start(): PoolWorker {
    const w: PoolWorker = this.sandboxed
      ? new SandboxWorker("batch", {
        files: this.files.map((f) => resolve(Deno.cwd(), f)),
        limits: this.config.sandbox ?? DEFAULT_LIMITS,
      })
      : new Worker(new URL("./batch-worker.ts", import.meta.url), { type: "module" });
    const init: ToBatchWorker = { type: "init", config: this.config };
    w.postMessage(init);
    return w;
  }

  /** The result of a job a fault ended. */
  private faulted(job: BatchJob, fault: SandboxFault): BatchResult {
    const scenario = parseScenario(this.config.scenario);
    const series = job.only
      ? this.series.filter((id) => job.only!.includes(id) || !patchIds().includes(id))
      : this.series;
    const report = faultReport({ scenario: scenario.name, seed: job.seed, series }, fault);
    return {
      row: sweepRun(report),
      series: report.series,
      cause: report.cause,
      ...(this.config.reports ? { report } : {}),
      ...(this.config.outcomes ? { outcome: outcomeOf(report) } : {}),
    };
  }

  /**
   * Runs `jobs` on the workers of `pool`, a chunk of jobs at a time per worker (one job at a
   * time in sandbox hosts); results in job order.
   */
  private inWorkers(
    jobs: readonly BatchJob[],
    pool: PoolWorker[],
    onProgress?: (n: number) => void,
  ): Promise<BatchResult[]> {
    const out: BatchResult[] = new Array(jobs.length);
    let next = 0, done = 0;
    const chunkMax = this.sandboxed ? 1 : MAX_CHUNK;
    /** What each worker is running: the index of its chunk's first job, and its size. */
    const pending = new Map<PoolWorker, { first: number; size: number }>();
    return new Promise<BatchResult[]>((resolve, reject) => {
      const fail = (e: Error) => {
        this.close();
        reject(e);
      };
      const feed = (w: PoolWorker) => {
        const left = jobs.length - next;
        if (left === 0) return;
        const size = Math.max(1, Math.min(chunkMax, Math.floor(left / (pool.length * 4))));
        const msg: ToBatchWorker = {
          type: "run",
          first: next,
          jobs: jobs.slice(next, next + size),
        };
        pending.set(w, { first: next, size });
        next += size;
        w.postMessage(msg);
      };
      const listen = (w: PoolWorker) => {
        w.onmessage = (e: MessageEvent<FromBatchWorker>) => {
          const m = e.data;
          if (m.type === "ready") {
            this.ready.add(w);
            if (m.series) this.series = m.series;
            return feed(w);
          }
          if (m.type === "error") {
            return fail(
              m.input ? new InputError(m.message) : new Error(`batch worker: ${m.message}`),
            );
          }
          if (m.type === "fault") {
            const job = pending.get(w);
            if (!this.ready.has(w) || job === undefined) {
              // Loading the plugin files broke a limit: no run can start.
              return fail(new InputError(m.fault.message));
            }
            pending.delete(w);
            for (let i = job.first; i < job.first + job.size; i++) {
              out[i] = this.faulted(jobs[i], m.fault);
            }
            done += job.size;
            onProgress?.(job.size);
            // A new host takes the dead one's place (it says "ready", then gets work).
            const fresh = this.start();
            this.workers = this.workers.map((x) => (x === w ? fresh : x));
            pool[pool.indexOf(w)] = fresh;
            listen(fresh);
            if (done === jobs.length) resolve(out);
            return;
          }
          pending.delete(w);
          m.results.forEach((r, i) => (out[m.first + i] = r));
          done += m.results.length;
          onProgress?.(m.results.length);
          if (done === jobs.length) resolve(out);
          else feed(w);
        };
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          fail(new Error(`batch worker failed: ${e.message}`));
        };
      };
      for (const w of pool) {
        listen(w);
        // A worker kept from an earlier batch is idle: give it work now (a new one says
        // "ready" first).
        if (this.ready.has(w)) feed(w);
      }
    });
  }
}
