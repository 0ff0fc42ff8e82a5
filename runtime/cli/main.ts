/**
 * The kdump-lab command line: `deno task lab <command> …`.
 *
 * Each command lives in its own module under `commands/` and registers itself on the program;
 * this file composes them — loading only the command being run — and turns errors into exit
 * codes (see `errors.ts`: bad input exits 2 with one line on stderr).
 *
 * @module
 */
import { Command, type CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { commandPath, exitCodeFor, installUsageErrors, PROGRAM } from "./errors.ts";
import { addExamples } from "./examples.ts";
import { checkOutputs, setQuietWrites } from "./output-files.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The version of kdump-lab: deno.json's. */
export const VERSION: string = denoJson.version;

/** Registers one command on the program. */
type Register = (program: CommandUnknownOpts) => void;

/**
 * Every command, in the order help lists them, with the module that registers it — loaded
 * only when needed, so `lab run` does not load what `matrix` or `bisect` need.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ["run", async () => (await import("./commands/run.ts")).registerRun],
  ["scenarios", async () => (await import("./commands/scenarios.ts")).registerScenarios],
  ["plugins", async () => (await import("./commands/plugins.ts")).registerPlugins],
  ["hooks", async () => (await import("./commands/hooks.ts")).registerHooks],
  ["demo", async () => (await import("./commands/demo.ts")).registerDemo],
  ["table", async () => (await import("./commands/table.ts")).registerTable],
  ["matrix", async () => (await import("./commands/matrix.ts")).registerMatrix],
  ["decode", async () => (await import("./commands/decode.ts")).registerDecode],
  ["schema", async () => (await import("./commands/schema.ts")).registerSchema],
  ["completions", async () => (await import("./commands/completions.ts")).registerCompletions],
  ["bisect", async () => (await import("./commands/bisect.ts")).registerBisect],
  ["minimize", async () => (await import("./commands/minimize.ts")).registerMinimize],
  ["ablate", async () => (await import("./commands/ablate.ts")).registerAblate],
];

/**
 * Builds the program with every command registered — or, given `only` (a command name), with
 * that command alone: enough to parse and run it, and much less to load.
 */
export async function createProgram(only?: string): Promise<Command> {
  // Options belong to the command they follow (`matrix` and `matrix merge` share names such
  // as --out and --json); commander needs this on every command above the one that uses it.
  // The program has no options of its own, so the other commands parse as before.
  const program = new Command()
    .name(PROGRAM)
    .description("simulate an AMD IOMMU machine through a panic and its kdump kernel")
    .version(VERSION, "-V, --version", "print the version (deno.json's) and exit")
    .enablePositionalOptions();
  const wanted = COMMANDS.filter(([name]) => only === undefined || name === only);
  const registers = await Promise.all(wanted.map(([, load]) => load()));
  for (const register of registers) register(program);
  addExamples(program);
  installUsageErrors(program);
  return program;
}

/**
 * The one command `args` runs, when it can be run alone: a known command other than
 * `completions` (whose script covers every command). Help, unknown commands and no command at
 * all get the whole program, so commander answers them as it always did.
 */
function singleCommand(args: readonly string[]): string | undefined {
  const first = args[0];
  if (first === undefined || first === "completions") return undefined;
  return COMMANDS.some(([name]) => name === first) ? first : undefined;
}

/**
 * Runs the command line on `args` (without the program name) and returns the exit code:
 * 0 success, 2 bad input or usage, 1 internal error.
 */
export async function main(args: readonly string[]): Promise<number> {
  const program = await createProgram(singleCommand(args));
  let context = "";
  program.hook("preAction", (_root, action) => {
    context = commandPath(action);
    const opts: Record<string, unknown> = action.opts();
    setQuietWrites(opts.quiet === true);
    checkOutputs(opts); // outputs that would lose data are refused before anything runs
  });
  try {
    await program.parseAsync([...args], { from: "user" });
    return 0;
  } catch (err) {
    return exitCodeFor(err, context);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
