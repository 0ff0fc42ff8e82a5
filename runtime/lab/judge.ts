/**
 * What "good" means over a sweep. A criterion says what one run must show — `clean` (the
 * default: the dump is correct (or, after a plain kexec, the kernel booted), no IO_PAGE_FAULT
 * was logged and no DMA write strayed), or parts of it joined with `+`: `dump-ok`, `no-fault`,
 * `no-stray` — and a rate how many runs must show it: every one unless the spec says
 * `>=P%` (e.g. `dump-ok>=99%`). A set of runs that were not simulated (the series would not
 * build) is a "skip".
 *
 * @module
 */
import { InputError } from "./input.ts";
import type { Judgement } from "./probe.ts";
import type { SweepRun } from "./sweep.ts";

/** The parts a criterion is made of. */
export const CRITERIA = {
  "dump-ok": {
    doc: "the dump is correct (verdict dump-ok; boot-ok for a plain kexec)",
    holds: (r: SweepRun) => r.verdict === "dump-ok" || r.verdict === "boot-ok",
  },
  "no-fault": {
    doc: "no IO_PAGE_FAULT logged",
    holds: (r: SweepRun) => r.ioPageFaults === 0,
  },
  "no-stray": {
    doc: "no stray DMA write",
    holds: (r: SweepRun) => r.strayWriteCount === 0,
  },
} as const;

/** A part of a criterion. */
export type CriterionPart = keyof typeof CRITERIA;

/** A judge: the parts every counted run must show, and the share of runs that must. */
export interface JudgeSpec {
  /** What a run must show (all of them). */
  parts: CriterionPart[];
  /** The least share of runs that must meet the parts (0..1; 1 = every run). */
  atLeast: number;
}

/** `clean`: dump-ok, no IO_PAGE_FAULT, no stray DMA write — on every run. */
export const DEFAULT_JUDGE: JudgeSpec = { parts: ["dump-ok", "no-fault", "no-stray"], atLeast: 1 };

/**
 * Parses a judge: `clean`, or parts joined with `+` (`dump-ok+no-fault`), optionally followed
 * by `>=P%` (`clean>=95%`, `dump-ok>=99.5%`).
 *
 * @throws {InputError} one line naming what is wrong
 */
export function parseJudge(spec: string, what = "--judge"): JudgeSpec {
  const m = /^\s*([a-z+-]+)\s*(?:>=\s*([\d.]+)\s*%)?\s*$/.exec(spec);
  if (!m) {
    throw new InputError(
      `${what}: "${spec}" is not a criterion like clean, dump-ok+no-fault or dump-ok>=99%`,
    );
  }
  const names = m[1] === "clean" ? DEFAULT_JUDGE.parts : m[1].split("+");
  const parts: CriterionPart[] = [];
  for (const n of names) {
    if (!(n in CRITERIA)) {
      throw new InputError(
        `${what}: unknown criterion "${n}" (known: clean, ${Object.keys(CRITERIA).join(", ")})`,
      );
    }
    if (!parts.includes(n as CriterionPart)) parts.push(n as CriterionPart);
  }
  let atLeast = 1;
  if (m[2] !== undefined) {
    const p = Number(m[2]);
    if (!Number.isFinite(p) || p <= 0 || p > 100) {
      throw new InputError(`${what}: ${m[2]}% is not a share between 0 and 100 %`);
    }
    atLeast = p / 100;
  }
  return { parts, atLeast };
}

/** A judge as a spec {@link parseJudge} reads back, e.g. `clean`, `dump-ok+no-fault>=99%`. */
export function judgeSpecText(j: JudgeSpec): string {
  const clean = j.parts.length === 3 && DEFAULT_JUDGE.parts.every((p) => j.parts.includes(p));
  const what = clean ? "clean" : j.parts.join("+");
  return j.atLeast === 1 ? what : `${what}>=${Math.round(j.atLeast * 1e6) / 1e4}%`;
}

/** A judge in words, e.g. `clean (dump-ok, no-fault, no-stray) on every seed`. */
export function judgeText(j: JudgeSpec): string {
  const clean = j.parts.length === 3 && DEFAULT_JUDGE.parts.every((p) => j.parts.includes(p));
  const what = clean ? "clean (dump-ok, no-fault, no-stray)" : j.parts.join("+");
  return `${what} ${
    j.atLeast === 1 ? "on every seed" : `on at least ${fmtPct(j.atLeast)} of seeds`
  }`;
}

function fmtPct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

/** Whether one run meets the judge's parts. */
export function meets(j: JudgeSpec, r: SweepRun): boolean {
  return j.parts.every((p) => CRITERIA[p].holds(r));
}

/**
 * The judgement of a set of runs of one configuration: "skip" when none was simulated (the
 * series would not build), else "good" when the share of runs meeting the parts reaches
 * `atLeast`, else "bad".
 */
export function judgeRuns(j: JudgeSpec, runs: readonly SweepRun[]): Judgement {
  const ran = runs.filter((r) => r.verdict !== "skipped");
  if (!ran.length) return "skip";
  const good = ran.filter((r) => meets(j, r)).length;
  // A tiny tolerance so that 99 of 100 meets ">=99%" despite binary fractions.
  return good / ran.length >= j.atLeast - 1e-12 ? "good" : "bad";
}
