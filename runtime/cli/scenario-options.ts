/**
 * The options that choose what a command runs — `--scenario NAME`, `--scenario-file PATH`,
 * `--seed N` — shared by `run` and the commands built on it.
 *
 * @module
 */
import { InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@^14";
import type { ScenarioInput } from "../lab/scenario.ts";
import { builtinScenario, scenarioNames } from "../lab/scenarios/mod.ts";

/** A non-negative decimal integer as a number (NaN for anything else, e.g. `-1`, `1e3`). */
export function wholeNumber(value: string): number {
  const text = value.trim();
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

/**
 * Parses a `--seed` value: a non-negative decimal integer (safe as a JS number).
 *
 * @throws {InvalidArgumentError} otherwise (commander prints it as one usage line, exit 2)
 */
export function parseSeed(value: string): number {
  const n = wholeNumber(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("the seed must be a non-negative integer");
  }
  return n;
}

/** `--scenario NAME`, a built-in scenario (default `default`). */
export function scenarioOption() {
  return new Option("--scenario <name>", `built-in scenario: ${scenarioNames().join(", ")}`)
    .default("default");
}

/** `--scenario-file PATH`, a JSON or YAML scenario; cannot be combined with `--scenario`. */
export function scenarioFileOption() {
  return new Option("--scenario-file <path>", "scenario from a .json, .yaml or .yml file")
    .conflicts("scenario");
}

/** `--seed N`, overriding the scenario's seed. */
export function seedOption() {
  return new Option("--seed <n>", "seed of the run (overrides the scenario's)").argParser(
    parseSeed,
  );
}

/**
 * The scenario the options name: the file when `scenarioFile` is given, else the built-in.
 *
 * @throws {InputError} for an unknown name or a bad file (one line, see scenario-source.ts)
 */
export async function resolveScenario(
  opts: { scenario: string; scenarioFile?: string },
): Promise<ScenarioInput> {
  // The file loader (and its YAML parser) is loaded only for a file: a cold `run` is faster.
  return opts.scenarioFile !== undefined
    ? await (await import("../lab/scenario-source.ts")).loadScenarioFile(opts.scenarioFile)
    : builtinScenario(opts.scenario);
}
