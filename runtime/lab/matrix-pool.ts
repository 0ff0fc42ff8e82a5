/**
 * Running a matrix: in Deno Workers (one per core by default) fed in chunks — each worker
 * works through a contiguous share of the run indices and then helps with the others'
 * (runtime/lab/shares.ts), chunks shrinking towards the end so the workers finish together —
 * or in this thread (`workers: 0`). Result lines are sorted by index, so the output does not
 * depend on the number of workers or on who ran what. What a worker simulated goes to the
 * others too, so a run any worker could reuse is not simulated twice (except by a worker busy
 * with a chunk when it was learnt).
 *
 * @module
 */
import { InputError } from "./input.ts";
import { Shares } from "./shares.ts";
import { type Shard, shardIndices, shardText } from "./matrix.ts";
import { type MatrixFile, matrixHeader } from "./matrix-jsonl.ts";
import {
  checkConfig,
  type MatrixConfig,
  type MatrixLine,
  matrixLine,
  type MatrixOutcome,
  matrixRunner,
  shortCause,
} from "./matrix-run.ts";
import type { ReuseEntry } from "./reuse.ts";
import { resolve } from "node:path";
import { DEFAULT_LIMITS, faultVerdict, type SandboxFault, SandboxWorker } from "./sandbox.ts";

/** A message from the parent to a matrix worker. */
export type ToWorker =
  | { type: "init"; config: MatrixConfig }
  | { type: "run"; indices: number[] }
  | { type: "learn"; entries: ReuseEntry<MatrixOutcome>[] };

/** A message from a matrix worker to the parent. */
export type FromWorker =
  | { type: "ready" }
  | { type: "fault"; fault: SandboxFault }
  | {
    type: "lines";
    lines: MatrixLine[];
    /** Of these, the runs that got an earlier run's line. */
    reused: number;
    /** The runs simulated for them, for the other workers. */
    learnt: ReuseEntry<MatrixOutcome>[];
  }
  | { type: "error"; input: boolean; message: string };

/** Options of {@link runIndices} and {@link runMatrix}. */
export interface PoolOptions {
  /**
   * Workers to start (default `navigator.hardwareConcurrency`, never more than there are
   * runs); 0 runs everything in this thread.
   */
  workers?: number;
  /** Called as runs finish, with how many more did. */
  onProgress?: (finished: number) => void;
}

/** The lines of some runs of a matrix, sorted by index. */
export interface PoolResult {
  /** One line per run, sorted by index. */
  lines: MatrixLine[];
  /** How many of them got an earlier run's line instead of a simulation. */
  reused: number;
}

/** The largest chunk of runs a worker is given at a time. */
const MAX_CHUNK = 32;

