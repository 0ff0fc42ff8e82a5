/**
 * `kdump-lab ablate`: leave-one-out over the series. The first row is the whole series (plus
 * `--with`), then one row per patch left out: verdict, IO_PAGE_FAULTs logged / printed /
 * suppressed, stray writes, bad dump pages, and what changes against the whole series. A
 * series that would not build without the patch is not forced: the row is `skipped` and says
 * who needs the patch.
 *
 * `--json` prints a list of `{ id, verdict, … }`: the first object has id `none` (nothing
 * left out: the whole series), then one per patch, whose `id` is the patch left out.
 *
 * Each row run is a line on stderr when stderr is a terminal or with `--verbose`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { renderAblateHtml } from "../../html/mod.ts";
import { htmlOption, writeHtml } from "../html-output.ts";
import Table from "npm:cli-table3@^0.6";
import { ablate, type AblationRow, NOTHING_LEFT_OUT } from "../../lab/ablate.ts";
import { checkWith } from "../../lab/probe.ts";
import type { Verdict } from "../../lab/report.ts";
import type { SweepCounter } from "../../lab/sweep.ts";
import { print, printErr, terminalWidth } from "../io.ts";
import {
  addProbeOptions,
  addSearchSeriesOptions,
  quietOption,
  SEARCH_SERIES_HELP,
  searchSetup,
  showProgress,
  verboseOption,
} from "../probe-options.ts";
import { resolveScenario } from "../scenario-options.ts";
import { sandboxOptions } from "../sandbox-options.ts";
import { styleVerdict } from "../summary.ts";

/** The rows as a terminal table. */
function renderAblation(rows: readonly AblationRow[], width = 120): string {
  const idWidth = Math.max(21, ...rows.map((r) => r.id.length)) + 2;
  const fixed = [idWidth, 20, 16, 8, 7];
  const last = Math.max(20, width - fixed.reduce((a, b) => a + b, 0) - (fixed.length + 2));
  const table = new Table({
    head: [
      "left out",
      "verdict",
      "IO_PAGE_FAULTs\nlogged/printed\n/suppressed",
      "stray\nwrites",
      "bad\npages",
      "changes vs the whole series",
    ],
    colWidths: [...fixed, last],
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    const skipped = r.verdict === "skipped";
    const n = (x: number) => skipped ? "-" : String(x);
    const sw = r.sweep;
    /** A counter: its value, or over seeds its min–max. */
    const c = (k: SweepCounter) =>
      skipped
        ? "-"
        : sw
        ? (sw.counters[k].min === sw.counters[k].max
          ? String(sw.counters[k].min)
          : `${sw.counters[k].min}–${sw.counters[k].max}`)
        : n(r[k]);
    const verdict = sw && !skipped
      ? [
        ...Object.entries(sw.verdicts).sort((a, b) => b[1]! - a[1]!).map(([v, k]) =>
          `${styleVerdict(v as Verdict)} ${k}/${sw.seeds.length}`
        ),
        `clean ${sw.clean}/${sw.seeds.length}`,
      ].join("\n")
      : styleVerdict(r.verdict as Verdict);
    table.push([
      r.id === "none" ? "none (whole series)" : r.id,
      verdict,
      skipped ? "-" : `${c("ioPageFaults")}/${c("faultsPrinted")}/${c("faultsSuppressed")}`,
      c("strayWriteCount"),
      c("badPages"),
      r.id === "none" ? "" : r.changes.length ? r.changes.join("; ") : "nothing observable",
    ]);
  }
  return table.toString();
}

/** Registers the `ablate` command on `program`. */
export function registerAblate(program: CommandUnknownOpts): void {
  const sandbox = sandboxOptions();
  addSearchSeriesOptions(addProbeOptions(
    program
      .command("ablate")
      .description("leave-one-out: the whole series, then without each patch in turn"),
  ))
    .option(
      "--json",
      'print a list of { id, verdict, … }: first id "none" (the whole series), then the ' +
        "patch left out",
    )
    .addOption(verboseOption())
    .addOption(quietOption())
    .addOption(htmlOption("the ablation as a heatmap"))
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .addHelpText("after", SEARCH_SERIES_HELP)
    .action(async (opts) => {
      const scenario = await resolveScenario(opts);
      const withIds = checkWith(opts.with);
      const runsIn = await searchSetup(opts, scenario);
      const lines = showProgress(opts);
      let rows;
      try {
        rows = await ablate({
          scenario,
          seed: opts.seed,
          seeds: opts.seeds,
          with: withIds,
          ...runsIn,
          onRow: (r, i, total) => {
            if (!lines) return;
            const what = r.id === NOTHING_LEFT_OUT ? "the whole series" : `without ${r.id}`;
            printErr(`ablate ${i + 1}/${total}: ${what}: ${r.verdict}`);
          },
        });
      } finally {
        runsIn.pool?.close();
      }
      if (opts.html !== undefined) {
        await writeHtml(
          opts.html,
          renderAblateHtml({
            reference: rows[0],
            rows: rows.slice(1),
            scenario: opts.scenarioFile ?? opts.scenario,
          }),
        );
      }
      if (opts.json) return print(JSON.stringify(rows, null, 2));
      const withText = opts.with.length ? ` + ${opts.with.join(", ")}` : "";
      const where = opts.scenarioFile ?? opts.scenario;
      print(`leave-one-out on ${where}: the series${withText}, without each patch in turn`);
      print(renderAblation(rows, terminalWidth()));
    });
}
