/**
 * `kdump-lab matrix`: run every subset of the series' patches (or a pairwise set, or the
 * subsets of some patches) on a scenario, in Workers on every core, and summarise: verdict
 * counts, each patch against the dump-ok runs, the smallest dump-ok sets. One compact JSON
 * line per run goes to `--out FILE` (or stdout with `--jsonl`); `--shard k/n` runs a share of
 * the runs, and `kdump-lab matrix merge FILE...` puts the shards back together, byte for
 * byte what the unsharded run writes.
 *
 * @module
 */
import {
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "npm:@commander-js/extra-typings@^14";
import { InputError, readFailure } from "../../lab/input.ts";
import { MatrixPlan, parseShard, shardIndices } from "../../lab/matrix.ts";
import { formatJsonl, type MatrixFile, mergeJsonl } from "../../lab/matrix-jsonl.ts";
import { type MatrixResult, runMatrix } from "../../lab/matrix-pool.ts";
import { perSet, summarize } from "../../lab/matrix-summary.ts";
import { renderMatrixHtml } from "../../html/mod.ts";
import { htmlOption, writeHtml } from "../html-output.ts";
import { print, printErr, writeStdout } from "../io.ts";
import { writeOutputFile } from "../output-files.ts";
import { renderMatrix } from "../matrix-view.ts";
import { start } from "../progress.ts";
import { quietOption, verboseOption, withOption } from "../probe-options.ts";
import {
  resolveScenario,
  scenarioFileOption,
  scenarioOption,
  seedOption,
} from "../scenario-options.ts";
import {
  disableOption,
  forceOption,
  orderOption,
  parseIdList,
  pluginPlacementOptions,
  replaceOption,
} from "../series-options.ts";
import { parseWorkers, seedsOption } from "../sweep-options.ts";
import { limitsFromOptions, sandboxOptions } from "../sandbox-options.ts";

function parseShardOption(value: string) {
  try {
    return parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
}

/** Output options shared by `matrix` and `matrix merge`. */
interface OutputOpts {
  html?: string;
  out?: string;
  jsonl?: true;
  json?: true;
  results?: true;
}

const MATRIX_HELP = `
Runs:
  full (default): run i applies the patches whose bit is set in i, bit j = the j-th patch
    of --patches (default: the whole series) in series order; 2^k runs.
  --pairwise: no patch, each patch alone, each pair, all of them (1 + k + k(k-1)/2 + 1 runs):
    every pair of patches is applied together, and every on/off combination of any two
    patches occurs.
  Every run adds the --with plugins and --plugin files, and applies --replace, --order and
  --disable as run does (--patches plays the part of --series). A series whose dependencies
  are missing is "skipped" (not run) unless --force.
  A run whose plugins look the same as an earlier run's (same seed and kernel banner)
  wherever that run reached — the same handlers at every hook point it called, the same
  providers of every symbol it looked up — gets that run's line instead of a simulation:
  it would go the same way. stderr says how many did; --no-reuse simulates every run (for
  plugin files that use a clock or random numbers of their own, or state kept across runs).

Output:
  The summary table on stdout (or --json). The JSONL — a header line {"matrix":{…}}, then
  one line per run sorted by index: {index, mask, ids, verdict, ioPageFaults,
  faultsPrinted, faultsSuppressed, strayWriteCount, badPages, cause}, the Report's names —
  goes to --out FILE, or to stdout with --jsonl or --shard. mask is over the whole series (bit j = the j-th patch of the series).

Sharding:
  --shard k/n runs the indices i with i % n == k-1; "matrix merge" checks that the shard
  files hold every run once and writes what the unsharded run writes.

Examples:
  kdump-lab matrix --with bnx2-no-kdump-wait --out matrix.jsonl
  kdump-lab matrix --pairwise --with bnx2-no-kdump-wait --json
  kdump-lab matrix --patches copy-dev-tables,copy-old-trans-table --with bnx2-no-kdump-wait --jsonl
  kdump-lab matrix --pairwise --seeds 20 --html pairwise.html   # each set on seeds 1..20
  kdump-lab matrix --with bnx2-no-kdump-wait --shard 1/2 --out a.jsonl   # on one machine
  kdump-lab matrix --with bnx2-no-kdump-wait --shard 2/2 --out b.jsonl   # on another
  kdump-lab matrix merge a.jsonl b.jsonl --out matrix.jsonl`;

/** The JSONL option set (`--out`, `--jsonl`, `--json`, `--results`). */
function outputOptions() {
  return [
    new Option("--out <file>", "write the JSONL (header line + one line per run) to FILE"),
    new Option("--jsonl", "print the JSONL on stdout instead of the summary").conflicts([
      "out",
      "json",
    ]),
    new Option("--json", "print {matrix, runs, summary} as JSON instead of the table"),
    new Option("--results", "with --json: include every result line as `results`"),
  ] as const;
}

/** Prints and writes what the options ask for. `toStdout`: the JSONL goes to stdout. */
async function emit(file: MatrixFile, opts: OutputOpts, toStdout: boolean): Promise<void> {
  const text = formatJsonl(file.header, file.lines);
  if (opts.html !== undefined) {
    await writeHtml(
      opts.html,
      renderMatrixHtml({
        cells: perSet(file.lines),
        patches: file.header.patches,
        with: file.header.with,
        scenario: file.header.scenario,
        seed: file.header.seeds === undefined ? file.header.seed : undefined,
        seeds: file.header.seeds,
      }),
    );
  }
  if (opts.out !== undefined) writeOutputFile("--out", opts.out, text);
  if (toStdout) return writeStdout(text);
  const summary = summarize(file.header, file.lines);
  if (opts.json) {
    const results = opts.results ? { results: file.lines } : {};
    print(
      JSON.stringify(
        { matrix: file.header, runs: file.lines.length, summary, ...results },
        null,
        2,
      ),
    );
  } else print(...renderMatrix(file.header, summary));
}

/** Registers `matrix` and `matrix merge` on `program`. */
export function registerMatrix(program: CommandUnknownOpts): void {
  const placement = pluginPlacementOptions();
  const sandbox = sandboxOptions();
  const [out, jsonl, json, results] = outputOptions();
  const matrix = program
    .command("matrix")
    .description(
      "run every subset of the series (or a pairwise set) in workers; summarise the verdicts",
    )
    .addOption(scenarioOption())
    .addOption(scenarioFileOption())
    .addOption(seedOption())
    .addOption(seedsOption())
    .addOption(
      new Option("--patches <ids>", "toggle only these patches (comma list; default: all 12)")
        .argParser(parseIdList),
    )
    .addOption(
      withOption("plugins applied in every run (comma list, repeatable), e.g. bnx2-no-kdump-wait"),
    )
    .addOption(placement.plugin)
    .addOption(placement.before)
    .addOption(placement.after)
    .addOption(replaceOption())
    .addOption(orderOption())
    .addOption(disableOption())
    .option("--pairwise", "a pairwise set instead of every subset")
    .addOption(forceOption())
    .option(
      "--no-reuse",
      "simulate every run (by default a run whose plugins look the same as an earlier run's " +
        "wherever that run reached gets its line)",
    )
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .addOption(
      new Option("--workers <n>", "worker threads (default: the number of cores)").argParser(
        parseWorkers,
      ),
    )
    .addOption(
      new Option("--shard <k/n>", "run only the indices i with i % n == k-1; JSONL output")
        .argParser(parseShardOption),
    )
    .addOption(out)
    .addOption(jsonl)
    .addOption(json)
    .addOption(results)
    .addOption(
      quietOption(
        "no progress on stderr (shown by default: a bar on a terminal, else a line per tenth)",
      ),
    )
    .addOption(verboseOption("progress as a line per tenth of the runs, on a terminal too"))
    .addOption(
      htmlOption("the patch sets that ran, grouped by outcome, and why the rest were skipped"),
    )
    // matrix's own options stay out of `matrix merge`'s (the program enables this too)
    .enablePositionalOptions()
    .addHelpText("after", MATRIX_HELP)
    .action(async (opts) => {
      const toStdout = opts.jsonl === true || (opts.shard !== undefined && opts.out === undefined);
      if (toStdout && opts.json) {
        throw new InputError("--json needs --out FILE with --shard (stdout carries the JSONL)");
      }
      const scenario = await resolveScenario(opts);
      const config = {
        scenario,
        seed: opts.seed,
        seeds: opts.seeds,
        mode: opts.pairwise ? "pairwise" as const : "full" as const,
        patches: opts.patches,
        with: opts.with,
        plugins: opts.plugin ?? [],
        replace: opts.replace,
        order: opts.order,
        disable: opts.disable,
        force: opts.force === true,
        sandbox: limitsFromOptions(opts),
        reuse: opts.reuse,
      };
      const runs =
        shardIndices(new MatrixPlan(config.mode, config.patches, config.seeds).size, opts.shard)
          .length;
      const progress = start(runs, "matrix", {
        quiet: opts.quiet,
        tty: opts.verbose ? false : undefined,
      });
      let file: MatrixResult;
      try {
        file = await runMatrix(config, {
          workers: opts.workers,
          shard: opts.shard,
          onProgress: (n) => progress.tick(n),
        });
      } finally {
        progress.stop();
      }
      if (file.reused && !opts.quiet) {
        printErr(
          `matrix: ${file.reused} of ${file.lines.length} runs got the line of an earlier run ` +
            `whose plugins looked the same wherever it reached (--no-reuse simulates each)`,
        );
      }
      await emit(file, opts, toStdout);
    });

  const [mergeOut, mergeJsonlOption, mergeJson, mergeResults] = outputOptions();
  matrix
    .command("merge")
    .description("merge matrix shard files into one sorted JSONL and summarise it")
    .argument("<files...>", "JSONL files written by matrix --shard")
    .addOption(mergeOut)
    .addOption(mergeJsonlOption)
    .addOption(mergeJson)
    .addOption(mergeResults)
    .addOption(htmlOption("the merged matrix (the patch sets by outcome)"))
    .action(async (files, opts) => {
      const texts = [];
      for (const name of files) {
        try {
          texts.push({ name, text: await Deno.readTextFile(name) });
        } catch (e) {
          throw new InputError(`${name}: cannot read it: ${readFailure(e)}`);
        }
      }
      await emit(mergeJsonl(texts), opts, opts.jsonl === true);
    });
}
