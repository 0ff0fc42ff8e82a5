/**
 * A cold `lab run` (the default scenario, 4.13) as a whole process, against `deno run` of an
 * empty script: the median of several of each, and the ratio (the target: ≤ 2×).
 */
import { fileURLToPath } from "node:url";
import { figure, median, ms } from "./measure.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EMPTY = fileURLToPath(new URL("./empty.ts", import.meta.url));

async function spawn(args: string[]): Promise<number> {
  const s = performance.now();
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`deno ${args.join(" ")} failed`);
  return performance.now() - s;
}

const labRun = () => spawn(["run", "-A", "runtime/cli/main.ts", "run"]);
const empty = () => spawn(["run", "-A", EMPTY]);

await labRun(); // the module graph is in Deno's cache from here on
await empty();
const lab: number[] = [], base: number[] = [];
for (let i = 0; i < 7; i++) {
  lab.push(await labRun());
  base.push(await empty());
}
figure(
  "one `lab run` process vs `deno run` of an empty script (medians of 7)",
  `${ms(median(lab))} vs ${ms(median(base))}: ${(median(lab) / median(base)).toFixed(1)}x`,
);

Deno.bench("cold `lab run` (default scenario) as a process", { group: "cli", n: 5 }, async () => {
  await labRun();
});
Deno.bench("`deno run` of an empty script", { group: "cli", baseline: true, n: 5 }, async () => {
  await empty();
});
