/**
 * The kdump-lab command line: `deno task lab <command> …`.
 *
 * Each command lives in its own module under `commands/` and registers itself on the program;
 * this file composes them and turns errors into exit codes (see `errors.ts`: bad input exits 2
 * with one line on stderr).
 *
 * @module
 */
import { Command } from "npm:@commander-js/extra-typings@^14";
import { registerAblate } from "./commands/ablate.ts";
import { registerBisect } from "./commands/bisect.ts";
import { registerCompletions } from "./commands/completions.ts";
import { registerDecode } from "./commands/decode.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerHooks } from "./commands/hooks.ts";
import { registerMatrix } from "./commands/matrix.ts";
import { registerMinimize } from "./commands/minimize.ts";
import { registerPlugins } from "./commands/plugins.ts";
import { registerRun } from "./commands/run.ts";
import { registerScenarios } from "./commands/scenarios.ts";
import { registerSchema } from "./commands/schema.ts";
import { registerTable } from "./commands/table.ts";
import { addExamples } from "./examples.ts";
import { commandPath, exitCodeFor, installUsageErrors, PROGRAM } from "./errors.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The version of kdump-lab: deno.json's. */
export const VERSION: string = denoJson.version;

/** Builds the program with every command registered. */
export function createProgram(): Command {
  // Options belong to the command they follow (`matrix` and `matrix merge` share names such
  // as --out and --json); commander needs this on every command above the one that uses it.
  // The program has no options of its own, so the other commands parse as before.
  const program = new Command()
    .name(PROGRAM)
    .description("simulate an AMD IOMMU machine through a panic and its kdump kernel")
    .version(VERSION, "-V, --version", "print the version (deno.json's) and exit")
    .enablePositionalOptions();
  registerRun(program);
  registerScenarios(program);
  registerPlugins(program);
  registerHooks(program);
  registerDemo(program);
  registerTable(program);
  registerMatrix(program);
  registerDecode(program);
  registerSchema(program);
  registerCompletions(program);
  registerBisect(program);
  registerMinimize(program);
  registerAblate(program);
  addExamples(program);
  installUsageErrors(program);
  return program;
}

/**
 * Runs the command line on `args` (without the program name) and returns the exit code:
 * 0 success, 2 bad input or usage, 1 internal error.
 */
export async function main(args: readonly string[]): Promise<number> {
  const program = createProgram();
  let context = "";
  program.hook("preAction", (_root, action) => {
    context = commandPath(action);
  });
  try {
    await program.parseAsync([...args], { from: "user" });
    return 0;
  } catch (err) {
    return exitCodeFor(err, context);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
