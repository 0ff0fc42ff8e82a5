/**
 * Which plugins a run consulted: runs a scenario with a series on seeds 1..N and counts, for
 * each plugin, the seeds on which the run called one of its hook points or looked up one of
 * its symbols (`RunOptions.reached`). A plugin not consulted on a seed cannot have changed
 * that run — the reason `matrix` may give such a set an earlier run's line.
 *
 *   deno run -A examples/reached.ts [scenario] [seeds] [series]
 *   deno run -A examples/reached.ts amd-iommu-off 10 all
 */
import { reached, run, SCENARIOS, seriesFromSpec } from "../mod.ts";

const [scenario = "default", n = "10", spec = "all"] = Deno.args;
const seeds = Number(n);
if (!SCENARIOS[scenario] || !Number.isInteger(seeds) || seeds < 1) {
  console.error(`usage: reached.ts [${Object.keys(SCENARIOS).join("|")}] [seeds ≥ 1] [series]`);
  Deno.exit(2);
}
const series = seriesFromSpec(spec);
const plugins = series.resolve().plugins;
const consulted = new Map(plugins.map((p) => [p.id, 0]));
for (let seed = 1; seed <= seeds; seed++) {
  const seen = reached();
  run(SCENARIOS[scenario], { series, seed, reached: seen });
  for (const p of plugins) {
    const hooks = Object.keys(p.hooks).filter((h) => seen.hooks.has(h));
    const symbols = Object.keys(p.provides).filter((s) => seen.symbols.has(s));
    if (hooks.length || symbols.length) consulted.set(p.id, consulted.get(p.id)! + 1);
  }
}
console.log(`${scenario}, series ${spec}, seeds 1-${seeds}: plugins consulted`);
const width = Math.max(...plugins.map((p) => p.id.length));
for (const p of plugins) {
  console.log(`  ${p.id.padEnd(width)}  on ${consulted.get(p.id)}/${seeds} seeds`);
}
