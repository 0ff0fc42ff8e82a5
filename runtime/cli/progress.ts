/**
 * Progress of long work (the matrix, minimize): on a terminal a progress bar (npm
 * `cli-progress`) on stderr; otherwise plain lines on stderr at every tenth of the work,
 * `matrix: 410/4096 runs`. Progress never goes to stdout, which stays free for JSON and
 * JSONL. The bar is coloured by the rules of every command's colours (see `colors.ts`).
 *
 * ```ts
 * const progress = start(total, "matrix");
 * // … progress.tick(n) as work finishes …
 * progress.stop();
 * ```
 *
 * @module
 */
import process from "node:process";
import { ansis } from "./colors.ts";
import cliProgress from "npm:cli-progress@^3";

/** A running progress display. */
export interface Progress {
  /** Records `n` more units done (default 1). */
  tick(n?: number): void;
  /** Changes the total (work whose size is only bounded in advance, e.g. ddmin's tests). */
  setTotal(total: number): void;
  /** Ends the display (the bar stays on screen at its last value). Idempotent. */
  stop(): void;
}

/** Options of {@link start}. */
export interface ProgressOptions {
  /** What is counted, after the numbers (default `runs`). */
  unit?: string;
  /** Show nothing. */
  quiet?: boolean;
  /** Draw a bar (default: when stderr is a terminal). */
  tty?: boolean;
  /** Where plain lines go (default: stderr). */
  write?: (line: string) => void;
}

/** The part of cli-progress's SingleBar used here (the package ships no types). */
interface Bar {
  start(total: number, value: number): void;
  increment(n: number): void;
  setTotal(total: number): void;
  stop(): void;
}

/** Whether stderr is a terminal. */
function stderrIsTerminal(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** A display that shows nothing. */
const SILENT: Progress = { tick() {}, setTotal() {}, stop() {} };

/**
 * Starts showing progress towards `total` units of work, labelled `label` (e.g. `matrix`).
 */
export function start(total: number, label: string, opts: ProgressOptions = {}): Progress {
  if (opts.quiet || total <= 0) return SILENT;
  const unit = opts.unit ?? "runs";
  if (opts.tty ?? stderrIsTerminal()) return barProgress(total, label, unit);
  return lineProgress(total, label, unit, opts.write ?? ((l) => console.error(l)));
}

/** Plain lines at every tenth of `total` (and at the end). */
function lineProgress(
  total: number,
  label: string,
  unit: string,
  write: (line: string) => void,
): Progress {
  let done = 0;
  let tenth = 0; // tenths already reported
  let stopped = false;
  return {
    tick(n = 1) {
      if (stopped) return;
      done = Math.min(total, done + n);
      const reached = Math.floor((done * 10) / total);
      if (reached > tenth) {
        tenth = reached;
        write(`${label}: ${done}/${total} ${unit}`);
      }
    },
    setTotal(t: number) {
      if (stopped || t <= 0) return;
      total = t;
      done = Math.min(done, total);
      tenth = Math.floor((done * 10) / total);
    },
    stop() {
      stopped = true;
    },
  };
}

/** A cli-progress bar on stderr. */
function barProgress(total: number, label: string, unit: string): Progress {
  const bar = ansis.cyan("{bar}");
  const SingleBar = cliProgress.SingleBar as new (options: object, preset: object) => Bar;
  const b = new SingleBar({
    format: `${label} ${bar} {value}/{total} ${unit} | {percentage}% | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    barsize: 30,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  b.start(total, 0);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    b.stop();
    try {
      Deno.removeSignalListener("SIGINT", interrupted);
    } catch { /* not listening */ }
  };
  // Ctrl-C: give the cursor back before the process ends.
  const interrupted = () => {
    stop();
    Deno.exit(130);
  };
  try {
    Deno.addSignalListener("SIGINT", interrupted);
  } catch { /* signals not supported here */ }
  return {
    tick(n = 1) {
      if (!stopped) b.increment(n);
    },
    setTotal(t: number) {
      if (!stopped && t > 0) b.setTotal(t);
    },
    stop,
  };
}
