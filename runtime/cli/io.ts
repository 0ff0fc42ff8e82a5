/**
 * Terminal input and output for commands: stdout lines, stderr lines, stdin text, the width.
 *
 * Everything a command prints on stdout goes through {@link writeStdout}, which reports a
 * failed write as a {@link StdoutError}: a reader that closed the pipe early (`| head -1`,
 * EPIPE), a full disk (ENOSPC) or any other write error ends the command with one line on
 * stderr and exit code 1 (see `errors.ts`), never a stack trace and never a silent exit 0
 * (`console.log` ignores a broken pipe and would let the command run on for nothing).
 *
 * @module
 */
import { InputError, readFailure } from "../lab/input.ts";

/**
 * Stdout could not be written: the reader closed the pipe, the disk is full, …. The message is
 * one line, e.g. `cannot write to stdout: broken pipe (its reader closed it)`.
 */
export class StdoutError extends Error {
  override readonly name = "StdoutError";
}

/** How stdout's bytes are written: all of them, or an error. Tests replace it. */
export type StdoutSink = (bytes: Uint8Array) => void;

/** Writes every byte to the process's stdout, synchronously (so lines keep their order). */
function processStdout(bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += Deno.stdout.writeSync(bytes.subarray(off));
}

let sink: StdoutSink = processStdout;

/**
 * Replaces the sink behind {@link writeStdout} (tests simulate write errors with it) and returns
 * the previous one.
 */
export function setStdoutSink(next: StdoutSink): StdoutSink {
  const previous = sink;
  sink = next;
  return previous;
}

/** Why a write to stdout failed, in a few words. */
function stdoutFailure(e: unknown): string {
  if (e instanceof Deno.errors.BrokenPipe) return "broken pipe (its reader closed it)";
  return readFailure(e, "write");
}

/**
 * Writes text to stdout as is (no newline added).
 *
 * @throws {StdoutError} when stdout cannot be written
 */
export function writeStdout(text: string): void {
  try {
    sink(new TextEncoder().encode(text));
  } catch (e) {
    if (e instanceof StdoutError) throw e;
    throw new StdoutError(`cannot write to stdout: ${stdoutFailure(e)}`);
  }
}

/**
 * Writes lines to stdout.
 *
 * @throws {StdoutError} when stdout cannot be written
 */
export function print(...lines: string[]): void {
  if (lines.length) writeStdout(lines.map((l) => `${l}\n`).join(""));
}

/** Writes one line to stderr. */
export function printErr(line: string): void {
  console.error(line);
}

/** The width for tables and columns: the terminal's (at least 80) on a terminal, else 120. */
export function terminalWidth(): number {
  try {
    if (Deno.stdout.isTerminal()) return Math.max(80, Deno.consoleSize().columns);
  } catch {
    // not a console
  }
  return 120;
}

/**
 * Reads all of stdin as text, for values pasted from a log.
 *
 * @param missing the error message when stdin is a terminal (nothing was piped in)
 * @throws {InputError} when stdin is a terminal
 */
export async function readStdin(missing: string): Promise<string> {
  if (Deno.stdin.isTerminal()) throw new InputError(missing);
  return await new Response(Deno.stdin.readable).text();
}
