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
import type { Series } from "../plugin/mod.ts";
import { InputError } from "./input.ts";
import type { PluginFileArg } from "./matrix-run.ts";
import { buildSeries, loadPluginFile, seriesIds } from "./plugins.ts";
import type { Report } from "./report.ts";
import { run } from "./run.ts";
import { parseScenario, type Scenario, type ScenarioInput } from "./scenario.ts";
import { type SweepRun, sweepRun } from "./sweep.ts";

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
  recipe: SeriesRecipe;
  /** Run series whose dependencies are missing instead of skipping them. */
  force?: boolean;
  /** Return each run's whole Report, not only its row (for predicates that read reports). */
  reports?: boolean;
}

/** One run of a batch. */
export interface BatchJob {
  seed: number;
  /**
   * The patches of the series this run applies (the others are disabled; plugins that are
   * not patches of the series — driver plugins, plugin files — always apply). Absent: all.
   */
  only?: string[];
}

/** What one run gave. */
export interface BatchResult {
  row: SweepRun;
  /** The applied series. */
  series: string[];
  cause: string;
  /** The whole report, when the config asked for it. */
  report?: Report;
}

/** Runs jobs of one config (in this thread). */
export type BatchRunner = (job: BatchJob) => BatchResult;

/**
 * Prepares the runs of a batch: parses the scenario once, builds the series once (loading
 * plugin files). Workers call it with the config the parent posted.
 *
 * @throws {InputError} for a bad scenario, plugin file or series edit
 */
export async function batchRunner(config: BatchConfig): Promise<BatchRunner> {
  const scenario: Scenario = parseScenario(config.scenario);
  const base = await seriesFromRecipe(config.recipe);
  const patches = seriesIds();
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
    };
  };
}

/** A message from the parent to a batch worker. */
export type ToBatchWorker =
  | { type: "init"; config: BatchConfig }
  | { type: "run"; first: number; jobs: BatchJob[] };

/** A message from a batch worker to the parent. */
export type FromBatchWorker =
  | { type: "ready" }
  | { type: "results"; first: number; results: BatchResult[] }
  | { type: "error"; input: boolean; message: string };

/** The default number of workers: the cores this process may use. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** The largest chunk of jobs a worker is given at a time. */
const MAX_CHUNK = 16;

/** Options of a pool. */
export interface BatchPoolOptions {
  /** Workers (default: one per core); 0 runs everything in this thread. */
  workers?: number;
}

/** A pool of workers that runs batches of jobs of one config. */
export class BatchPool {
  private runner?: Promise<BatchRunner>;
  private workers: Worker[] = [];
  private readonly ready = new WeakSet<Worker>();
  private readonly max: number;

  constructor(private readonly config: BatchConfig, opts: BatchPoolOptions = {}) {
    this.max = opts.workers ?? defaultWorkers();
  }

  /** The in-thread runner (also checks the config: a bad one fails here, before any worker). */
  private local(): Promise<BatchRunner> {
    return this.runner ??= batchRunner(this.config);
  }

  /**
   * Runs `jobs` and returns their results in job order. One job, or a pool of 0 workers,
   * runs in this thread.
   *
   * @throws {InputError} for a bad config (scenario, plugin file, series edit)
   */
  async run(
    jobs: readonly BatchJob[],
    onProgress?: (finished: number) => void,
  ): Promise<BatchResult[]> {
    const runner = await this.local();
    const count = Math.min(this.max, jobs.length);
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

  private start(): Worker {
    const w = new Worker(new URL("./batch-worker.ts", import.meta.url), { type: "module" });
    const init: ToBatchWorker = { type: "init", config: this.config };
    w.postMessage(init);
    return w;
  }

  private inWorkers(
    jobs: readonly BatchJob[],
    pool: Worker[],
    onProgress?: (n: number) => void,
  ): Promise<BatchResult[]> {
    const out: BatchResult[] = new Array(jobs.length);
    let next = 0, done = 0;
    return new Promise<BatchResult[]>((resolve, reject) => {
      const fail = (e: Error) => {
        this.close();
        reject(e);
      };
      const feed = (w: Worker) => {
        const left = jobs.length - next;
        if (left === 0) return;
        const size = Math.max(1, Math.min(MAX_CHUNK, Math.floor(left / (pool.length * 4))));
        const msg: ToBatchWorker = {
          type: "run",
          first: next,
          jobs: jobs.slice(next, next + size),
        };
        next += size;
        w.postMessage(msg);
      };
      for (const w of pool) {
        w.onmessage = (e: MessageEvent<FromBatchWorker>) => {
          const m = e.data;
          if (m.type === "ready") {
            this.ready.add(w);
            return feed(w);
          }
          if (m.type === "error") {
            return fail(
              m.input ? new InputError(m.message) : new Error(`batch worker: ${m.message}`),
            );
          }
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
        // A worker kept from an earlier batch is idle: give it work now (a new one says
        // "ready" first).
        if (this.ready.has(w)) feed(w);
      }
    });
  }
}
