/**
 * The options of commands that run over seeds: `--seeds SPEC` (N = seeds 1..N, A..B, comma
 * lists), `--workers N`, `--judge SPEC` (what "good" means over the seeds: `clean`, parts like
 * `dump-ok+no-fault`, optionally `>=P%`) and `run`'s `--gate [SPEC]` (the exit status says
 * whether the runs met the judge).
 *
 * @module
 */
import { InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@^14";
import { InputError } from "../lab/input.ts";
import { type JudgeSpec, parseJudge } from "../lab/judge.ts";
import { parseSeeds } from "../lab/seeds.ts";
import { wholeNumber } from "./scenario-options.ts";

/** Exit status of `run --gate` when the runs do not meet the judge. */
export const EXIT_GATE_FAILED = 3;
/** Exit status of `run --gate` when the series would not build (nothing was simulated). */
export const EXIT_GATE_SKIPPED = 4;

/** Turns a lab InputError into commander's usage error (one line, exit 2). */
function asArgument<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InputError) throw new InvalidArgumentError(e.message.replace(/^--\w+: /, ""));
    throw e;
  }
}

/**
 * Parses a `--seeds` value as a command-line argument.
 *
 * @throws {InvalidArgumentError} for a bad spec (commander's usage error, exit 2)
 */
export function parseSeedsArg(value: string): number[] {
  return asArgument(() => parseSeeds(value));
}

/** `--seeds SPEC`. */
export function seedsOption() {
  return new Option(
    "--seeds <spec>",
    "run over these seeds: N (1..N), A..B, or a comma list (1..10,20); replaces --seed",
  ).argParser(parseSeedsArg).conflicts("seed");
}

/**
 * Parses `--workers N`: a whole number from 1 to 256.
 *
 * @throws {InvalidArgumentError} otherwise
 */
export function parseWorkers(value: string): number {
  const n = wholeNumber(value);
  if (!(n >= 1 && n <= 256)) {
    throw new InvalidArgumentError("expected a whole number from 1 to 256");
  }
  return n;
}

/** `--workers N`. */
export function workersOption() {
  return new Option("--workers <n>", "worker threads (default: the number of cores)").argParser(
    parseWorkers,
  );
}

/** `--judge SPEC`. */
export function judgeOption() {
  return new Option(
    "--judge <spec>",
    "what good means: clean (default: dump-ok, no IO_PAGE_FAULT, no stray write, on every " +
      "seed), or parts joined with + (dump-ok, no-fault, no-stray), optionally >=P% (dump-ok>=99%)",
  ).argParser((v): JudgeSpec => asArgument(() => parseJudge(v)));
}

/** `--gate [SPEC]` (run only). */
export function gateOption() {
  return new Option(
    "--gate [spec]",
    `exit ${EXIT_GATE_FAILED} unless the runs meet SPEC (default clean), ` +
      `${EXIT_GATE_SKIPPED} if the series would not build`,
  ).argParser((v): JudgeSpec => asArgument(() => parseJudge(v, "--gate")));
}
