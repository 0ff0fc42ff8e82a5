/**
 * The bisect log, written the way `git bisect log` writes one, with the series' patch ids as
 * the revisions (`baseline` for prefix 0):
 *
 * ```text
 * git bisect start '--term-old=broken' '--term-new=fixed'
 * # kdump-lab: prefix 12 of 12, dump-ok (good)
 * # fixed: [disable-only-if-off] iommu/amd: Disable iommu only if amd_iommu=off is specified
 * git bisect fixed disable-only-if-off
 * # kdump-lab: prefix 0 of 12, dump-corrupt (bad)
 * # broken: [baseline] the 4.13 baseline (no patch of the series)
 * git bisect broken baseline
 * …
 * # first fixed commit: [disable-only-if-off] iommu/amd: Disable iommu only if …
 * ```
 *
 * The terms mean what they mean to git: the old term is the oldest end's (prefix 0), the new
 * term the newest end's (see {@link defaultTerms}); git's own good/bad need no `--term-*` on
 * the start line. Two kinds of comment are kdump-lab's own and make a log replayable on its
 * own: `# options: {…}` (the scenario, seed, `--with` plugins and `--run` script it was made
 * with) and `# kdump-lab: prefix K of N, VERDICT (JUDGEMENT)` before each step, the
 * predicate's answer. git ignores both, so `git bisect replay` reads the log too, in a
 * history whose commits carry the patch ids as names.
 *
 * {@link parseBisectLog} also reads logs of the earlier format (revisions as prefix numbers,
 * `# good: [12] id (dump-ok)` comments, where `good`/`bad` were the predicate's answers).
 *
 * @module
 */
import {
  type BisectResult,
  type BisectStep,
  type BisectTerms,
  FIX_TERMS,
  type Revision,
} from "./bisect.ts";
import { InputError } from "./input.ts";
import type { Judgement, Tested } from "./probe.ts";

/** What a bisection ran on (recorded so that a replay can continue it). */
export interface BisectLogOptions {
  /** A built-in scenario's name. */
  scenario?: string;
  /** A scenario file (absolute path). */
  scenarioFile?: string;
  /** The seed of every run (the scenario's own when absent). */
  seed?: number;
  /** `--seeds`: every step runs on each of these seeds (a seeds spec, e.g. `1..100`). */
  seeds?: string;
  /** `--judge`: what good means over the seeds (a criterion spec; absent: clean). */
  judge?: string;
  /** Plugins applied at every step. */
  with?: string[];
  /** The predicate script (absolute path); none: the default predicate. */
  run?: string;
  /** `--series`: the series searched (when not all). */
  series?: string;
  /** `--plugin` files (absolute paths) and their placement. */
  plugin?: { file: string; before?: string; after?: string }[];
  /** `--replace ID=FILE` (absolute paths). */
  replace?: { id: string; file: string }[];
  /** `--order`. */
  order?: string[];
  /** `--disable`. */
  disable?: string[];
}

/** One `git bisect <term> <rev>` line of a log, with what its comments said. */
export interface LoggedMark {
  /** The revision as written: a patch id, `baseline`, or (older logs) a prefix number. */
  rev: string;
  /** The term it was marked with (`skip` included). */
  term: string;
  /** The predicate's answer, when the log says it. */
  judgement?: Judgement;
  /** The run's verdict, when the log says it. */
  verdict?: string;
}

/** A parsed log. */
export interface ParsedBisectLog {
  /** The `# options:` comment. */
  options?: BisectLogOptions;
  /** Terms from the start line (git's good/bad when it names none). */
  terms?: BisectTerms;
  /** The marks, in order. */
  marks: LoggedMark[];
}

/** Quotes a word the way git's log quotes the start line's arguments. */
const sq = (w: string) => `'${w.replaceAll("'", `'\\''`)}'`;

/**
 * The text of a log: the header, each step, and the answer when there is one.
 *
 * @param terms the bisection's terms: the custom ones, or the defaults the steps were given
 *   (git's good/bad are not written on the start line)
 * @param revisions the commits, oldest first (for ids and titles)
 */
export function formatBisectLog(
  options: BisectLogOptions,
  terms: BisectTerms | undefined,
  steps: readonly BisectStep[],
  revisions: readonly Revision[],
  result?: BisectResult,
): string {
  const last = revisions.length - 1;
  const start = ["git bisect start"];
  if (terms && !(terms.old === "good" && terms.new === "bad")) {
    start.push(sq(`--term-old=${terms.old}`), sq(`--term-new=${terms.new}`));
  }
  const lines = [
    "# kdump-lab bisect log (replay it with: kdump-lab bisect replay FILE)",
    `# options: ${JSON.stringify(options)}`,
    start.join(" "),
  ];
  const name = (r: Revision) => `[${r.id}] ${r.title}`;
  for (const s of steps) {
    const r = revisions[s.prefix];
    lines.push(
      `# kdump-lab: prefix ${s.prefix} of ${last}, ${s.verdict} (${s.judgement})`,
      `# ${s.term}: ${name(r)}`,
      `git bisect ${s.term} ${r.id}`,
    );
  }
  if (result?.status === "found" && result.first) {
    lines.push(`# first ${result.terms!.new} commit: ${name(result.first)}`);
  } else if (result?.status === "ambiguous") {
    lines.push(
      `# only skipped commits left to test; the first ${result.terms!.new} commit could be ` +
        `any of: ${result.candidates.map((r) => r.id).join(", ")}`,
    );
  }
  return lines.join("\n") + "\n";
}

