/**
 * `kdump-lab bisect`: `git bisect` over the series order — prefix 0 (the 4.13 baseline) is the
 * oldest commit, prefix 12 (the whole series) the newest — with the plugins of `--with` applied
 * at every step. `kdump-lab bisect replay FILE` recomputes a saved log (`--log FILE`) without
 * running the steps it records, and continues when it is incomplete.
 *
 * Exit codes: 0 when the search ends (one first commit, or git's list when only skipped
 * prefixes are left); 2 for bad input, a `--run` script that exits with 128 or more, both
 * ends with the same term, or an end that was skipped (nothing to search).
 *
 * @module
 */
import { Argument, type CommandUnknownOpts, Option } from "npm:@commander-js/extra-typings@^14";
import { isAbsolute, resolve } from "node:path";
import {
  bisect,
  type BisectEvent,
  type BisectResult,
  type BisectStep,
  type BisectTerms,
  checkTerms,
  defaultTerms,
  prefixTester,
  type Revision,
  seriesRevisions,
} from "../../lab/bisect.ts";
import {
  type BisectLogOptions,
  formatBisectLog,
  knownFromLog,
  parseBisectLog,
} from "../../lab/bisect-log.ts";
import { InputError, readFailure } from "../../lab/input.ts";
import { checkWith, specPatchIds, type Tested } from "../../lab/probe.ts";
import { print, printErr } from "../io.ts";
import { replaceFileSync, sameFile, writeOutputFile } from "../output-files.ts";
import {
  addProbeOptions,
  addSearchSeriesOptions,
  judgeFromOptions,
  PROBE_HELP,
  quietOption,
  runScriptOption,
  SEARCH_SERIES_HELP,
  searchSetup,
  showProgress,
  verboseOption,
} from "../probe-options.ts";
import { resolveScenario } from "../scenario-options.ts";
import { sandboxOptions } from "../sandbox-options.ts";
import type { Permission } from "../../lab/sandbox.ts";
import type { Judge } from "../../lab/probe.ts";
import { type JudgeSpec, judgeSpecText, parseJudge } from "../../lab/judge.ts";
import { parseSeeds, seedsText } from "../../lab/seeds.ts";
import { judgeOption } from "../sweep-options.ts";

/** The options of `bisect` and `bisect replay`. */
interface BisectCliOpts {
  scenario: string;
  scenarioFile?: string;
  seed?: number;
  seeds?: number[];
  workers?: number;
  judge?: JudgeSpec;
  with: string[];
  run?: string;
  termOld?: string;
  termNew?: string;
  log?: string;
  json?: true;
  verbose?: true;
  quiet?: true;
  series: string;
  plugin?: { file: string; before?: string; after?: string }[];
  replace: { id: string; file: string }[];
  order?: string[];
  disable: string[];
  timeout?: number;
  maxMemory?: number;
  allowPluginPerms?: Permission[];
}

/** What a bisection runs on, resolved. */
interface Setup {
  record: BisectLogOptions;
  terms?: BisectTerms;
  known?: ReadonlyMap<number, Tested>;
  /** The log file `bisect replay` reads. */
  replaying?: string;
  /**
   * A replay's `--run` script, when it comes from the log and the command line did not name
   * it again: it is never run (a log is data; running what it names takes `--run` again).
   */
  scriptFromLog?: string;
}

/**
 * Where `bisect --log FILE` keeps the log while the search runs: `FILE.partial`. One left by an
 * interrupted search is refused (it would be lost) unless it is the log being replayed.
 *
 * @param replaying the log `bisect replay` reads, if any
 * @throws {InputError} when FILE.partial exists and is not the log being replayed
 */
function partialLog(log: string, replaying?: string): string {
  const partial = `${log}.partial`;
  let exists = false;
  try {
    Deno.lstatSync(partial);
    exists = true;
  } catch { /* none: the usual case */ }
  if (exists && !(replaying !== undefined && sameFile(replaying, partial))) {
    throw new InputError(
      `--log ${log}: ${partial} holds an interrupted search's steps; continue it with ` +
        `bisect replay ${partial} --log ${log}, or remove it`,
    );
  }
  return partial;
}

/** `1 step`, `2 steps`. */
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const absolute = (p: string) => isAbsolute(p) ? p : resolve(Deno.cwd(), p);

/** `[id] title` and what the test gave. */
function stepLines(step: BisectStep, r: Revision, last: number): string[] {
  const how = step.replayed ? `${step.verdict} (from the log)` : step.detail;
  return [`[${r.id}] ${r.title}`, `    prefix ${step.prefix} of ${last}: ${how} → ${step.term}`];
}

