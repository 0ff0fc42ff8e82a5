/**
 * `kdump-lab table`: measures what each patch of the series changes — its scenario with the
 * series and without the patch — and prints the table README.md carries (`--markdown`), a
 * terminal view, or JSON.
 *
 * @module
 */
import { type CommandUnknownOpts, Option } from "npm:@commander-js/extra-typings@^14";
import { ansis } from "../colors.ts";
import { InputError, readFailure } from "../../lab/input.ts";
import { withTable } from "../../lab/readme.ts";
import { type OutcomeSweep, verdictCounts } from "../../lab/outcome.ts";
import { patchSweepTable, patchTable, renderTable } from "../../lab/table.ts";
import { parseSeedsArg, workersOption } from "../sweep-options.ts";

/** The seeds of the table by default (and of the README's): 1..100. */
const TABLE_SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);
import { print } from "../io.ts";
import { writeOutputFile } from "../output-files.ts";
import { parseSeed } from "../scenario-options.ts";

/** Registers the `table` command on `program`. */
export function registerTable(program: CommandUnknownOpts): void {
  program
    .command("table")
    .description("measure what each patch changes: its scenario with and without it")
    .option("--markdown", "print the Markdown table README.md carries")
    .option("--json", "print the rows as JSON")
    .option("--seed <n>", "one run per cell on this seed, instead of the sweep", parseSeed)
    .addOption(
      new Option(
        "--seeds <spec>",
        "the seeds every cell runs on (N = 1..N, A..B, comma lists); the README's table is 100",
      ).default(TABLE_SEEDS, "100").argParser(parseSeedsArg),
    )
    .addOption(workersOption())
    .option(
      "--update-readme <file>",
      "rewrite the table between the marker lines of this README (as deno fmt lays it out)",
    )
    .action(async (opts) => {
      // A README that cannot be read, or has no markers, is refused before anything runs.
      let readme: string | undefined;
      const name = `--update-readme ${opts.updateReadme}`;
      if (opts.updateReadme) {
        try {
          readme = await Deno.readTextFile(opts.updateReadme);
        } catch (e) {
          throw new InputError(`${name}: cannot read it: ${readFailure(e)}`);
        }
        withTable(readme, "", name);
      }
      const rows = opts.seed !== undefined
        ? patchTable(opts.seed as number)
        : await patchSweepTable(opts.seeds as number[], {
          workers: opts.workers as number | undefined,
        });
      if (opts.json) return print(JSON.stringify(rows, null, 2));
      if (opts.updateReadme && readme !== undefined) {
        const text = readme;
        const updated = withTable(text, renderTable(rows), name);
        if (updated === text) return print(`the patch table in ${opts.updateReadme} is current`);
        writeOutputFile("--update-readme", opts.updateReadme, updated);
        return print(`updated the patch table in ${opts.updateReadme}`);
      }
      if (opts.markdown) return print(renderTable(rows));
      for (const [i, r] of rows.entries()) {
        print(`${ansis.bold(`${String(i + 1).padStart(2)}. ${r.id}`)}  ${ansis.dim(r.title)}`);
        print(`    scenario ${r.scenario} (series ${r.base})`);
        const counts = (s?: OutcomeSweep) => s ? ` (${verdictCounts(s)}, clean ${s.clean})` : "";
        print(`    with:    ${r.with.verdict}${counts(r.sweeps?.with)}`);
        const without = r.rebuilt
          ? `skipped (${r.without.missing[0]}${
            r.without.missing.length > 1 ? ", …" : ""
          }); dropping ${r.rebuilt.dropped.join(", ")} too: ${r.rebuilt.outcome.verdict}${
            counts(r.sweeps?.rebuilt)
          }`
          : `${r.without.verdict}${counts(r.sweeps?.without)}`;
        print(`    without: ${without}`);
        print(
          `    changes: ${
            r.changes.length ? r.changes.join("; ") : "nothing observable in this scenario"
          }`,
        );
      }
    });
}
