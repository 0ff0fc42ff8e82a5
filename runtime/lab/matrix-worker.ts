/**
 * A matrix worker (a Deno Worker started by `matrix-pool.ts`): it receives the matrix's
 * config once, loads the plugin files and builds the series itself, then runs the chunks of
 * run indices the parent sends and posts their result lines back, one message per chunk.
 *
 * @module
 */
import { InputError } from "./input.ts";
import { type MatrixRunner, matrixRunner } from "./matrix-run.ts";
import type { FromWorker, ToWorker } from "./matrix-pool.ts";

/** The worker's global scope, as much of it as this module uses. */
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
};

let runner: MatrixRunner | undefined;

scope.onmessage = async (e) => {
  const msg = e.data;
  try {
    if (msg.type === "init") {
      runner = await matrixRunner(msg.config);
      scope.postMessage({ type: "ready" });
    } else {
      if (!runner) throw new Error("matrix worker: a chunk arrived before the config");
      scope.postMessage({ type: "lines", lines: msg.indices.map((i) => runner!(i)) });
    }
  } catch (err) {
    scope.postMessage({
      type: "error",
      input: err instanceof InputError,
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  }
};
