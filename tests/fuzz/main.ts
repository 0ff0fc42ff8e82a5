/**
 * `deno task fuzz [--cases N] [--seed S] [--workers W] [--timeout SECONDS] [--out DIR]`:
 * fuzzes scenario files. N cases (default 100,000) drawn by fast-check from a fixed seed
 * (printed; chunk k of 500 cases uses seed S+k) are judged in W workers (default: one per
 * core) the way `run --scenario-file` would run them. A case must end in a Report or a
 * refusal that names the file and the value's path (see judge.ts); anything else is a crash,
 * and a case still running after the timeout (default 300 s of wall-clock time, far above
 * the few seconds the largest scenario the checks accept takes) is a hang.
 * Each crash or hang is written to DIR (default `fuzz-failures/`) as a scenario file with
 * the command that replays it. Exit code 0 only with 0 crashes and 0 hangs.
 */
import fc from "npm:fast-check@^4";
import { FuzzPool } from "./pool.ts";
import { type FuzzCase, scenarioCaseArb } from "./scenario-arb.ts";
import type { Outcome } from "./judge.ts";

const CHUNK = 500;

function option(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`fuzz: --${name} takes a non-negative integer`);
    Deno.exit(2);
  }
  return v;
}

const cases = option("cases", 100_000);
const seed = option("seed", 20_171_002);
const workers = Math.max(1, option("workers", navigator.hardwareConcurrency || 2));
const timeoutMs = option("timeout", 300) * 1000;
const outAt = Deno.args.indexOf("--out");
const outDir = outAt >= 0 ? Deno.args[outAt + 1] : "fuzz-failures";

console.log(
  `fuzz: ${cases} scenario files, fast-check seed ${seed}, ${workers} workers, ` +
    `hang = over ${timeoutMs / 1000} s`,
);
const pool = new FuzzPool(workers, timeoutMs);
const arb = scenarioCaseArb();
const counts = { report: 0, refused: 0, crash: 0, hang: 0 };
const verdicts = new Map<string, number>();
const started = performance.now();
let slowest = 0;

async function keep(c: FuzzCase, o: Outcome, n: number): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  const base = `${outDir}/case-${n}-${o.kind}`;
  const file = `${base}.${c.format}`;
  await Deno.writeTextFile(file, c.text);
  const replay = `deno task lab run --scenario-file ${file}` +
    (c.series ? ` --series ${c.series}` : "") + (c.seed !== undefined ? ` --seed ${c.seed}` : "");
  await Deno.writeTextFile(`${base}.txt`, `${replay}\n\n${"detail" in o ? o.detail : ""}\n`);
  console.error(`fuzz: case ${n}: ${o.kind}: ${file}\n  ${replay}`);
}

let n = 0, done = 0;
const inflight = new Set<Promise<void>>();
for (let chunk = 0; n < cases; chunk++) {
  const batch = fc.sample(arb, { seed: seed + chunk, numRuns: Math.min(CHUNK, cases - n) });
  for (const c of batch) {
    const index = n++;
    const p = pool.run(c).then(async ({ outcome: o, ms }) => {
      slowest = Math.max(slowest, ms);
      if (ms > 10_000) console.error(`fuzz: case ${index} took ${(ms / 1000).toFixed(1)} s`);
      counts[o.kind]++;
      if (o.kind === "report") verdicts.set(o.verdict, (verdicts.get(o.verdict) ?? 0) + 1);
      if (o.kind === "crash" || o.kind === "hang") await keep(c, o, index);
      if (++done % 5000 === 0) {
        const s = ((performance.now() - started) / 1000).toFixed(0);
        console.log(
          `fuzz: ${done}/${cases} after ${s} s: ${counts.report} reports, ${counts.refused} ` +
            `refused, ${counts.crash} crashes, ${counts.hang} hangs`,
        );
      }
    });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size >= 2 * workers) await Promise.race(inflight);
  }
}
await Promise.all(inflight);
pool.close();
const secs = ((performance.now() - started) / 1000).toFixed(0);
console.log(
  `fuzz: ${n} cases (seed ${seed}) in ${secs} s: ${counts.report} reports (${
    [...verdicts].sort((a, b) => b[1] - a[1]).map(([v, k]) => `${v} ${k}`).join(", ")
  }), ${counts.refused} refused, ${counts.crash} crashes, ${counts.hang} hangs; ` +
    `slowest case ${(slowest / 1000).toFixed(1)} s`,
);
Deno.exit(counts.crash || counts.hang ? 1 : 0);
