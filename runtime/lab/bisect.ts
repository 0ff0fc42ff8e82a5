/**
 * Bisection over the series order, the way `git bisect` searches a history: the prefixes of
 * the series play the role of commits — prefix 0 is the 4.13 baseline (the oldest), prefix
 * k applies the first k patches, the last prefix is the whole series (the newest).
 *
 * Both ends are tested first (newest, then oldest, like `git bisect start new old`). The
 * terms follow git: the old term names the oldest end's outcome, the new term the newest
 * end's. By default they are git's own, `good` (old) and `bad` (new), when the series breaks
 * what the predicate checks; when it fixes it (the newest end is good) they are `broken`
 * (old) and `fixed` (new), as `git bisect start --term-old=broken --term-new=fixed` would
 * name them, so the answer is "the first fixed commit" and never a "good" commit newer than
 * a "bad" one. Custom terms (`--term-old`/`--term-new`) name the two ends whatever the
 * predicate says. Then each step tests the untested prefix nearest the middle of the range
 * still in doubt. A "skip" (a series that would not build, a script's exit 125)
 * is stepped around; when only skipped prefixes are left, the answer is the list of
 * candidates, as git gives it.
 *
 * Pure: the tester is injected (see {@link prefixTester} for the real one).
 *
 * @module
 */
import { InputError } from "./input.ts";
import { pluginTitles, seriesIds } from "./plugins.ts";
import { type Judgement, type ProbeSetup, setProber, type Tested } from "./probe.ts";

/** One commit of the bisection: a prefix of the series. */
export interface Revision {
  /** How many patches of the series it applies (0 = the 4.13 baseline). */
  prefix: number;
  /** The id of its last patch (`baseline` for prefix 0). */
  id: string;
  /** The title of its last patch. */
  title: string;
}

/** The id of prefix 0. */
export const BASELINE_ID = "baseline";

/**
 * The revisions of a search: prefix 0 (the baseline) to the last of `ids` — by default the
 * twelve patches of the series; over `--series all,later`, the later fixes after them.
 */
export function seriesRevisions(ids: readonly string[] = seriesIds()): Revision[] {
  const titles = pluginTitles();
  return [
    { prefix: 0, id: BASELINE_ID, title: "the 4.13 baseline (no patch of the series)" },
    ...ids.map((id, i) => ({ prefix: i + 1, id, title: titles.get(id) ?? id })),
  ];
}

/** Tests one prefix. */
export type PrefixTester = (prefix: number) => Tested | Promise<Tested>;

/**
 * The real tester: prefix k is the first k of `ids` (default: the series' patches) plus the
 * `--with` plugins (see {@link setProber}).
 */
export function prefixTester(
  setup: ProbeSetup,
  ids: readonly string[] = seriesIds(),
): PrefixTester {
  const probe = setProber(setup);
  return (prefix) => probe(ids.slice(0, prefix));
}

/** The two terms: the oldest end's and the newest end's. */
export interface BisectTerms {
  /** The oldest end's term (git's `--term-old`, `good` by default). */
  old: string;
  /** The newest end's term (git's `--term-new`, `bad` by default). */
  new: string;
}

/** git's default terms: the series breaks something (the oldest end is good). */
export const GIT_TERMS: Readonly<BisectTerms> = Object.freeze({ old: "good", new: "bad" });
/** The terms of a series that fixes something (the newest end is good). */
export const FIX_TERMS: Readonly<BisectTerms> = Object.freeze({ old: "broken", new: "fixed" });

/**
 * The default terms given what the predicate says of the newest end: git's good/bad when it
 * is bad (the series broke something), broken/fixed when it is good.
 */
export function defaultTerms(newest: Judgement): BisectTerms {
  return { ...(newest === "good" ? FIX_TERMS : GIT_TERMS) };
}

/** One tested (or replayed) prefix. */
export interface BisectStep {
  /** How many patches of the series the tested revision applies (0 = the 4.13 baseline). */
  prefix: number;
  /** The id of its last patch (`baseline` for prefix 0). */
  id: string;
  /** The term it got: one of the two terms, or `skip`. */
  term: string;
  /** What the predicate said. */
  judgement: Judgement;
  /** The run's verdict (`unknown` for a replayed step whose log does not say). */
  verdict: string;
  /** One line for people: the outcome's numbers, or why it was skipped. */
  detail: string;
  /** True when the step came from a replayed log instead of a run. */
  replayed: boolean;
}

/** How a bisection ended. */
export type BisectStatus =
  /** `first` is the first prefix with the newest end's term. */
  | "found"
  /** Only skipped prefixes were left: the first could be any of `candidates`. */
  | "ambiguous"
  /** Both ends have the same term: nothing flips. */
  | "ends-agree"
  /** An end was skipped: there is no range to search. */
  | "end-skipped";

/** The result of a bisection. */
export interface BisectResult {
  /** How it ended: found, ambiguous, or no range to search (ends agree, an end skipped). */
  status: BisectStatus;
  /** The terms (undefined when an end was skipped). */
  terms?: BisectTerms;
  /** The first revision with the newest end's term (status `found`). */
  first?: Revision;
  /** Revisions that may be the first: `[first]` when found; the ambiguous set otherwise. */
  candidates: Revision[];
  /** Every step, in order (replayed ones first). */
  steps: BisectStep[];
  /** How many prefixes were tested (not replayed). */
  runs: number;
}

/** What a bisection reports while it works. */
export type BisectEvent =
  | { kind: "bisecting"; left: number; roughSteps: number; next: Revision }
  | { kind: "step"; step: BisectStep; revision: Revision };

