/**
 * Parsing of user-supplied values: hexadecimal numbers the way dmesg prints them (with or
 * without `0x`), the typed error every bad value raises, and how a file error is worded.
 *
 * @module
 */
import { splitQword } from "../hw/bits.ts";

/**
 * Bad input from a user (a value, a count of values, a pasted log, a scenario file). Each of
 * its problems is one line that names the offending value; front ends print them as they
 * are, one per line, without a stack trace. Most have one problem (the message); a scenario
 * file reports all of its problems at once.
 */
export class InputError extends Error {
  /** The error's name: "InputError". */
  override readonly name = "InputError";
  /** The problems, one line each (the message is them joined by line breaks). */
  readonly problems: readonly string[];

  /**
   * An error of one problem or several.
   *
   * @param problems one line, or several (one per problem)
   */
  constructor(problems: string | readonly string[]) {
    const lines = typeof problems === "string" ? [problems] : [...problems];
    super(lines.join("\n"));
    this.problems = lines;
  }
}

/**
 * Why a file could not be read (or, with `op` "write", written), in a few words, for messages
 * like `scenario file x.yaml: cannot read it: no such file`.
 */
export function readFailure(e: unknown, op: "read" | "write" = "read"): string {
  if (e instanceof Deno.errors.NotFound) {
    return op === "read" ? "no such file" : "no such directory";
  }
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  if (e instanceof TypeError && /utf-?8/i.test(e.message)) return "not UTF-8 text";
  // e.g. "No space left on device (os error 28)" → "no space left on device"
  const text = (e instanceof Error ? e.message : String(e)).split("\n")[0].trim()
    .replace(/:$/, "").replace(/\s*\(os error \d+\)$/, "");
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

const HEX = /^(?:0x)?([0-9a-f]+)$/i;

/**
 * Parses one hexadecimal value as dmesg prints it (`6000003f9e2a0603`, `0x00000010`).
 *
 * @param token the text as the user gave it
 * @param what how error messages name the value, e.g. `word 2`
 * @param bits the value must fit in this many bits (32 for a dword, 64 for a qword)
 * @throws {InputError} when the text is not hexadecimal or the value is wider than `bits`
 */
export function parseHex(token: string, what: string, bits: number): bigint {
  const m = HEX.exec(token);
  if (!m) throw new InputError(`${what} ${JSON.stringify(token)} is not hexadecimal`);
  const v = BigInt("0x" + m[1]);
  if (v >> BigInt(bits) !== 0n) {
    throw new InputError(`${what} ${JSON.stringify(token)} does not fit in ${bits} bits`);
  }
  return v;
}

/**
 * Packs 64-bit values into little-endian dwords (qword N becomes dwords 2N and 2N+1), the
 * storage order of every hardware layout.
 */
export function qwordsToDwords(qwords: readonly bigint[]): Uint32Array {
  const w = new Uint32Array(qwords.length * 2);
  qwords.forEach((q, i) => {
    const [lo, hi] = splitQword(q);
    w[2 * i] = lo;
    w[2 * i + 1] = hi;
  });
  return w;
}

/**
 * Parses a list of tokens as hexadecimal values of `bits` bits each; token `i` is named
 * `${noun} ${i}` in error messages.
 *
 * @throws {InputError} on the first bad token
 */
export function parseHexList(tokens: readonly string[], noun: string, bits: number): bigint[] {
  return tokens.map((t, i) => parseHex(t, `${noun} ${i}`, bits));
}
