/**
 * `deno task reuse-check [--seeds SPEC] [--force] [--scenarios a,b] [--with ids] [--workers N]`:
 * proves the matrix's reuse (runtime/lab/reuse.ts) changes nothing it writes. For every built-in
 * scenario (or those named) it runs the full matrix over the seeds (as `matrix --seeds` takes
 * them; default 1..2) with the later fixes on in every run (`--with`, default `later`), once
 * with reuse and once with `reuse: false`, and compares the JSONL byte for byte. Exit code 0: all the same; 1: some differ; 2: bad arguments.
 *
 * @module
 */
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { parseSeeds } from "../../runtime/lab/seeds.ts";
import { argsOrRefuse, parseToolArgs } from "../kit.ts";
import { checkLine, checkReuse } from "./check.ts";

interface Args {
  seeds: number[];
  force: boolean;
  scenarios: string[];
  with: string[];
  workers: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    seeds: [1, 2],
    force: false,
    scenarios: Object.keys(SCENARIOS),
    with: ["later"],
    workers: Math.max(1, navigator.hardwareConcurrency || 1),
  };
  const rest = parseToolArgs(argv, {
    "--seeds": (v) => a.seeds = parseSeeds(v),
    "--scenarios": (v) => {
      a.scenarios = v.split(",").filter(Boolean);
      const unknown = a.scenarios.filter((s) => !Object.hasOwn(SCENARIOS, s));
      if (unknown.length) throw new Error(`--scenarios: unknown ${unknown.join(", ")}`);
    },
    "--with": (v) => a.with = v.split(",").filter(Boolean),
    "--workers": (v) => {
      a.workers = Number(v);
      if (!Number.isInteger(a.workers) || a.workers < 0) {
        throw new Error(`--workers: "${v}" is not a whole number`);
      }
    },
  }, { "--force": () => a.force = true });
  if (rest.length) throw new Error(`unexpected argument ${rest[0]}`);
  return a;
}

async function main(argv: readonly string[]): Promise<number> {
  const a = argsOrRefuse("reuse-check", () => parseArgs(argv));
  if (a === undefined) return 2;
  let bad = 0;
  for (const name of a.scenarios) {
    const c = await checkReuse(name, {
      scenario: SCENARIOS[name],
      mode: "full",
      seeds: a.seeds,
      with: a.with,
      force: a.force,
    }, a.workers);
    console.log(checkLine(c));
    if (c.differ.length) bad++;
  }
  console.log(`reuse-check: ${bad} of ${a.scenarios.length} scenarios differ`);
  return bad ? 1 : 0;
}

Deno.exit(await main(Deno.args));
