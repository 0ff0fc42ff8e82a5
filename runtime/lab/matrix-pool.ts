/**
 * Running a matrix: in Deno Workers (one per core by default) fed from a work queue — each
 * idle worker gets the next chunk of run indices, chunks shrinking towards the end so the
 * workers finish together — or in this thread (`workers: 0`). Result lines are sorted by
 * index, so the output does not depend on the number of workers or on who ran what.
 *
 * @module
 */
import { InputError } from "./input.ts";
import { type Shard, shardIndices, shardText } from "./matrix.ts";
import { type MatrixFile, matrixHeader } from "./matrix-jsonl.ts";
import { checkConfig, type MatrixConfig, type MatrixLine, matrixRunner } from "./matrix-run.ts";

/** A message from the parent to a matrix worker. */
export type ToWorker =
  | { type: "init"; config: MatrixConfig }
  | { type: "run"; indices: number[] };

/** A message from a matrix worker to the parent. */
export type FromWorker =
  | { type: "ready" }
  | { type: "lines"; lines: MatrixLine[] }
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
): Promise<MatrixLine[]> {
  const runner = await matrixRunner(config); // checks everything in this thread first
  const workers = Math.min(opts.workers ?? defaultWorkers(), indices.length);
  let lines: MatrixLine[];
  if (workers <= 0) {
    lines = [];
    for (const i of indices) {
      lines.push(runner(i));
      opts.onProgress?.(1);
    }
  } else lines = await inWorkers(config, indices, workers, opts.onProgress);
  return lines.sort((a, b) => a.index - b.index);
}

/** Runs `indices` in `count` workers fed from a queue. */
async function inWorkers(
  config: MatrixConfig,
  indices: readonly number[],
  count: number,
  onProgress?: (n: number) => void,
): Promise<MatrixLine[]> {
  const lines: MatrixLine[] = [];
  const pool: Worker[] = [];
  let next = 0;
  let busy = count;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        const left = indices.length - next;
        if (left === 0) {
          w.terminate();
          if (--busy === 0) resolve();
          return;
        }
        const size = Math.max(1, Math.min(MAX_CHUNK, Math.floor(left / (count * 4))));
        const msg: ToWorker = { type: "run", indices: indices.slice(next, next + size) };
        next += size;
        w.postMessage(msg);
      };
      for (let n = 0; n < count; n++) {
        const w = new Worker(new URL("./matrix-worker.ts", import.meta.url), { type: "module" });
        pool.push(w);
        w.onmessage = (e: MessageEvent<FromWorker>) => {
          const m = e.data;
          if (m.type === "error") {
            reject(m.input ? new InputError(m.message) : new Error(`matrix worker: ${m.message}`));
            return;
          }
          if (m.type === "lines") {
            lines.push(...m.lines);
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
      }
    });
  } finally {
    for (const w of pool) w.terminate();
  }
  if (lines.length !== indices.length) {
    throw new Error(`matrix workers returned ${lines.length} lines for ${indices.length} runs`);
  }
  return lines;
}

/** Options of {@link runMatrix}. */
export interface RunMatrixOptions extends PoolOptions {
  /** Run only this shard's indices (see {@link shardIndices}). */
  shard?: Shard;
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
): Promise<MatrixFile> {
  const c = checkConfig(config);
  const indices = shardIndices(c.plan.size, opts.shard);
  const lines = await runIndices(config, indices, opts);
  return { header: matrixHeader(c, opts.shard && shardText(opts.shard)), lines };
}