/** The closing lines of a finished search. */
function resultLines(res: BisectResult, last: number, seedCount = 1): string[] {
  const name = (r: Revision) => `[${r.prefix}] ${r.id}`;
  const replayed = res.steps.filter((s) => s.replayed).length;
  const each = seedCount > 1 ? ` on ${seedCount} seeds each` : "";
  const runs = `${plural(res.runs, seedCount > 1 ? "step" : "run")}${each}${
    replayed ? `, ${plural(replayed, "step")} from the log` : ""
  }`;
  if (res.status === "found") {
    const f = res.first!;
    return [
      `${f.id} is the first ${res.terms!.new} commit`,
      `    prefix ${f.prefix} of ${last}: ${f.title}`,
      `    ${runs}`,
    ];
  }
  return [
    "There are only 'skip'ped commits left to test.",
    `The first ${res.terms!.new} commit could be any of:`,
    ...res.candidates.map(name),
    "We cannot bisect more!",
    runs,
  ];
}

/** The JSON of a search. */
function resultJson(res: BisectResult, record: BisectLogOptions) {
  return {
    status: res.status,
    first: res.first?.id ?? null,
    firstPrefix: res.first?.prefix ?? null,
    terms: res.terms ?? null,
    candidates: res.candidates.map((r) => r.id),
    steps: res.steps.map((s) => ({
      prefix: s.prefix,
      id: s.id,
      term: s.term,
      verdict: s.verdict,
      judgement: s.judgement,
      detail: s.detail,
      replayed: s.replayed,
    })),
    runs: res.runs,
    scenario: record.scenarioFile ?? record.scenario,
    seed: record.seed ?? null,
    seeds: record.seeds ?? null,
    with: record.with ?? [],
    predicate: record.run ?? record.judge ?? "clean",
  };
}

/** Runs the search, prints it, saves the log; throws for a search with no answer. */
async function runBisect(opts: BisectCliOpts, setup: Setup): Promise<void> {
  const { record } = setup;
  const scenario = await resolveScenario({
    scenario: record.scenario ?? "default",
    scenarioFile: record.scenarioFile,
  });
  const judge = setup.scriptFromLog === undefined
    ? await judgeFromOptions({ ...opts, run: record.run })
    : refusingJudge(setup.scriptFromLog);
  const seeds = record.seeds === undefined ? undefined : parseSeeds(record.seeds, "seeds");
  const revisions = seriesRevisions(recordPatchIds(record));
  const last = revisions.length - 1;
  const steps: BisectStep[] = [];
  const human = !opts.json;
  const progress = opts.json ? showProgress(opts) : false;
  const say = (lines: string[]) => human ? print(...lines) : progress && lines.forEach(printErr);
  // --log FILE is written once, when the search ends; until then the log so far is saved to
  // FILE.partial after every step (synchronously, so writes never overtake each other), so an
  // aborted search leaves FILE as it was and a log that `bisect replay` continues.
  const partial = opts.log === undefined ? undefined : partialLog(opts.log, setup.replaying);
  // The terms the log's start line names: the result's, the custom ones, or the defaults
  // the newest end gave the steps.
  const logTerms = (res?: BisectResult) => {
    const newest = steps.find((s) => s.prefix === last);
    return res?.terms ?? setup.terms ??
      (newest && newest.judgement !== "skip" ? defaultTerms(newest.judgement) : undefined);
  };
  const saveLog = () => {
    if (partial === undefined) return;
    try {
      replaceFileSync(partial, formatBisectLog(record, logTerms(), steps, revisions));
    } catch (e) {
      throw new InputError(
        `--log ${opts.log}: cannot write ${partial}: ${readFailure(e, "write")}`,
      );
    }
  };
  const onEvent = (e: BisectEvent) => {
    if (e.kind === "bisecting") {
      say([
        `Bisecting: ${plural(e.left, "revision")} left to test after this (roughly ${
          plural(e.roughSteps, "step")
        })`,
      ]);
    } else {
      steps.push(e.step);
      say(stepLines(e.step, e.revision, last));
      saveLog();
    }
  };
  saveLog(); // fail early when the file cannot be written
  let res: BisectResult;
  let where: Awaited<ReturnType<typeof searchSetup>> = {};
  try {
    where = await searchSetup(
      {
        series: record.series ?? "all",
        plugin: record.plugin,
        replace: record.replace ?? [],
        order: record.order,
        disable: record.disable ?? [],
        with: record.with ?? [],
        seeds,
        workers: opts.workers,
        timeout: opts.timeout,
        maxMemory: opts.maxMemory,
        allowPluginPerms: opts.allowPluginPerms,
      },
      scenario,
    );
    res = await bisect({
      revisions,
      test: prefixTester({
        scenario,
        seed: record.seed,
        seeds,
        with: record.with,
        judge,
        criterion: record.judge === undefined ? undefined : parseJudge(record.judge),
        ...where,
      }, revisions.slice(1).map((r) => r.id)),
      terms: setup.terms,
      known: setup.known,
      onEvent,
    });
  } catch (e) {
    if (partial === undefined || !(e instanceof InputError)) throw e;
    throw new InputError(
      `${e.message} (${opts.log} is unchanged; the steps so far are in ${partial}: ` +
        `bisect replay ${partial} --log ${opts.log} continues)`,
    );
  } finally {
    where.pool?.close();
  }
  if (opts.log !== undefined) {
    writeOutputFile(
      "--log",
      opts.log,
      formatBisectLog(record, logTerms(res), steps, revisions, res),
    );
    if (partial !== undefined) Deno.removeSync(partial);
  }
  if (opts.json) print(JSON.stringify(resultJson(res, record), null, 2));
  if (res.status === "ends-agree") {
    const j = res.steps.find((s) => s.prefix === 0)?.judgement;
    throw new InputError(
      `nothing to bisect: both ends are ${j} (prefix 0, the baseline, and prefix ${last}, ` +
        `${revisions[last].id})`,
    );
  }
  if (res.status === "end-skipped") {
    const s = res.steps.find((s) => s.judgement === "skip")!;
    throw new InputError(
      `cannot bisect: the end at prefix ${s.prefix} (${s.id}) was skipped: ${s.detail}`,
    );
  }
  if (human) print(...resultLines(res, last, seeds?.length));
}

