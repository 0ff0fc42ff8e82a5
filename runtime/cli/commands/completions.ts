/**
 * `kdump-lab completions bash|zsh|fish`: print a shell completion script generated from the
 * program's own commands and options (so it follows every command registered), completing
 * plugin ids, scenario names and file names where options take them.
 *
 * @module
 */
import { Argument, type CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { fileURLToPath } from "node:url";
import { builtinPlugins } from "../../lab/plugins.ts";
import { scenarioNames } from "../../lab/scenarios/mod.ts";
import { completionModel } from "../completion-model.ts";
import { completionScript, type Shell, SHELLS } from "../completion-scripts.ts";
import { print } from "../io.ts";

/** The completion script of `program` for `shell`. */
function completionsFor(program: CommandUnknownOpts, shell: Shell): string {
  const model = completionModel(program, {
    plugins: [...builtinPlugins().keys()],
    scenarios: scenarioNames(),
  });
  return completionScript(shell, model);
}

/** This checkout (the folder of deno.json and package.json). */
const CHECKOUT = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");

const HELP = `
Install (the command completed is "kdump-lab", the command on PATH; with only Node and npm:
  npm install -g --install-links ${CHECKOUT}
  which runs it with the Deno of the deno npm package; see the README):
  bash: kdump-lab completions bash > ~/.local/share/bash-completion/completions/kdump-lab
  zsh:  kdump-lab completions zsh > "\${fpath[1]}/_kdump-lab"
  fish: kdump-lab completions fish > ~/.config/fish/completions/kdump-lab.fish`;

/** Registers `completions` on `program` (the root: the script covers all its commands). */
export function registerCompletions(program: CommandUnknownOpts): void {
  program
    .command("completions")
    .description("print a shell completion script for bash, zsh or fish")
    .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
    .addHelpText("after", HELP)
    .option("--json", "print { shell, script } as JSON")
    .action((shell, opts) => {
      const script = completionsFor(program, shell as Shell).trimEnd();
      print(opts.json ? JSON.stringify({ shell, script }, null, 2) : script);
    });
}
