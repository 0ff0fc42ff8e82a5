/**
 * Seed lists, as `--seeds` takes them: `N` is seeds 1..N, `A..B` the seeds from A to B, and a
 * comma list combines both (`1..10,20,30..32`). The list is sorted and each seed appears once,
 * so the same seeds give the same result whatever order they were written in.
 *
 * @module
 */
import { InputError } from "./input.ts";

/** The most seeds one list may hold. */
export const MAX_SEEDS = 100_000;

/**
 * Parses a seed list.
 *
 * @throws {InputError} one line naming the bad part
 */
export function parseSeeds(spec: string, what = "--seeds"): number[] {
  const text = spec.trim();
  if (!text) throw new InputError(`${what}: empty (give N, A..B or a comma list)`);
  const seeds = new Set<number>();
  const num = (s: string, part: string): number => {
    if (!/^\d+$/.test(s)) {
      throw new InputError(`${what}: "${part}" is not N, A..B or a seed (whole numbers ≥ 0)`);
    }
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new InputError(`${what}: ${s} is too large`);
    return n;
  };
  const add = (from: number, to: number, part: string) => {
    if (to < from) throw new InputError(`${what}: "${part}" runs backwards`);
    if (to - from + 1 + seeds.size > MAX_SEEDS) {
      throw new InputError(`${what}: more than ${MAX_SEEDS} seeds`);
    }
    for (let s = from; s <= to; s++) seeds.add(s);
  };
  const parts = text.split(",").map((p) => p.trim());
  for (const part of parts) {
    if (!part) throw new InputError(`${what}: an empty item in "${spec}"`);
    const range = /^(\S+?)\s*\.\.\s*(\S+)$/.exec(part);
    if (range) add(num(range[1], part), num(range[2], part), part);
    else if (parts.length === 1) {
      const n = num(part, part);
      if (n === 0) throw new InputError(`${what}: 0 seeds (N means seeds 1..N)`);
      add(1, n, part);
    } else {
      const n = num(part, part);
      add(n, n, part);
    }
  }
  return [...seeds].sort((a, b) => a - b);
}

/** A seed list in its shortest form: `1..100`, `3`, `1..10,20`. */
export function seedsText(seeds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seeds.length;) {
    let j = i;
    while (j + 1 < seeds.length && seeds[j + 1] === seeds[j] + 1) j++;
    parts.push(j === i ? String(seeds[i]) : `${seeds[i]}..${seeds[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
