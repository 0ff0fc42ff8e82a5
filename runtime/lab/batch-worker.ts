/**
 * A batch worker (a Deno Worker started by `batch.ts`, or a sandbox host serving a batch of
 * users' plugins): it receives the batch's config once, prepares its runner (scenario parsed,
 * plugin files loaded, series built), says "ready", then runs the chunks of jobs the parent
 * sends and posts their results back, one message a chunk.
 *
 * @module
 */
import {
  type BatchRunner,
  batchRunner,
  type FromBatchWorker,
  type ToBatchWorker,
} from "./batch.ts";
import { InputError } from "./input.ts";

/**
 * The message handler of a batch worker, posting its answers with `post`.
 *
 * @param post how answers reach the parent (a Worker's postMessage, or a sandbox's pipe)
 */
export function serveBatch(
  post: (message: FromBatchWorker) => void,
): (msg: ToBatchWorker) => Promise<void> {
  let runner: Promise<BatchRunner> | undefined;
  let series: string[] = [];
  return async (msg) => {
    try {
      if (msg.type === "init") {
        runner = batchRunner(msg.config, (ids) => (series = ids));
        await runner;
        post({ type: "ready", series });
      } else {
        if (!runner) throw new Error("batch worker: jobs arrived before the config");
        const run = await runner;
        post({ type: "results", first: msg.first, results: msg.jobs.map(run) });
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
  onmessage: ((e: MessageEvent<ToBatchWorker>) => void) | null;
  postMessage(message: FromBatchWorker): void;
  WorkerGlobalScope?: new () => unknown;
};

// Started as a Worker: serve the parent. (Imported by a sandbox host: it serves itself.)
if (scope.WorkerGlobalScope !== undefined && globalThis instanceof scope.WorkerGlobalScope) {
  const serve = serveBatch((m) => scope.postMessage(m));
  scope.onmessage = (e) => void serve(e.data);
}
