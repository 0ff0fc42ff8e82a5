/**
 * `deno task reuse-check [--seeds 1..2] [--force] [--scenarios a,b] [--with ids] [--workers N]`:
 * proves the matrix's reuse (runtime/lab/reuse.ts) changes nothing it writes. For every built-in
 * scenario (or those named) it runs the full matrix over the seeds with the later fixes on in
 * every run (`--with`, default `later`), once with reuse and once with `reuse: false`, and
 * compares the JSONL byte for byte. Exit code 0: all the same; 1: some differ; 2: bad arguments.
 *
 * @module
 */
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
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
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--force") {
      a.force = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--seeds") {
      const m = /^(\d+)\.\.(\d+)$/.exec(v);
      if (!m || Number(m[1]) > Number(m[2])) throw new Error(`--seeds: "${v}" is not A..B`);
      a.seeds = Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, k) => Number(m[1]) + k);
    } else if (flag === "--scenarios") {
      a.scenarios = v.split(",").filter(Boolean);
      const unknown = a.scenarios.filter((s) => !Object.hasOwn(SCENARIOS, s));
      if (unknown.length) throw new Error(`--scenarios: unknown ${unknown.join(", ")}`);
    } else if (flag === "--with") a.with = v.split(",").filter(Boolean);
    else if (flag === "--workers") {
      a.workers = Number(v);
      if (!Number.isInteger(a.workers) || a.workers < 0) {
        throw new Error(`--workers: "${v}" is not a whole number`);
      }
    } else throw new Error(`unknown argument ${flag}`);
  }
  return a;
}

async function main(argv: readonly string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    console.error(`reuse-check: ${(e as Error).message}`);
    return 2;
  }
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