/**
 * The predicate of a replay whose log names a `--run` script the command line did not: the
 * steps the log records replay, but a step that would need the script stops the search.
 */
function refusingJudge(script: string): Judge {
  return () => {
    throw new InputError(
      `the log's predicate is the script ${script}, which a replay runs only when asked: ` +
        `give --run ${script} again to run it`,
    );
  };
}

/**
 * The patches a bisection steps through: those its `--series` names (the twelve by default;
 * `all,later` adds the later fixes), without the `--with` and `--disable` ones.
 */
function recordPatchIds(record: BisectLogOptions): string[] {
  return specPatchIds(record.series ?? "all", record.with ?? [], record.disable ?? []);
}

/** The scenario, seed, plugins and script as the command line gives them. */
function recordOf(opts: BisectCliOpts): BisectLogOptions {
  const record: BisectLogOptions = {};
  if (opts.scenarioFile !== undefined) record.scenarioFile = absolute(opts.scenarioFile);
  else record.scenario = opts.scenario;
  if (opts.seed !== undefined) record.seed = opts.seed;
  if (opts.seeds !== undefined) record.seeds = seedsText(opts.seeds);
  if (opts.judge !== undefined) record.judge = judgeSpecText(opts.judge);
  record.with = checkWith(opts.with);
  if (opts.run !== undefined) record.run = absolute(opts.run);
  if (opts.series !== "all") record.series = opts.series;
  if (opts.plugin?.length) {
    record.plugin = opts.plugin.map((p) => ({ ...p, file: absolute(p.file) }));
  }
  if (opts.replace.length) {
    record.replace = opts.replace.map((r) => ({ id: r.id, file: absolute(r.file) }));
  }
  if (opts.order?.length) record.order = opts.order;
  if (opts.disable.length) record.disable = opts.disable;
  return record;
}

