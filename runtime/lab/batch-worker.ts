/**
 * A batch worker (a Deno Worker started by `batch.ts`): it receives the batch's config once,
 * prepares its runner (scenario parsed, plugin files loaded, series built), says "ready", then
 * runs the chunks of jobs the parent sends and posts their results back, one message a chunk.
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

/** The worker's global scope, as much of it as this module uses. */
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ToBatchWorker>) => void) | null;
  postMessage(message: FromBatchWorker): void;
};

let runner: Promise<BatchRunner> | undefined;

scope.onmessage = async (e) => {
  const msg = e.data;
  try {
    if (msg.type === "init") {
      runner = batchRunner(msg.config);
      await runner;
      scope.postMessage({ type: "ready" });
    } else {
      if (!runner) throw new Error("batch worker: jobs arrived before the config");
      const run = await runner;
      scope.postMessage({ type: "results", first: msg.first, results: msg.jobs.map(run) });
    }
  } catch (err) {
    scope.postMessage({
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
