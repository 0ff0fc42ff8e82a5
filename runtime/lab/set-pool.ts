/**
 * A {@link SetPool} over a {@link BatchPool}: the runs of a search (`bisect`, `minimize`,
 * `ablate`) whose base series names users' plugin files happen in sandbox hosts, like every
 * other run of users' code — the files are loaded, and the series built, only there. Each set
 * is one job (`only`: the set and the `with` plugins) of a config whose recipe is the base.
 *
 * @module
 */
import { BatchPool, type SeriesRecipe } from "./batch.ts";
import type { SetPool } from "./probe.ts";
import type { SandboxLimits } from "./sandbox.ts";
import { parseScenario, type ScenarioInput } from "./scenario.ts";

/** What a {@link setPool} runs. */
export interface SetPoolOptions {
  /** The scenario, as written (a built-in's value or a parsed scenario file). */
  scenario: ScenarioInput;
  /** The base series of every step, as plain data (its files load in the sandbox hosts). */
  recipe: SeriesRecipe;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** The limits users' code runs under. */
  sandbox?: SandboxLimits;
}

/**
 * Starts a pool of one sandbox host (or, for a recipe without users' files, this thread) for
 * the sets of a search, and learns which plugins the base series enables.
 *
 * @throws {InputError} for a bad scenario, plugin file or series edit
 */
export async function setPool(opts: SetPoolOptions): Promise<SetPool> {
  const seed = opts.seed ?? parseScenario(opts.scenario).seed;
  const pool = new BatchPool(
    { scenario: opts.scenario, recipe: opts.recipe, reports: true, sandbox: opts.sandbox },
    { workers: 1 },
  );
  const enabled = await pool.enabledIds();
  return {
    enabled,
    run: async (ids) => (await pool.run([{ seed, only: [...ids] }]))[0].report!,
    close: () => pool.close(),
  };
}
