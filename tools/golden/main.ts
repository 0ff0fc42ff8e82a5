/**
 * `deno task golden [REV] [--seeds 1..20] [--series none:all] [--ignore FIELD,…] [--keep DIR]`:
 * proves a change left every report as it was. It writes `run --json` of every built-in
 * scenario × seeds × series (see `reports.ts`) in this working tree and in a temporary git
 * worktree of REV (default HEAD), compares them byte for byte and lists the cases that differ.
 * Exit code 0: all identical; 1: some differ; 2: bad arguments or a tree that failed to run.
 *
 * The two trees are measured in parallel, each by its own `deno run` with its own config.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { argsOrRefuse, denoIn, parseRevArgs, resolveCommit, TREE, withWorktree } from "../kit.ts";
import { parseSeeds, seedsText } from "../../runtime/lab/seeds.ts";
import { diffLines, diffReports, identical, readReports } from "./diff.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

interface Args {
  rev: string;
  seeds: string;
  series: string;
  ignore: string[];
  keep?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Omit<Args, "rev"> = { seeds: "1..20", series: "none:all", ignore: [] };
  const rev = parseRevArgs(argv, {
    "--seeds": (v) => a.seeds = seedsText(parseSeeds(v)),
    "--series": (v) => a.series = v,
    "--ignore": (v) => a.ignore = v.split(",").filter(Boolean),
    "--keep": (v) => a.keep = v,
  });
  return { rev, ...a };
}

/** Writes the reports of the tree at `root` into `out` (a `deno run` of reports.ts). */
async function writeReports(root: string, out: string, a: Args): Promise<void> {
  await denoIn(root, ["run", join(HERE, "reports.ts"), root, out, a.seeds, a.series], "reports");
}

async function main(argv: readonly string[]): Promise<number> {
  const a = argsOrRefuse("golden", () => parseArgs(argv));
  if (a === undefined) return 2;
  const { commit, why } = await resolveCommit(a.rev);
  if (!commit) {
    console.error(`golden: ${why}`);
    return 2;
  }
  const label = `${a.rev} (${commit.slice(0, 10)})`;
  try {
    return await withWorktree(commit, "kdump-lab-golden-", async (old, tmp) => {
      const outOld = a.keep ? join(a.keep, "before") : join(tmp, "before");
      const outNew = a.keep ? join(a.keep, "after") : join(tmp, "after");
      const started = performance.now();
      await Promise.all([writeReports(old, outOld, a), writeReports(TREE, outNew, a)]);
      const d = diffReports(readReports(outOld), readReports(outNew), { ignore: a.ignore });
      for (const line of diffLines(d, label)) console.log(line);
      console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
      return identical(d) ? 0 : 1;
    });
  } catch (e) {
    console.error(`golden: ${(e as Error).message}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
