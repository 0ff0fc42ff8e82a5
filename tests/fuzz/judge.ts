/**
 * What one fuzz case must come to: a Report that validates and serialises, or a refusal — an
 * InputError whose every problem is one line naming the file and the path of the value (or
 * the file's syntax error). Anything else is a crash.
 */
import { InputError } from "../../runtime/lab/input.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { ReportSchema } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { parseScenarioText } from "../../runtime/lab/scenario-source.ts";
import type { FuzzCase } from "./scenario-arb.ts";

/** How a case ended. */
export type Outcome =
  | { kind: "report"; verdict: string }
  | { kind: "refused"; problems: string[] }
  | { kind: "crash"; detail: string }
  | { kind: "hang"; detail: string };

/** `path: reason` after the file's name, or the file's JSON/YAML syntax error. */
const PATH = String
  .raw`(?:\(top level\)|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\["[^"]*"\])*)`;

/** Why a refusal is not a good one (undefined: it is). */
export function badRefusal(e: unknown, file: string): string | undefined {
  if (!(e instanceof InputError)) return `not an InputError: ${e}`;
  const line = new RegExp(
    `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: (?:JSON|YAML|${PATH}): \\S`,
  );
  if (!e.problems.length) return "an InputError without problems";
  for (const p of e.problems) {
    if (p.includes("\n")) return `a problem of more than one line: ${JSON.stringify(p)}`;
    if (!line.test(p)) return `a problem without the file and a path: ${JSON.stringify(p)}`;
  }
  return undefined;
}

function crash(e: unknown, where: string): Outcome {
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  return { kind: "crash", detail: `${where}: ${text}` };
}

/** Runs one case the way `run --scenario-file F --series S --seed N` does, and judges it. */
export function judgeCase(c: FuzzCase): Outcome {
  const file = `scenario file fuzz.${c.format}`;
  let scenario;
  try {
    scenario = parseScenarioText(c.text, c.format, file);
  } catch (e) {
    if (!(e instanceof InputError)) return crash(e, "parsing");
    const bad = badRefusal(e, file);
    return bad ? { kind: "crash", detail: bad } : { kind: "refused", problems: [...e.problems] };
  }
  try {
    const report = run(scenario, {
      series: c.series ? seriesFromSpec(c.series) : [],
      ...(c.seed !== undefined ? { seed: c.seed } : {}),
    });
    const checked = ReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    if (!checked.success) {
      return { kind: "crash", detail: `the report does not validate: ${checked.error.message}` };
    }
    return { kind: "report", verdict: report.verdict };
  } catch (e) {
    return crash(e, "running");
  }
}
