/**
 * A matrix worker (a Deno Worker started by `matrix-pool.ts`, or a sandbox host serving a
 * matrix with users' plugins): it receives the matrix's config once, loads the plugin files and
 * builds the series itself, then runs the chunks of run indices the parent sends and posts
 * their result lines back, one message per chunk, with the runs it simulated for the other
 * workers to reuse (the parent passes those on as "learn" messages).
 *
 * @module
 */
import { InputError } from "./input.ts";
import { type MatrixRunner, matrixRunner } from "./matrix-run.ts";
import type { FromWorker, ToWorker } from "./matrix-pool.ts";

/**
 * The message handler of a matrix worker, posting its answers with `post`.
 *
 * @param post how answers reach the parent (a Worker's postMessage, or a sandbox's pipe)
 */
export function serveMatrix(post: (message: FromWorker) => void): (msg: ToWorker) => Promise<void> {
  let runner: MatrixRunner | undefined;
  return async (msg) => {
    try {
      if (msg.type === "init") {
        runner = await matrixRunner(msg.config);
        post({ type: "ready" });
      } else {
        if (!runner) throw new Error(`matrix worker: a "${msg.type}" arrived before the config`);
        if (msg.type === "learn") return runner.learn(msg.entries);
        const before = runner.reused;
        const lines = msg.indices.map((i) => runner!.run(i));
        post({ type: "lines", lines, reused: runner.reused - before, learnt: runner.takeLearnt() });
      }
    } catch (err) {
      post({
        type: "error",
        input: err instanceof InputError,
        message: err instanceof InputError
          ? err.message
          : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err),
      });
    }
  };
}

/** The worker's global scope, as much of it as this module uses. */
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  WorkerGlobalScope?: new () => unknown;
};

// Started as a Worker: serve the parent. (Imported by a sandbox host: it serves itself.)
if (scope.WorkerGlobalScope !== undefined && globalThis instanceof scope.WorkerGlobalScope) {
  const serve = serveMatrix((m) => scope.postMessage(m));
  scope.onmessage = (e) => void serve(e.data);
}
