/**
 * The bisect log, shaped like `git bisect log`: a start line, then for each step a comment
 * `# <term>: [<prefix>] <id> (<verdict>)` and the command `git bisect <term> <prefix>`; at the
 * end a comment with the answer. Two comments of kdump-lab's own make a log replayable on its
 * own: `# options: {…}` (the scenario, seed, `--with` plugins and `--run` script it was made
 * with) and, in a step comment, the predicate's answer when the term is a custom one
 * (`# fixed: [12] disable-only-if-off (good: dump-ok)`).
 *
 * @module
 */
import type { BisectResult, BisectStep, BisectTerms, Revision } from "./bisect.ts";
import { InputError } from "./input.ts";
import type { Judgement, Tested } from "./probe.ts";

/** What a bisection ran on (recorded so that a replay can continue it). */
export interface BisectLogOptions {
  /** A built-in scenario's name. */
  scenario?: string;
  /** A scenario file (absolute path). */
  scenarioFile?: string;
  seed?: number;
  /** Plugins applied at every step. */
  with?: string[];
  /** The predicate script (absolute path); none: the default predicate. */
  run?: string;
}

/** One `git bisect <term> <prefix>` line of a log, with what its comment said. */
export interface LoggedMark {
  prefix: number;
  term: string;
  /** The predicate's answer, when the log says it (or the term is good, bad or skip). */
  judgement?: Judgement;
  verdict?: string;
}

/** A parsed log. */
export interface ParsedBisectLog {
  options?: BisectLogOptions;
  /** Custom terms from the start line. */
  terms?: BisectTerms;
  marks: LoggedMark[];
}

/** The text of a log: the header, each step, and the answer when there is one. */
export function formatBisectLog(
  options: BisectLogOptions,
  customTerms: BisectTerms | undefined,
  steps: readonly BisectStep[],
  last: number,
  result?: BisectResult,
): string {
  const start = ["git bisect start"];
  if (customTerms) start.push(`--term-old=${customTerms.old}`, `--term-new=${customTerms.new}`);
  start.push(String(last), "0");
  const lines = [
    "# kdump-lab bisect log (replay it with: kdump-lab bisect replay FILE)",
    `# options: ${JSON.stringify(options)}`,
    start.join(" "),
  ];
  for (const s of steps) {
    const said = !customTerms && s.term === s.judgement
      ? s.verdict
      : `${s.judgement}: ${s.verdict}`;
    lines.push(`# ${s.term}: [${s.prefix}] ${s.id} (${said})`, `git bisect ${s.term} ${s.prefix}`);
  }
  const name = (r: Revision) => `[${r.prefix}] ${r.id}`;
  if (result?.status === "found" && result.first) {
    lines.push(`# first ${result.terms!.new} commit: ${name(result.first)}`);
  } else if (result?.status === "ambiguous") {
    lines.push(
      `# only skipped commits left to test; the first ${result.terms!.new} commit could be ` +
        `any of: ${result.candidates.map(name).join(", ")}`,
    );
  }
  return lines.join("\n") + "\n";
}

const STEP_COMMENT =
  /^#\s*([\w-]+):\s*\[(\d+)\]\s*\S+(?:\s*\((?:(good|bad|skip):\s*)?([^)]*)\))?\s*$/;

/**
 * Parses a log written by {@link formatBisectLog} (or by hand: only the `git bisect` lines
 * are needed, plus the terms' meaning when they are custom).
 *
 * @throws {InputError} naming the line for anything it does not understand
 */
