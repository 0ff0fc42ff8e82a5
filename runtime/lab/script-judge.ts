/**
 * A user's predicate script, the way `git bisect run` uses one: `deno run -A script.ts` gets
 * the Report as JSON on stdin and answers with its exit code — 0 good, 125 skip, any other
 * code from 1 to 127 bad; 128 or more (a crash, a signal) aborts. What the script prints on
 * stdout goes to stderr, so a command's own stdout (its `--json`) stays clean.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { InputError } from "./input.ts";
import type { Judge, Judgement } from "./probe.ts";

/**
 * The judgement for a predicate script's exit code, or undefined when the code aborts
 * (128 and above, or a negative code).
 */
export function judgementOfExit(code: number): Judgement | undefined {
  if (code === 0) return "good";
  if (code === 125) return "skip";
  if (code >= 1 && code <= 127) return "bad";
  return undefined;
}

/**
 * A predicate that runs `deno run -A <path>` for each report.
 *
 * @param path the script, relative to the current directory or absolute
 * @throws {InputError} now when the file does not exist; later (from the judge) when the
 *   script exits with 128 or more, or cannot be started
 */
export async function scriptJudge(path: string): Promise<Judge> {
  const file = isAbsolute(path) ? path : resolve(Deno.cwd(), path);
  try {
    if (!(await Deno.stat(file)).isFile) throw new InputError(`--run ${path}: not a file`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`--run ${path}: not found`);
  }
  return async (report) => {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", file],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    } catch (e) {
      throw new InputError(`--run ${path}: cannot start it: ${(e as Error).message}`);
    }
    const feeding = (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(JSON.stringify(report)));
        await writer.close();
      } catch {
        // The script exited without reading all of its stdin: its exit code still counts.
      }
    })();
    const out = await child.output();
    await feeding;
    if (out.stdout.length) await Deno.stderr.write(out.stdout);
    const judgement = judgementOfExit(out.code);
    if (judgement === undefined) {
      const series = report.series.join(", ") || "none";
      throw new InputError(
        `--run ${path} exited with ${out.code}${
          out.signal ? ` (${out.signal})` : ""
        } on series ${series}: an exit code of 128 or more aborts the search`,
      );
    }
    return judgement;
  };
}
