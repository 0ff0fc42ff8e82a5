/**
 * `deno task bench-compare [REV] [--rounds N] [--bench NAME,…]`: the benches' figures of this
 * working tree and of REV (default HEAD) side by side, measured the way the README's
 * Development figures are — each tree with its own benches (`deno bench` of
 * tests/bench/NAME.bench.ts in a temporary git worktree of REV, and here), one after the
 * other, alternately (REV, here, REV, here, …) so a slow minute on a shared machine falls on
 * both. Never in parallel: the two would time each other. Exit code 0; 2 for bad arguments,
 * an unknown revision or bench, or a bench that failed.
 *
 * @module
 */
import { join } from "node:path";
import { argsOrRefuse, denoIn, parseRevArgs, resolveCommit, TREE, withWorktree } from "../kit.ts";
import { compareLines, type Measured, parseFigures } from "./figures.ts";

interface Args {
  rev: string;
  rounds: number;
  benches?: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const a: Omit<Args, "rev"> = { rounds: 2 };
  const rev = parseRevArgs(argv, {
    "--rounds": (v) => {
      a.rounds = Number(v);
      if (!Number.isInteger(a.rounds) || a.rounds < 1 || a.rounds > 20) {
        throw new Error(`--rounds: "${v}" is not a whole number from 1 to 20`);
      }
    },
    "--bench": (v) => a.benches = v.split(",").filter(Boolean),
  });
  return { rev, ...a };
}

/** The bench names (file stems) in a tree's tests/bench. */
function benchesOf(root: string): string[] {
  const dir = join(root, "tests", "bench");
  const names: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".bench.ts")) names.push(e.name.slice(0, -".bench.ts".length));
  }
  return names.sort();
}

/** The figures `deno bench` of bench `name` prints in the tree at `root`. */
async function benchFigures(root: string, name: string) {
  return parseFigures(
    await denoIn(root, ["bench", `tests/bench/${name}.bench.ts`], `bench ${name}`),
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const a = argsOrRefuse("bench-compare", () => parseArgs(argv));
  if (a === undefined) return 2;
  const here = benchesOf(TREE);
  const benches = a.benches ?? here;
  const unknown = benches.filter((b) => !here.includes(b));
  if (unknown.length) {
    console.error(
      `bench-compare: --bench: no bench ${unknown.join(", ")} in tests/bench (there are ${
        here.join(", ")
      })`,
    );
    return 2;
  }
  const { commit, why } = await resolveCommit(a.rev);
  if (!commit) {
    console.error(`bench-compare: ${why}`);
    return 2;
  }
  const label = `${a.rev} (${commit.slice(0, 10)})`;
  const trees = [label, "this tree"];
  try {
    await withWorktree(commit, "kdump-lab-bench-", async (old) => {
      const there = benchesOf(old);
      const measured: Measured[] = [];
      for (let round = 1; round <= a.rounds; round++) {
        for (const [tree, root] of [[label, old], [trees[1], TREE]]) {
          const figures = [];
          for (const b of benches) {
            if (root === old && !there.includes(b)) continue; // shown as not printed
            console.error(`round ${round}/${a.rounds}: ${tree}: ${b}`);
            figures.push(...await benchFigures(root, b));
          }
          measured.push({ tree, round, figures });
        }
      }
      for (const line of compareLines(trees, measured)) console.log(line);
    });
    return 0;
  } catch (e) {
    console.error(`bench-compare: ${(e as Error).message}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