/** `# kdump-lab: prefix 12 of 12, dump-ok (good)`. */
const KDUMP_COMMENT =
  /^#\s*kdump-lab:\s*prefix\s+(\d+)\s+of\s+\d+,\s*(\S+)\s*\((good|bad|skip)\)\s*$/;
/** The earlier format's `# good: [12] id (dump-ok)` or `# fixed: [12] id (good: dump-ok)`. */
const OLD_STEP_COMMENT =
  /^#\s*([\w-]+):\s*\[(\d+)\]\s*\S+(?:\s*\((?:(good|bad|skip):\s*)?([^)]*)\))?\s*$/;

/** Splits a line into words, the way a shell reads git's single-quoted arguments. */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) {
    out.push(m[1] !== undefined ? m[1].replaceAll(`'\\''`, "'") : m[2]);
  }
  return out;
}

/**
 * Parses a log written by {@link formatBisectLog}, by its earlier format, by `git bisect log`
 * or by hand: only the `git bisect` lines are needed, plus the terms' meaning when they are
 * neither git's good/bad nor broken/fixed.
 *
 * @throws {InputError} naming the line for anything it does not understand
 */
export function parseBisectLog(text: string, file = "bisect log"): ParsedBisectLog {
  const parsed: ParsedBisectLog = { marks: [] };
  let said: { prefix?: string; term?: string; judgement?: Judgement; verdict?: string } = {};
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const bad = (why: string) => new InputError(`${file} line ${i + 1}: ${why}`);
    if (!line) continue;
    if (line.startsWith("#")) {
      const opt = /^#\s*options:\s*(.*)$/.exec(line);
      if (opt) {
        try {
          parsed.options = JSON.parse(opt[1]) as BisectLogOptions;
        } catch {
          throw bad("the options comment is not JSON");
        }
        continue;
      }
      const k = KDUMP_COMMENT.exec(line);
      if (k) {
        said = { prefix: k[1], verdict: k[2], judgement: k[3] as Judgement };
        continue;
      }
      const o = OLD_STEP_COMMENT.exec(line);
      if (o) {
        said = {
          prefix: o[2],
          term: o[1],
          judgement: o[3] as Judgement | undefined,
          verdict: o[4],
        };
      }
      continue; // git's own comments (`# bad: [rev] subject`, `# status: …`) say nothing new
    }
    const w = words(line);
    if (w[0] !== "git" || w[1] !== "bisect" || w.length < 3) {
      throw bad(`expected "git bisect <term> <rev>", got "${line}"`);
    }
    if (w[2] === "start") {
      let old: string | undefined, neu: string | undefined;
      for (const a of w.slice(3)) {
        const t = /^--term-(old|new|good|bad)=(.+)$/.exec(a);
        if (t) (t[1] === "old" || t[1] === "good") ? (old = t[2]) : (neu = t[2]);
        else if (a.startsWith("-")) throw bad(`unexpected "${a}" on the start line`);
        // Revisions on the start line: the earlier format repeated the ends there, and
        // git writes them when they were given to start; the marks say the same.
      }
      if (old !== undefined && neu !== undefined) parsed.terms = { old, new: neu };
      else if (old !== undefined || neu !== undefined) throw bad("the start line names one term");
      continue;
    }
    if (w.length !== 4) throw bad(`expected "git bisect <term> <rev>", got "${line}"`);
    const mark: LoggedMark = { term: w[2], rev: w[3] };
    const numeric = /^\d+$/.test(mark.rev);
    // An earlier-format comment names its term and prefix; a kdump-lab comment its prefix.
    const matches = said.term !== undefined
      ? said.term === mark.term && said.prefix === mark.rev
      : said.prefix !== undefined && (!numeric || said.prefix === mark.rev);
    if (matches) {
      mark.verdict = said.verdict;
      mark.judgement = said.judgement;
      if (said.term !== undefined && mark.judgement === undefined && !parsed.terms) {
        if (mark.term === "good" || mark.term === "bad") mark.judgement = mark.term;
      }
    }
    if (mark.term === "skip") mark.judgement = "skip";
    parsed.marks.push(mark);
    said = {};
  }
  return parsed;
}

