/**
 * A fuzz worker: judges the cases it is sent, one at a time (see judge.ts), and answers
 * `{ id, outcome }`.
 */
/// <reference lib="deno.worker" />
import { judgeCase } from "./judge.ts";
import type { FuzzCase } from "./scenario-arb.ts";

self.onmessage = (e: MessageEvent<{ id: number; fuzzCase: FuzzCase }>) => {
  const { id, fuzzCase } = e.data;
  self.postMessage({ id, outcome: judgeCase(fuzzCase) });
};