/** Options of {@link bisect}. */
export interface BisectOptions {
  /** The commits, oldest first; `revisions[i].prefix === i`. */
  revisions: readonly Revision[];
  /** Tests a prefix. */
  test: PrefixTester;
  /** Custom names for the oldest and newest ends' outcomes (default: {@link defaultTerms}). */
  terms?: BisectTerms;
  /** Results already known (a replayed log): not tested again. */
  known?: ReadonlyMap<number, Tested>;
  /** Progress. */
  onEvent?: (e: BisectEvent) => void;
}

/** How many tests pin down one of `n + 1` possible answers: ceil(log2(n + 1)). */
export function roughSteps(n: number): number {
  return n <= 0 ? 0 : Math.ceil(Math.log2(n + 1));
}

/** Term names must be plain words that are not bisect's own words. */
const RESERVED_TERMS = new Set(["skip", "start", "replay", "log", "run", "reset", "terms"]);

/**
 * Checks custom terms (both or neither, different, plain words, not `skip` and friends).
 *
 * @throws {InputError} otherwise
 */
export function checkTerms(old?: string, neu?: string): BisectTerms | undefined {
  if (old === undefined && neu === undefined) return undefined;
  if (old === undefined || neu === undefined) {
    throw new InputError("give both --term-old and --term-new, or neither");
  }
  for (const t of [old, neu]) {
    if (!/^[A-Za-z][\w-]*$/.test(t)) {
      throw new InputError(`term "${t}" must be a word (letters, digits, - and _)`);
    }
    if (RESERVED_TERMS.has(t)) throw new InputError(`"${t}" cannot be a term`);
  }
  if (old === neu) throw new InputError(`--term-old and --term-new are both "${old}"`);
  return { old, new: neu };
}

/**
 * Runs a bisection (see the module documentation).
 *
 * @throws {InputError} when the known results contradict each other (a replayed log where a
 *   prefix with the newest end's term comes before one with the oldest end's)
 */
export async function bisect(opts: BisectOptions): Promise<BisectResult> {
  const { revisions } = opts;
  const last = revisions.length - 1;
  if (last < 1) throw new InputError("bisect needs at least two revisions");
  const results = new Map<number, Tested>();
  const steps: BisectStep[] = [];
  let runs = 0;
  // Until both ends are known, a term goes by position (the ends are tested first, the
  // newest one first): custom terms name the ends; the default ones follow the newest end.
  let newestJ: Judgement | undefined;
  let termOf = (prefix: number, t: Tested): string => {
    if (t.judgement === "skip") return "skip";
    if (opts.terms) return prefix === 0 ? opts.terms.old : opts.terms.new;
    if (prefix === last) newestJ = t.judgement;
    if (newestJ === undefined || newestJ === "skip") return t.judgement;
    const d = defaultTerms(newestJ);
    return t.judgement === newestJ ? d.new : d.old;
  };

  const record = (prefix: number, t: Tested, replayed: boolean) => {
    results.set(prefix, t);
    const step: BisectStep = {
      prefix,
      id: revisions[prefix].id,
      term: termOf(prefix, t),
      judgement: t.judgement,
      verdict: t.verdict,
      detail: t.detail,
      replayed,
    };
    steps.push(step);
    opts.onEvent?.({ kind: "step", step, revision: revisions[prefix] });
  };
  const test = async (prefix: number) => {
    const logged = opts.known?.get(prefix);
    if (logged) return record(prefix, logged, true);
    runs++;
    record(prefix, await opts.test(prefix), false);
  };

  // The ends first: newest, then oldest (from the log when it has them).
  for (const end of [last, 0]) if (!results.has(end)) await test(end);
  const oldJ = results.get(0)!.judgement, newJ = results.get(last)!.judgement;
  const result = (status: BisectStatus, terms?: BisectTerms, candidates: Revision[] = []) => ({
    status,
    terms,
    candidates,
    steps,
    runs,
    ...(status === "found" ? { first: candidates[0] } : {}),
  });
  if (oldJ === "skip" || newJ === "skip") return result("end-skipped");
  const terms = opts.terms ?? defaultTerms(newJ);
  if (oldJ === newJ) return result("ends-agree", terms);
  termOf = (_p, t) => t.judgement === oldJ ? terms.old : t.judgement === newJ ? terms.new : "skip";
  for (const s of steps) s.term = termOf(s.prefix, results.get(s.prefix)!);

  // The rest of the log, then the search.
  for (const [prefix] of opts.known ?? []) if (!results.has(prefix)) await test(prefix);
  const range = () => {
    let lo = 0, hi = last;
    for (const [p, t] of results) if (t.judgement === oldJ && p > lo) lo = p;
    for (const [p, t] of results) if (t.judgement === newJ && p < hi) hi = p;
    if (lo > hi) {
      throw new InputError(
        `the results contradict each other: prefix ${hi} is ${terms.new} but the later ` +
          `prefix ${lo} is ${terms.old}`,
      );
    }
    return { lo, hi };
  };
  for (;;) {
    const { lo, hi } = range();
    const open: number[] = [];
    for (let p = lo + 1; p < hi; p++) if (!results.has(p)) open.push(p);
    if (!open.length) {
      const skipped = [];
      for (let p = lo + 1; p < hi; p++) skipped.push(revisions[p]);
      return skipped.length
        ? result("ambiguous", terms, [...skipped, revisions[hi]])
        : result("found", terms, [revisions[hi]]);
    }
    const middle = (lo + hi) / 2;
    const next = open.reduce((a, b) => Math.abs(b - middle) < Math.abs(a - middle) ? b : a);
    const left = Math.max(
      open.filter((p) => p < next).length,
      open.filter((p) => p > next).length,
    );
    opts.onEvent?.({
      kind: "bisecting",
      left,
      roughSteps: roughSteps(left),
      next: revisions[next],
    });
    await test(next);
  }
}
