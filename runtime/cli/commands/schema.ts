/**
 * `kdump-lab schema report|scenario`: print a JSON Schema — the Report's (what `run --json`
 * prints) or a scenario file's (what `--scenario-file` reads). The output is JSON either way;
 * `--json` is accepted like on every other command.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { SCHEMAS } from "../../lab/schemas.ts";
import { print } from "../io.ts";

/** Registers `schema` and one subcommand per schema on `program`. */
export function registerSchema(program: CommandUnknownOpts): void {
  const schema = program
    .command("schema")
    .description("print the JSON Schema of a report or of a scenario file");
  for (const [name, { description, schema: jsonSchema }] of Object.entries(SCHEMAS)) {
    schema
      .command(name)
      .description(`JSON Schema (draft 2020-12) of ${description}`)
      .option("--json", "print it as JSON (the default; accepted for symmetry)")
      .action(() => print(JSON.stringify(jsonSchema(), null, 2)));
  }
}
