/**
 * Terminal input and output for commands: stdout lines, stderr lines, stdin text, the width.
 *
 * @module
 */
import { InputError } from "../lab/input.ts";

/** Writes lines to stdout. */
export function print(...lines: string[]): void {
  for (const line of lines) console.log(line);
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
