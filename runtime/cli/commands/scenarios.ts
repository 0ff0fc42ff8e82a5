/**
 * `kdump-lab scenarios`: the built-in scenarios, by name, with their descriptions.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { ansis } from "../colors.ts";
import { scenarioNames, SCENARIOS } from "../../lab/scenarios/mod.ts";
import { print } from "../io.ts";

/** Name and description of each built-in scenario, in registry order. */
function scenarioList(): { name: string; description: string }[] {
  return scenarioNames().map((name) => ({ name, description: SCENARIOS[name].description }));
}

/** Registers the `scenarios` command on `program`. */
export function registerScenarios(program: CommandUnknownOpts): void {
  program
    .command("scenarios")
    .description("list the built-in scenarios")
    .option("--json", "print [{ name, description }] as JSON")
    .action((opts) => {
      const list = scenarioList();
      if (opts.json) return print(JSON.stringify(list, null, 2));
      const width = Math.max(...list.map((s) => s.name.length));
      print(...list.map((s) => `${ansis.bold(s.name.padEnd(width))}  ${s.description}`));
    });
}
