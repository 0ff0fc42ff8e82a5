/**
 * Workers that judge fuzz cases under a wall-clock limit: a case still running after
 * `timeoutMs` is a hang — its worker is terminated and replaced — and a worker that dies
 * (an uncaught error outside the judge, a stack overflow the judge could not catch) is a
 * crash of its case.
 */
import type { Outcome } from "./judge.ts";
import type { FuzzCase } from "./scenario-arb.ts";

interface Slot {
  worker: Worker;
  busy: boolean;
}

/** A pool of fuzz workers. */
export class FuzzPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private nextId = 0;

  constructor(size: number, private readonly timeoutMs: number) {
    for (let i = 0; i < size; i++) this.slots.push({ worker: FuzzPool.spawn(), busy: false });
  }

  private static spawn(): Worker {
    return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  /**
   * Judges one case in a worker; a hang or a dead worker is an outcome too. `ms`: the
   * wall-clock time the case took in its worker.
   */
  async run(fuzzCase: FuzzCase): Promise<{ outcome: Outcome; ms: number }> {
    const slot = await this.acquire();
    const id = this.nextId++;
    const t0 = performance.now();
    const outcome = await new Promise<Outcome>((resolve) => {
      const w = slot.worker;
      const done = (o: Outcome, replace: boolean) => {
        clearTimeout(timer);
        w.onmessage = null;
        w.onerror = null;
        if (replace) {
          w.terminate();
          slot.worker = FuzzPool.spawn();
        }
        resolve(o);
      };
      const timer = setTimeout(() =>
        done({
          kind: "hang",
          detail: `still running after ${this.timeoutMs / 1000} s of wall-clock time`,
        }, true), this.timeoutMs);
      w.onmessage = (e: MessageEvent<{ id: number; outcome: Outcome }>) => {
        if (e.data.id === id) done(e.data.outcome, false);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        done({ kind: "crash", detail: `the worker died: ${e.message}` }, true);
      };
      w.postMessage({ id, fuzzCase });
    });
    this.release(slot);
    return { outcome, ms: performance.now() - t0 };
  }

  /** Terminates every worker. */
  close(): void {
    for (const s of this.slots) s.worker.terminate();
  }
}
