/**
 * Runs a sweep: one configuration over a list of seeds, in workers (see batch.ts), then the
 * summary (see sweep.ts). The result does not depend on the number of workers.
 *
 * @module
 */
import { type BatchConfig, BatchPool, type BatchPoolOptions } from "./batch.ts";
import { parseScenario } from "./scenario.ts";
import { summarise, type SweepResult } from "./sweep.ts";

/** Options of {@link runSweep}. */
export interface SweepOptions extends BatchPoolOptions {
  /** Called as runs finish, with how many more did. */
  onProgress?: (finished: number) => void;
}

/**
 * Runs `config` once per seed and summarises the runs.
 *
 * @throws {InputError} for a bad scenario, plugin file or series edit
 */
export async function runSweep(
  config: BatchConfig,
  seeds: readonly number[],
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const pool = new BatchPool(config, opts);
  try {
    const results = await pool.run(seeds.map((seed) => ({ seed })), opts.onProgress);
    const name = parseScenario(config.scenario).name;
    return summarise(name, results[0]?.series ?? [], results.map((r) => r.row));
  } finally {
    pool.close();
  }
}