/**
 * The meaning of the terms a log does not explain: git's good/bad are the predicate's
 * answers; broken/fixed (the terms of a fix) mean bad/good.
 */
function implicitMeaning(terms: BisectTerms | undefined): Map<string, Judgement> {
  if (!terms) return new Map([["good", "good"], ["bad", "bad"]]);
  if (terms.old === FIX_TERMS.old && terms.new === FIX_TERMS.new) {
    return new Map([[FIX_TERMS.old, "bad"], [FIX_TERMS.new, "good"]]);
  }
  if (terms.old === "good" && terms.new === "bad") {
    return new Map([["good", "good"], ["bad", "bad"]]);
  }
  return new Map();
}

/**
 * The results a log records, by prefix, for {@link bisect}'s `known`. A term's meaning
 * (good or bad to the predicate) comes from the step comments, from the other term's, or
 * from the terms themselves (good/bad, broken/fixed).
 *
 * @param revisions the commits, oldest first: a mark's revision is a patch id of theirs,
 *   `baseline`, or a prefix number
 * @throws {InputError} for an unknown revision, a term that is neither of the two, a
 *   prefix marked twice with different answers, or a term whose meaning the log does not say
 */
export function knownFromLog(
  log: ParsedBisectLog,
  revisions: readonly Revision[],
  file = "bisect log",
): Map<number, Tested> {
  const last = revisions.length - 1;
  const byId = new Map(revisions.map((r) => [r.id, r.prefix]));
  const prefixOf = (rev: string) => {
    const p = /^\d+$/.test(rev) ? Number(rev) : byId.get(rev);
    if (p === undefined) {
      throw new InputError(
        `${file}: "${rev}" is not a revision of the series (baseline, a patch id or 0 to ${last})`,
      );
    }
    if (p > last) throw new InputError(`${file}: prefix ${p} is out of range (0 to ${last})`);
    return p;
  };
  const terms = log.terms;
  const meaning = new Map<string, Judgement>();
  for (const m of log.marks) {
    prefixOf(m.rev);
    if (terms && m.term !== "skip" && m.term !== terms.old && m.term !== terms.new) {
      throw new InputError(
        `${file}: term "${m.term}" is neither "${terms.old}" nor "${terms.new}"`,
      );
    }
    if (!terms && !["good", "bad", "skip"].includes(m.term)) {
      throw new InputError(
        `${file}: term "${m.term}" needs a start line naming the terms (--term-old=…)`,
      );
    }
    if (m.judgement && m.term !== "skip") {
      const had = meaning.get(m.term);
      if (had && had !== m.judgement) {
        throw new InputError(`${file}: "${m.term}" means both ${had} and ${m.judgement}`);
      }
      meaning.set(m.term, m.judgement);
    }
  }
  for (const [term, j] of implicitMeaning(terms)) if (!meaning.has(term)) meaning.set(term, j);
  if (terms) {
    const [a, b] = [terms.old, terms.new];
    const other = (j: Judgement): Judgement => j === "good" ? "bad" : "good";
    if (meaning.has(a) && !meaning.has(b)) meaning.set(b, other(meaning.get(a)!));
    if (meaning.has(b) && !meaning.has(a)) meaning.set(a, other(meaning.get(b)!));
  }
  const known = new Map<number, Tested>();
  for (const m of log.marks) {
    const prefix = prefixOf(m.rev);
    const judgement = m.term === "skip" ? "skip" : m.judgement ?? meaning.get(m.term);
    if (!judgement) {
      throw new InputError(
        `${file}: the log does not say whether "${m.term}" is good or bad (write the ` +
          `predicate's answer before the step, e.g. "# kdump-lab: prefix ${prefix} of ${last}, ` +
          `dump-ok (good)")`,
      );
    }
    const before = known.get(prefix);
    if (before && before.judgement !== judgement) {
      throw new InputError(
        `${file}: prefix ${prefix} is marked both ${before.judgement} and ${judgement}`,
      );
    }
    known.set(prefix, {
      judgement,
      verdict: m.verdict ?? "unknown",
      detail: `from the log${m.verdict ? `: ${m.verdict}` : ""}`,
    });
  }
  return known;
}
