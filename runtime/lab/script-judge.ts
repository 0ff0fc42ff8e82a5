/**
 * A user's predicate script, the way `git bisect run` uses one: `deno run SCRIPT` gets the
 * Report as JSON on stdin and answers with its exit code — 0 good, 125 skip, any other code
 * from 1 to 127 bad; 128 or more (a crash, a signal) aborts. What the script prints on stdout
 * goes to stderr, so a command's own stdout (its `--json`) stays clean.
 *
 * The script is users' code: it runs with no permission beyond reading itself and the
 * kdump-lab sources (unless `--allow-plugin-perms` grants more), its V8 heap capped, in a
 * process group of its own that is killed when it overruns the time limit or when this
 * process ends (Ctrl-C, SIGTERM): a script that hangs or spins never outlives the search.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { InputError } from "./input.ts";
import type { Judge, Judgement } from "./probe.ts";
import {
  DEFAULT_LIMITS,
  kill,
  PROJECT_ROOT,
  residentMb,
  sandboxArgs,
  type SandboxLimits,
  track,
} from "./sandbox.ts";

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
 * A predicate that runs `deno run <path>` (sandboxed, under `limits`) for each report.
 *
 * @param path the script, relative to the current directory or absolute
 * @throws {InputError} now when the file does not exist; later (from the judge) when the
 *   script exits with 128 or more, overruns the time limit or the memory cap, or cannot be
 *   started
 */
export async function scriptJudge(
  path: string,
  limits: SandboxLimits = DEFAULT_LIMITS,
): Promise<Judge> {
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
        args: [
          "run",
          "--quiet",
          `--config=${PROJECT_ROOT}/deno.json`,
          ...sandboxArgs([file], limits),
          file,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
        detached: true, // its own process group: killed with everything it started
      }).spawn();
    } catch (e) {
      throw new InputError(`--run ${path}: cannot start it: ${(e as Error).message}`);
    }
    track(child);
    let broke: "timeout" | "oom" | undefined;
    const timer = setTimeout(() => {
      broke = "timeout";
      kill(child);
    }, limits.timeoutS * 1000);
    const watch = setInterval(() => {
      const mb = residentMb(child.pid);
      if (mb !== undefined && mb > limits.maxMemoryMb + 512) {
        broke = "oom";
        kill(child);
      }
    }, 100);
    const feeding = (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode(JSON.stringify(report)));
        await writer.close();
      } catch {
        // The script exited without reading all of its stdin: its exit code still counts.
      }
    })();
    const out = await child.output().finally(() => {
      clearTimeout(timer);
      clearInterval(watch);
    });
    await feeding;
    if (out.stdout.length) await Deno.stderr.write(out.stdout);
    const series = report.series.join(", ") || "none";
    if (broke === "timeout") {
      throw new InputError(
        `--run ${path} did not finish within ${limits.timeoutS} s (--timeout) on series ` +
          `${series}: killed, with its process group; the search is aborted`,
      );
    }
    // V8's fatal out-of-memory ends the process with SIGTRAP.
    if (broke === "oom" || out.signal === "SIGTRAP") {
      throw new InputError(
        `--run ${path} went over the memory cap of ${limits.maxMemoryMb} MiB (--max-memory) ` +
          `on series ${series}: the search is aborted`,
      );
    }
    const judgement = judgementOfExit(out.code);
    if (judgement === undefined) {
      throw new InputError(
        `--run ${path} exited with ${out.code}${
          out.signal ? ` (${out.signal})` : ""
        } on series ${series}: an exit code of 128 or more aborts the search`,
      );
    }
    return judgement;
  };
}