export function parseBisectLog(text: string, file = "bisect log"): ParsedBisectLog {
  const parsed: ParsedBisectLog = { marks: [] };
  let comment:
    | { prefix: number; term: string; judgement?: Judgement; verdict?: string }
    | undefined;
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
      const m = STEP_COMMENT.exec(line);
      comment = m
        ? {
          term: m[1],
          prefix: Number(m[2]),
          judgement: m[3] as Judgement | undefined,
          verdict: m[4],
        }
        : undefined;
      continue;
    }
    const words = line.split(/\s+/);
    if (words[0] !== "git" || words[1] !== "bisect" || words.length < 3) {
      throw bad(`expected "git bisect <term> <prefix>", got "${line}"`);
    }
    if (words[2] === "start") {
      let old: string | undefined, neu: string | undefined;
      for (const w of words.slice(3)) {
        const t = /^--term-(old|new|good|bad)=(.+)$/.exec(w);
        if (t) (t[1] === "old" || t[1] === "good") ? (old = t[2]) : (neu = t[2]);
        else if (!/^\d+$/.test(w)) throw bad(`unexpected "${w}" on the start line`);
      }
      if (old !== undefined && neu !== undefined) parsed.terms = { old, new: neu };
      else if (old !== undefined || neu !== undefined) throw bad("the start line names one term");
      continue;
    }
    if (words.length !== 4 || !/^\d+$/.test(words[3])) {
      throw bad(`expected "git bisect <term> <prefix>", got "${line}"`);
    }
    const mark: LoggedMark = { term: words[2], prefix: Number(words[3]) };
    if (comment && comment.prefix === mark.prefix && comment.term === mark.term) {
      mark.verdict = comment.verdict;
      mark.judgement = comment.judgement;
    }
    if (mark.judgement === undefined && ["good", "bad", "skip"].includes(mark.term)) {
      if (!parsed.terms) mark.judgement = mark.term as Judgement;
    }
    if (mark.term === "skip") mark.judgement = "skip";
    parsed.marks.push(mark);
    comment = undefined;
  }
  return parsed;
}

/**
 * The results a log records, by prefix, for {@link bisect}'s `known`. A custom term's
 * meaning comes from a step comment that says the predicate's answer, or from the other
 * term's.
 *
 * @param last the last prefix (the whole series)
 * @throws {InputError} for a prefix out of range, a term that is neither of the two, a
 *   prefix marked twice with different terms, or a term whose meaning the log does not say
 */
export function knownFromLog(log: ParsedBisectLog, last: number, file = "bisect log") {
  const meaning = new Map<string, Judgement>();
  for (const m of log.marks) {
    if (m.prefix > last) {
      throw new InputError(`${file}: prefix ${m.prefix} is out of range (0 to ${last})`);
    }
    if (log.terms && m.term !== "skip" && m.term !== log.terms.old && m.term !== log.terms.new) {
      throw new InputError(
        `${file}: term "${m.term}" is neither "${log.terms.old}" nor "${log.terms.new}"`,
      );
    }
    if (!log.terms && !["good", "bad", "skip"].includes(m.term)) {
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
  if (log.terms) {
    const [a, b] = [log.terms.old, log.terms.new];
    const other = (j: Judgement): Judgement => j === "good" ? "bad" : "good";
    if (meaning.has(a) && !meaning.has(b)) meaning.set(b, other(meaning.get(a)!));
    if (meaning.has(b) && !meaning.has(a)) meaning.set(a, other(meaning.get(b)!));
  }
  const known = new Map<number, Tested>();
  for (const m of log.marks) {
    const judgement = m.term === "skip" ? "skip" : m.judgement ?? meaning.get(m.term);
    if (!judgement) {
      throw new InputError(
        `${file}: the log does not say whether "${m.term}" is good or bad (write the ` +
          `predicate's answer in its step comment, e.g. "# ${m.term}: [${m.prefix}] id (good: dump-ok)")`,
      );
    }
    const before = known.get(m.prefix);
    if (before && before.judgement !== judgement) {
      throw new InputError(
        `${file}: prefix ${m.prefix} is marked both ${before.judgement} and ${judgement}`,
      );
    }
    known.set(m.prefix, {
      judgement,
      verdict: m.verdict ?? "unknown",
      detail: `from the log${m.verdict ? `: ${m.verdict}` : ""}`,
    });
  }
  return known;
}
