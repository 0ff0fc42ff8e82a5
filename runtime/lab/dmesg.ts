/**
 * Reading values out of text pasted from a kernel log.
 *
 * Linux prints a device table entry as four lines, `AMD-Vi: DTE[0]: 6000003f9e2a0603` ..
 * `DTE[3]: …`, behind whatever prefix the log adds (a `[    1.234567]` timestamp, a
 * `pci 0000:00:00.2: ` device prefix, a syslog header).
 *
 * @module
 */
import { InputError, parseHex, parseHexList } from "./input.ts";

const DTE_LINE = /DTE\[(\d+)\]\s*:\s*(\S*)/;

/** Number of 64-bit words in a DTE. */
const DTE_WORDS = 4;

/**
 * The four 64-bit words of one DTE from pasted text: either dmesg lines `DTE[i]: <hex>` (other
 * lines are ignored; `DTE[3]` may be missing and is then 0), or, when the text has no such
 * line, three or four whitespace-separated hexadecimal words.
 *
 * @throws {InputError} when no entry is found, a word is missing, repeated with another value
 *   or not hexadecimal
 */
export function dteWordsFromText(text: string): bigint[] {
  const found = new Map<number, bigint>();
  for (const line of text.split(/\r?\n/)) {
    const m = DTE_LINE.exec(line);
    if (!m) continue;
    const index = Number(m[1]);
    const name = `DTE[${m[1]}]`;
    if (index >= DTE_WORDS) throw new InputError(`${name}: a DTE has only DTE[0]..DTE[3]`);
    const value = parseHex(m[2], name, 64);
    const seen = found.get(index);
    if (seen !== undefined && seen !== value) {
      throw new InputError(`${name} appears twice with different values; paste one entry`);
    }
    found.set(index, value);
  }
  if (found.size > 0) {
    const words: bigint[] = [];
    for (let i = 0; i < DTE_WORDS; i++) {
      const v = found.get(i);
      if (v === undefined && i < DTE_WORDS - 1) throw new InputError(`DTE[${i}] line is missing`);
      words.push(v ?? 0n);
    }
    return words;
  }
  const tokens = text.split(/\s+/).filter((t) => t !== "");
  if (tokens.length === 0) {
    throw new InputError('no DTE on stdin: expected W0 W1 W2 [W3] or lines "AMD-Vi: DTE[0]: …"');
  }
  return dteWords(tokens);
}

/**
 * Parses three or four DTE words given as tokens (`word 0` .. `word 3`); a missing fourth word
 * is 0.
 *
 * @throws {InputError} on a wrong count or a bad token
 */
export function dteWords(tokens: readonly string[]): bigint[] {
  if (tokens.length < DTE_WORDS - 1 || tokens.length > DTE_WORDS) {
    throw new InputError(`expected 3 or 4 DTE words (W0 W1 W2 [W3]), got ${tokens.length}`);
  }
  const words = parseHexList(tokens, "word", 64);
  while (words.length < DTE_WORDS) words.push(0n);
  return words;
}
