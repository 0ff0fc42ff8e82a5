/**
 * What shell completion needs to know about the command line, read off the commander program
 * itself — every command, subcommand, option and argument choice it shows in `--help` — so
 * the scripts (`completion-scripts.ts`) stay in step with the commands as they are added.
 *
 * Option values are completed by kind, chosen by the option's long name: plugin ids
 * (`--disable`, `--before`, …; comma lists for `--series`, `--order`, `--with`, `--patches`),
 * scenario names (`--scenario`), files (`--plugin`, `--scenario-file`, `--html`, `--out`, …),
 * or the option's own choices.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";

/** How an option's value is completed. */
export type ValueKind =
  | { kind: "none" }
  | { kind: "plugin" }
  | { kind: "plugin-list" }
  | { kind: "series-spec" }
  | { kind: "scenario" }
  | { kind: "file" }
  | { kind: "choices"; choices: string[] };

/** One option of a command. */
export interface CompletionOption {
  /** `--series`, and the short flag if any (`-h`). */
  long?: string;
  short?: string;
  description: string;
  /** Whether a value follows the flag (`--seed <n>`). */
  takesValue: boolean;
  value: ValueKind;
}

/** One command: its words from the program, its subcommands, options and argument choices. */
export interface CompletionCommand {
  /** Words after the program name (`[]` for the program, `["decode", "dte"]`). */
  path: string[];
  name: string;
  description: string;
  subcommands: CompletionCommand[];
  options: CompletionOption[];
  /** Choices of its positional arguments (e.g. `bash zsh fish`), if it declares any. */
  argChoices: string[];
}

/** Everything a completion script is generated from. */
export interface CompletionModel {
  /** The program's name (`kdump-lab`): the command the script completes. */
  program: string;
  root: CompletionCommand;
  /** Plugin ids known without loading files. */
  plugins: string[];
  /** Built-in scenario names. */
  scenarios: string[];
}

const PLUGIN = new Set(["disable", "before", "after", "without", "patch", "plugin-id"]);
const PLUGIN_LIST = new Set(["order", "with", "patches"]);
const FILE = new Set(["plugin", "scenario-file", "html", "out", "output", "replace", "file"]);

/** A value placeholder that names a file: `<file>`, `<path>`, `<script>`, `<id=file>`. */
const FILE_PLACEHOLDER = /[<[](?:[\w-]*=)?(?:file|path|script|dir)[>\]]/i;

/**
 * The value kind of an option, by its long name, else by its value placeholder (`--log
 * <file>` takes a file; see the module documentation).
 */
export function valueKind(
  long: string | undefined,
  choices?: readonly string[],
  flags = "",
): ValueKind {
  if (choices?.length) return { kind: "choices", choices: [...choices] };
  const name = (long ?? "").replace(/^--/, "");
  if (name === "series") return { kind: "series-spec" };
  if (name === "scenario") return { kind: "scenario" };
  if (PLUGIN.has(name)) return { kind: "plugin" };
  if (PLUGIN_LIST.has(name)) return { kind: "plugin-list" };
  if (FILE.has(name) || FILE_PLACEHOLDER.test(flags)) return { kind: "file" };
  return { kind: "none" };
}

/** The first line of a description, at most 90 characters. */
function short(text: string): string {
  const line = text.split("\n")[0].trim();
  return line.length > 90 ? line.slice(0, 89) + "…" : line;
}

/** Reads one command (and its subcommands, recursively) as commander shows it in help. */
function readCommand(cmd: CommandUnknownOpts, path: string[] = []): CompletionCommand {
  const help = cmd.createHelp();
  const options = help.visibleOptions(cmd).map((o): CompletionOption => {
    const takesValue = o.required || o.optional;
    return {
      long: o.long,
      short: o.short,
      description: short(o.description),
      takesValue,
      value: takesValue ? valueKind(o.long, o.argChoices, o.flags) : { kind: "none" },
    };
  });
  const subcommands = help.visibleCommands(cmd).map((sub) => {
    if (sub.name() === "help" && !cmd.commands.includes(sub)) {
      // commander's implicit `help [command]`: its argument is a sibling command's name
      return {
        path: [...path, "help"],
        name: "help",
        description: short(sub.description()),
        subcommands: [],
        options: [],
        argChoices: cmd.commands.map((c) => c.name()),
      };
    }
    return readCommand(sub, [...path, sub.name()]);
  });
  return {
    path,
    name: path.at(-1) ?? cmd.name(),
    description: short(cmd.description()),
    subcommands,
    options,
    argChoices: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
  };
}

/** Every command of the tree, depth first, the root first. */
export function allCommands(root: CompletionCommand): CompletionCommand[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** The model of `program` with the given plugin ids and scenario names. */
export function completionModel(
  program: CommandUnknownOpts,
  lists: { plugins: readonly string[]; scenarios: readonly string[] },
): CompletionModel {
  return {
    program: program.name(),
    root: readCommand(program),
    plugins: [...lists.plugins],
    scenarios: [...lists.scenarios],
  };
}