/** The results, options and terms a saved log gives, merged with the command line's. */
async function replaySetup(file: string, opts: BisectCliOpts, given: (o: string) => boolean) {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new InputError(`bisect log ${file}: cannot read it: ${readFailure(e)}`);
  }
  const log = parseBisectLog(text, `bisect log ${file}`);
  const fromLog = log.options ?? {};
  const mine = recordOf(opts);
  const record: BisectLogOptions = {
    ...(given("scenario") || given("scenarioFile")
      ? { scenario: mine.scenario, scenarioFile: mine.scenarioFile }
      : { scenario: fromLog.scenario, scenarioFile: fromLog.scenarioFile }),
    with: given("with") ? mine.with : checkWith(fromLog.with ?? []),
    seed: mine.seed ?? (mine.seeds === undefined ? fromLog.seed : undefined),
    seeds: mine.seeds ?? (mine.seed === undefined ? fromLog.seeds : undefined),
    judge: mine.judge ?? fromLog.judge,
    run: mine.run ?? fromLog.run,
  };
  // The series options: the command line's when it gives any, else the log's.
  const seriesGiven = ["series", "plugin", "replace", "order", "disable"].some(given);
  const series = seriesGiven ? mine : fromLog;
  for (const k of ["series", "plugin", "replace", "order", "disable"] as const) {
    if (series[k] !== undefined) Object.assign(record, { [k]: series[k] });
  }
  const known = knownFromLog(
    log,
    seriesRevisions(recordPatchIds(record)),
    `bisect log ${file}`,
  );
  const terms = checkTerms(opts.termOld, opts.termNew) ?? log.terms;
  if (log.terms && (terms?.old !== log.terms.old || terms?.new !== log.terms.new)) {
    throw new InputError(
      `the log's terms are ${log.terms.old}/${log.terms.new}, not ${terms?.old}/${terms?.new}`,
    );
  }
  const scriptFromLog = mine.run === undefined ? fromLog.run : undefined;
  return { record, terms, known, replaying: file, scriptFromLog };
}

/** Registers `bisect` (and its form `bisect replay FILE`) on `program`. */
export function registerBisect(program: CommandUnknownOpts): void {
  const sandbox = sandboxOptions();
  addSearchSeriesOptions(addProbeOptions(
    program
      .command("bisect")
      .usage("[options]\n       kdump-lab bisect replay <file> [options]")
      .description(
        "git bisect over the series order: which patch first makes the predicate flip; " +
          "`bisect replay FILE` recomputes a saved log, without re-running its steps, and " +
          "continues it if it is unfinished",
      )
      .addArgument(
        new Argument("[action]", 'the word "replay", to replay a log').choices(["replay"]),
      )
      .argument("[file]", "the log to replay (saved with --log)"),
  ))
    .addOption(runScriptOption())
    .addOption(judgeOption().conflicts("run"))
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .addOption(
      new Option("--term-old <name>", "the term of the oldest end, prefix 0 (git's --term-old)"),
    )
    .addOption(
      new Option("--term-new <name>", "the term of the newest end, the whole series (--term-new)"),
    )
    .addOption(
      new Option(
        "--log <file>",
        "save the bisect log (git bisect log style) to FILE when the search ends " +
          "(FILE.partial holds it meanwhile)",
      ),
    )
    .option("--json", "print { first, steps, terms, candidates, … } as JSON")
    .addOption(
      verboseOption(
        "with --json, print each step on stderr (the default when stderr is a terminal); " +
          "without --json the steps are printed on stdout",
      ),
    )
    .addOption(quietOption("with --json, print no step on stderr, not even on a terminal"))
    .addHelpText(
      "after",
      `${PROBE_HELP}

Terms (as git uses them: old is the oldest end, prefix 0; new is the newest end):
  When the series breaks what the predicate checks, the terms are git's own: old = good,
  new = bad, and the answer is "the first bad commit". When it fixes it (the usual case:
  the newest end is good), they are old = broken, new = fixed, as with
  git bisect start --term-old=broken --term-new=fixed, and the answer is "the first fixed
  commit". --term-old and --term-new name the two ends yourself.

Log:
  --log FILE is written the way git bisect log writes one, with patch ids as revisions
  ("baseline" is prefix 0) and a "# kdump-lab:" comment giving each step's verdict.

Replay:
  A replay takes the scenario, seed, --with and series options recorded in the log
  unless the command line gives them. It never runs a --run script the log names on its
  own: give --run SCRIPT again to continue a search that needs it. --log FILE saves the
  replayed log (it may be the same file).

The log file:
  --log FILE replaces FILE in one step when the search ends (as it ends: found, only
  skipped commits left, or nothing to bisect). While it runs, the steps so far are saved
  to FILE.partial after each one; a search that is interrupted or aborted leaves FILE as it
  was, and "bisect replay FILE.partial --log FILE" continues it. A FILE.partial left over
  is never overwritten: replay it or remove it.
${SEARCH_SERIES_HELP}`,
    )
    .action(async (action, file, opts, cmd) => {
      if (action === undefined) {
        return await runBisect(opts, {
          record: recordOf(opts),
          terms: checkTerms(opts.termOld, opts.termNew),
        });
      }
      if (file === undefined) throw new InputError("bisect replay needs the log file");
      const given = (o: string) => cmd.getOptionValueSource(o) === "cli";
      await runBisect(opts, await replaySetup(file, opts, given));
    });
}
