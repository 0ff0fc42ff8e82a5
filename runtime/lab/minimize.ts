/**
 * The smallest set of patches that is still "good": Zeller and Hildebrandt's delta debugging
 * (ddmin) over the patches of the series, the plugins applied at every step (`--with`) kept
 * out of the search. The result is 1-minimal: taking any one patch out of it makes it not
 * good.
 *
 * Dependencies: a candidate set whose series would not build (a patch whose `requires` is
 * not in the set) is not run — the test answers "skip" with the verdict `skipped` — and counts
 * as "unresolved": not good. The search therefore only ends on sets that build, and
 * 1-minimality is about sets that build and pass. (The other choice, closing each candidate
 * over its dependencies, would test sets other than the ones ddmin asked about and blur what
 * "taking one patch out" means.)
 *
 * Every outcome is cached by its set (order does not matter), so a set is tested once;
 * cache hits are counted. Pure: the test is injected ({@link seriesMinimizer} wires the real
 * one, {@link setProber}, over the series).
 *
 * @module
 */
import {
  checkWith,
  type Judgement,
  type ProbeSetup,
  searchedIds,
  setProber,
  setupEnabled,
  type Tested,
} from "./probe.ts";

/** What a candidate set is. */
export type SetOutcome = "good" | "bad" | "unresolved";

/** One set that was looked at. */
export interface SetTest {
  /** The patch ids, in the items' order. */
  set: string[];
  /** Whether the set passes (good), fails (bad), or could not be judged (unresolved). */
  outcome: SetOutcome;
  /** Why: the run's outcome, or what is missing. */
  detail: string;
  /** The run's verdict (`skipped` when the set would not build). */
  verdict: string;
  /** True when the answer came from the cache. */
  cached: boolean;
}

/** Options of {@link minimize}. */
export interface MinimizeOptions {
  /** The items to minimize over, in series order (the `--with` plugins are not among them). */
  items: readonly string[];
  /**
   * Tests a set (called once per distinct set). A "skip" makes the set unresolved; with the
   * verdict `skipped` (it would not build) it is counted in `unresolved`, not in `runs`.
   */
  test: (set: readonly string[]) => Tested | Promise<Tested>;
  /** Progress: called for every set looked at (cached or not). */
  onTest?: (t: SetTest) => void;
}

/** The result of {@link minimize}. */
export interface MinimizeResult {
  /**
   * `minimized`: `set` is 1-minimal; `full-not-good`: the whole set is not good (or does not
   * build), so there is nothing to minimize and `set` is empty.
   */
  status: "minimized" | "full-not-good";
  /** The 1-minimal set, in the items' order. */
  set: string[];
  /** How the whole set came out. */
  full: SetTest;
  /** Sets that were run (tested, not skipped as unbuildable). */
  runs: number;
  /** Sets answered from the cache. */
  cacheHits: number;
  /** Distinct sets that would not build (not run). */
  unresolved: number;
  /** Every set looked at, in order. */
  tests: SetTest[];
}

const outcomeOf = (j: Judgement): SetOutcome => j === "skip" ? "unresolved" : j;

/** Splits `c` into `n` contiguous parts as equal as possible. */
export function split<T>(c: readonly T[], n: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < n; i++) {
    parts.push(c.slice(Math.floor((i * c.length) / n), Math.floor(((i + 1) * c.length) / n)));
  }
  return parts.filter((p) => p.length > 0);
}

/**
 * Runs ddmin (see the module documentation). The empty set is tested first: when it is good,
 * the answer is the empty set.
 */
export async function minimize(opts: MinimizeOptions): Promise<MinimizeResult> {
  const rank = new Map(opts.items.map((id, i) => [id, i]));
  const canonical = (set: readonly string[]) =>
    [...new Set(set)].sort((a, b) => rank.get(a)! - rank.get(b)!);
  const cache = new Map<string, SetTest>();
  const tests: SetTest[] = [];
  let runs = 0, cacheHits = 0, unresolved = 0;

  const look = async (set: readonly string[]): Promise<SetTest> => {
    const c = canonical(set);
    const key = c.join(",");
    const hit = cache.get(key);
    if (hit) {
      cacheHits++;
      const t = { ...hit, cached: true };
      tests.push(t);
      opts.onTest?.(t);
      return t;
    }
    const r = await opts.test(c);
    if (r.verdict === "skipped") unresolved++;
    else runs++;
    const t: SetTest = {
      set: c,
      outcome: outcomeOf(r.judgement),
      detail: r.detail,
      verdict: r.verdict,
      cached: false,
    };
    cache.set(key, t);
    tests.push(t);
    opts.onTest?.(t);
    return t;
  };
  const good = async (set: readonly string[]) => (await look(set)).outcome === "good";
  const done = (status: MinimizeResult["status"], set: string[], full: SetTest) => ({
    status,
    set: canonical(set),
    full,
    runs,
    cacheHits,
    unresolved,
    tests,
  });

  const full = await look(opts.items);
  if (full.outcome !== "good") return done("full-not-good", [], full);
  if (await good([])) return done("minimized", [], full);
  let c = canonical(opts.items);
  let n = 2;
  while (c.length >= 2) {
    const parts = split(c, n);
    let next: { c: string[]; n: number } | undefined;
    for (const part of parts) {
      if (await good(part)) {
        next = { c: part, n: 2 };
        break;
      }
    }
    if (!next) {
      for (const part of parts) {
        const rest = c.filter((x) => !part.includes(x));
        if (await good(rest)) {
          next = { c: rest, n: Math.max(n - 1, 2) };
          break;
        }
      }
    }
    if (next) {
      c = next.c;
      n = Math.min(next.n, c.length);
    } else if (n < c.length) n = Math.min(c.length, 2 * n);
    else break;
  }
  return done("minimized", c, full);
}

/** ddmin over the built-in series (see {@link seriesMinimizer}). */
export interface SeriesMinimizer {
  /** The patches searched: the series without the `with` plugins, in series order. */
  items: string[];
  /** ddmin's bound on the sets it looks at for these items: n² + 3n. */
  bound: number;
  /** Runs the search; `onTest` is called for every set looked at. */
  run(onTest?: (t: SetTest) => void): Promise<MinimizeResult>;
}

/**
 * ddmin over the patches of the series, each set tested by {@link setProber} with the `with`
 * plugins applied (and kept out of the search).
 *
 * @throws {InputError} for an unknown or repeated `with` id
 */
export function seriesMinimizer(setup: ProbeSetup): SeriesMinimizer {
  const withIds = checkWith(setup.with ?? []);
  const probe = setProber({ ...setup, with: withIds });
  const items = searchedIds(setupEnabled(setup), withIds);
  return {
    items,
    bound: items.length ** 2 + 3 * items.length,
    run: (onTest) => minimize({ items, test: probe, onTest }),
  };
}
