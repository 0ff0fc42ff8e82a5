/**
 * A {@link SetPool} over a {@link BatchPool}: the runs of a search (`bisect`, `minimize`,
 * `ablate`) in workers — over many seeds, spread over the cores — and, when the base series
 * names users' plugin files, in sandbox hosts like every other run of users' code (the files
 * are loaded, and the series built, only there). Each run of a set is one job (`only`: the set
 * and the `with` plugins; a seed) of a config whose recipe is the base.
 *
 * @module
 */
import { BatchPool, type SeriesRecipe } from "./batch.ts";
import type { SetPool } from "./probe.ts";
import type { SandboxLimits } from "./sandbox.ts";
import type { ScenarioInput } from "./scenario.ts";

/** What a {@link setPool} runs. */
export interface SetPoolOptions {
  /** The scenario, as written (a built-in's value or a parsed scenario file). */
  scenario: ScenarioInput;
  /** The base series of every step, as plain data (its files load in the sandbox hosts). */
  recipe: SeriesRecipe;
  /** The limits users' code runs under. */
  sandbox?: SandboxLimits;
  /** Workers (default one per core; a single run is done in this thread unless sandboxed). */
  workers?: number;
}

/**
 * Starts a pool for the sets of a search — sandbox hosts for a recipe with users' files, else
 * Workers (or this thread) — and learns which plugins the base series enables.
 *
 * @throws {InputError} for a bad scenario, plugin file or series edit
 */
export async function setPool(opts: SetPoolOptions): Promise<SetPool> {
  const pool = new BatchPool(
    { scenario: opts.scenario, recipe: opts.recipe, reports: true, sandbox: opts.sandbox },
    { workers: opts.workers },
  );
  const enabled = await pool.enabledIds();
  return {
    enabled,
    run: async (ids, seeds) => {
      const only = [...ids];
      const results = await pool.run(seeds.map((seed) => ({ seed, only })));
      return results.map((r) => r.report!);
    },
    close: () => pool.close(),
  };
}
