/**
 * How the command line reports errors.
 *
 * Bad input (unknown command or option, missing or malformed value) prints ONE line to stderr,
 * `kdump-lab: decode dte: word 2 "0xZZ" is not hexadecimal`, and exits with 2; no stack
 * trace; a scenario file with several problems prints one such line per problem. A write to
 * stdout that fails (its reader closed the pipe, the disk is full) prints one line and exits
 * with 1. Anything else is a bug in kdump-lab: its stack is printed and the exit code is 1.
 *
 * @module
 */
import { CommanderError, type CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { InputError } from "../lab/input.ts";
import { printErr, StdoutError, writeStdout } from "./io.ts";

/** Program name, the first word of every error line. */
export const PROGRAM = "kdump-lab";
/** Exit code for bad input or usage. */
const EXIT_USAGE = 2;
/** Exit code for an internal error (a bug) or output that could not be written. */
const EXIT_FAILURE = 1;

/** The words after the program name that select `cmd`, e.g. `decode dte` (root: empty). */
export function commandPath(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** One error line: `kdump-lab: <context>: <message>`, line breaks folded into spaces. */
export function errorLine(context: string, message: string): string {
  const text = message.replace(/^error:\s*/, "").split(/\s*\n\s*/).filter(Boolean).join(" ");
  return [PROGRAM, context, text].filter(Boolean).join(": ");
}

/**
 * Makes `cmd` and all its subcommands throw instead of exiting, and print commander's own usage
 * errors (unknown command, unknown option, missing argument) as one {@link errorLine} naming
 * the command. Call after every command has been registered.
 */
export function installUsageErrors(cmd: CommandUnknownOpts): void {
  const context = commandPath(cmd);
  cmd.exitOverride();
  cmd.configureOutput({
    // help and --version go through the one stdout writer (a closed pipe is one line, exit 1)
    writeOut: writeStdout,
    outputError: (str) => printErr(errorLine(context, str)),
  });
  for (const sub of cmd.commands) installUsageErrors(sub);
}

/**
 * Thrown by a command that finished its work and wants a particular exit status (`run --gate`
 * when the runs do not meet the judge); nothing more is printed.
 */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit status ${code}`);
  }
}

/**
 * The exit code for an error thrown while parsing or running a command; prints what the user
 * needs. Commander has already printed its own messages (see {@link installUsageErrors}).
 *
 * @param context the command that was running, e.g. `decode dte`
 */
export function exitCodeFor(err: unknown, context: string): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  if (err instanceof ExitStatus) return err.code;
  if (err instanceof InputError) {
    for (const problem of err.problems) printErr(errorLine(context, problem));
    return EXIT_USAGE;
  }
  if (err instanceof StdoutError) {
    printErr(errorLine(context, err.message));
    return EXIT_FAILURE;
  }
  printErr(errorLine(context, "internal error (a bug in kdump-lab)"));
  printErr(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return EXIT_FAILURE;
}