/** The default number of workers: the cores this process may use. */
export function defaultWorkers(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/**
 * Runs the given run indices of a matrix and returns their lines sorted by index.
 *
 * @throws {InputError} for a bad config or plugin file (checked before any worker starts)
 */
export async function runIndices(
  config: MatrixConfig,
  indices: readonly number[],
  opts: PoolOptions = {},
): Promise<PoolResult> {
  const sandboxed = (config.plugins ?? []).length > 0;
  // Checks everything in this thread first — but users' plugin files load only in sandboxes.
  const runner = sandboxed ? (checkConfig(config), undefined) : await matrixRunner(config);
  let workers = Math.min(opts.workers ?? defaultWorkers(), indices.length);
  if (sandboxed && indices.length) workers = Math.max(1, workers);
  let r: PoolResult;
  if (workers <= 0) {
    r = { lines: [], reused: 0 };
    for (const i of indices) {
      r.lines.push(runner!.run(i));
      opts.onProgress?.(1);
    }
    r.reused = runner!.reused;
  } else r = await inWorkers(config, indices, workers, opts.onProgress);
  r.lines.sort((a, b) => a.index - b.index);
  return r;
}

/** A Worker, or a sandbox host in a Worker's shape. */
type PoolWorker = Worker | SandboxWorker;

/**
 * How a worker is sent a message that gets no answer ("learn"): a Worker's postMessage; a
 * sandbox host's `tell`, since its postMessage restarts the time limit of the run it is on.
 */
type Tell = (message: ToWorker) => void;

/**
 * Runs `indices` in `count` workers fed from a queue. A matrix with users' plugin files runs
 * in sandbox hosts, one run a message (the time limit is per run); a run that breaks a limit
 * gets a line with its fault's verdict, and a new host takes the dead one's place.
 */
async function inWorkers(
  config: MatrixConfig,
  indices: readonly number[],
  count: number,
  onProgress?: (n: number) => void,
): Promise<PoolResult> {
  const lines: MatrixLine[] = [];
  let reused = 0;
  /** The workers started so far, each with how it is told things. */
  const pool = new Map<PoolWorker, Tell>();
  const files = (config.plugins ?? []).map((p) => resolve(Deno.cwd(), p.file));
  const sandboxed = files.length > 0;
  const plan = checkConfig(config).plan;
  const pending = new Map<PoolWorker, number[]>();
  const ready = new WeakSet<PoolWorker>();
  const shares = new Shares(indices, count);
  /** Each worker's share (a new host takes the share of the one it replaces). */
  const home = new Map<PoolWorker, number>();
  let busy = count;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: PoolWorker) => {
        const left = shares.left;
        if (left === 0) {
          w.terminate();
          if (--busy === 0) resolve();
          return;
        }
        const max = sandboxed ? 1 : MAX_CHUNK;
        const size = Math.max(1, Math.min(max, Math.floor(left / (count * 4))));
        const chunk = shares.take(home.get(w)!, size);
        const msg: ToWorker = { type: "run", indices: chunk };
        pending.set(w, chunk);
        w.postMessage(msg);
      };
      const faulted = (w: PoolWorker, fault: SandboxFault) => {
        const chunk = pending.get(w);
        if (!ready.has(w) || chunk === undefined) {
          reject(new InputError(fault.message)); // loading the plugin files broke a limit
          return;
        }
        pending.delete(w);
        for (const index of chunk) {
          lines.push(matrixLine(plan.at(index), {
            verdict: faultVerdict(fault),
            ioPageFaults: 0,
            faultsPrinted: 0,
            faultsSuppressed: 0,
            strayWriteCount: 0,
            badPages: 0,
            cause: shortCause(fault.message),
          }));
        }
        onProgress?.(chunk.length);
        start(home.get(w)!); // a new host takes its place: it says "ready", then gets work
      };
      const start = (share: number): PoolWorker => {
        let w: PoolWorker;
        if (sandboxed) {
          const host = new SandboxWorker("matrix", {
            files,
            limits: config.sandbox ?? DEFAULT_LIMITS,
          });
          pool.set(host, (m) => host.tell(m));
          w = host;
        } else {
          const worker = new Worker(new URL("./matrix-worker.ts", import.meta.url), {
            type: "module",
          });
          pool.set(worker, (m) => worker.postMessage(m));
          w = worker;
        }
        home.set(w, share);
        w.onmessage = (e: MessageEvent<FromWorker>) => {
          const m = e.data;
          if (m.type === "error") {
            reject(m.input ? new InputError(m.message) : new Error(`matrix worker: ${m.message}`));
            return;
          }
          if (m.type === "fault") return faulted(w, m.fault);
          if (m.type === "ready") ready.add(w);
          if (m.type === "lines") {
            pending.delete(w);
            lines.push(...m.lines);
            reused += m.reused;
            if (m.learnt.length) {
              const learn: ToWorker = { type: "learn", entries: m.learnt };
              for (const [other, tell] of pool) {
                if (other !== w && ready.has(other)) tell(learn);
              }
            }
            onProgress?.(m.lines.length);
          }
          feed(w);
        };
        w.onerror = (e: ErrorEvent) => {
          e.preventDefault();
          reject(new Error(`matrix worker failed: ${e.message}`));
        };
        w.onmessageerror = () => reject(new Error("matrix worker: a message could not be read"));
        const init: ToWorker = { type: "init", config };
        w.postMessage(init);
        return w;
      };
      for (let n = 0; n < count; n++) start(n);
    });
  } finally {
    for (const w of pool.keys()) w.terminate();
  }
  if (lines.length !== indices.length) {
    throw new Error(`matrix workers returned ${lines.length} lines for ${indices.length} runs`);
  }
  return { lines, reused };
}

/** Options of {@link runMatrix}. */
export interface RunMatrixOptions extends PoolOptions {
  /** Run only this shard's indices (see {@link shardIndices}). */
  shard?: Shard;
}

/** A matrix as run: its file, and how many runs were reused rather than simulated. */
export interface MatrixResult extends MatrixFile {
  /** Runs that got an earlier run's line (see runtime/lab/reuse.ts); 0 with `reuse: false`. */
  reused: number;
}

/**
 * Runs a matrix (or one shard of it) and returns its header and result lines, sorted by
 * index: what {@link formatJsonl} writes.
 *
 * @throws {InputError} for a bad config or plugin file
 */
export async function runMatrix(
  config: MatrixConfig,
  opts: RunMatrixOptions = {},
): Promise<MatrixResult> {
  const c = checkConfig(config);
  const indices = shardIndices(c.plan.size, opts.shard);
  const { lines, reused } = await runIndices(config, indices, opts);
  return { header: matrixHeader(c, opts.shard && shardText(opts.shard)), lines, reused };
}
