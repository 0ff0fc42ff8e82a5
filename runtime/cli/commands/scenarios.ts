/**
 * `kdump-lab scenarios`: the built-in scenarios, by name, with their descriptions;
 * `kdump-lab scenarios show NAME [--json]` prints one as a file to edit and load back with
 * `run --scenario-file` (YAML unless `--json`).
 *
 * @module
 */
import { type CommandUnknownOpts, Option } from "npm:@commander-js/extra-typings@^14";
import { ansis } from "../colors.ts";
import { scenarioFileText } from "../../lab/scenario-source.ts";
import { scenarioNames, SCENARIOS } from "../../lab/scenarios/mod.ts";
import { print } from "../io.ts";

/** Name and description of each built-in scenario, in registry order. */
function scenarioList(): { name: string; description: string }[] {
  return scenarioNames().map((name) => ({ name, description: SCENARIOS[name].description }));
}

const SHOW_HELP = `
Examples:
  kdump-lab scenarios show default > mine.yaml      # edit it, then:
  kdump-lab run --scenario-file mine.yaml
  kdump-lab scenarios show torn-devtab-write --json

A scenario file may instead start with "extends: default" (a built-in name, or the path of
another scenario file relative to it) and give only what differs: objects merge key by key,
arrays replace the base's.`;

/** Registers the `scenarios` command (and `scenarios show`) on `program`. */
export function registerScenarios(program: CommandUnknownOpts): void {
  const scenarios = program
    .command("scenarios")
    .description("list the built-in scenarios (show NAME prints one as a scenario file)")
    .option("--json", "print [{ name, description }] as JSON")
    .enablePositionalOptions()
    .action((opts) => {
      const list = scenarioList();
      if (opts.json) return print(JSON.stringify(list, null, 2));
      const width = Math.max(...list.map((s) => s.name.length));
      print(...list.map((s) => `${ansis.bold(s.name.padEnd(width))}  ${s.description}`));
    });
  scenarios
    .command("show")
    .description("print a built-in scenario as a file to edit and run with --scenario-file")
    .argument("<name>", "a built-in scenario")
    .addOption(new Option("--yaml", "as YAML (the default)").conflicts("json"))
    .option("--json", "as JSON")
    .addHelpText("after", SHOW_HELP)
    .action((name, opts) => {
      print(scenarioFileText(name, opts.json ? "json" : "yaml").replace(/\n$/, ""));
    });
}
