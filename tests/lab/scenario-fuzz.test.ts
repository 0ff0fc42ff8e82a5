/**
 * Fuzzed scenario files (fast-check, fixed seed printed below; `deno task fuzz` runs 100,000
 * of the same cases): every one ends in a Report that validates, or in a refusal whose every
 * line names the file and the path of the value — never a crash, never a run that does not
 * end (each case runs in a worker with a wall-clock limit).
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { FuzzPool } from "../fuzz/pool.ts";
import { scenarioCaseArb } from "../fuzz/scenario-arb.ts";

const SEED = 20_171_002;
const RUNS = 300;
console.log(`scenario-fuzz.test.ts: fast-check seed ${SEED}, ${RUNS} cases`);

Deno.test(`fuzzed scenario files: a Report or a path-qualified refusal, never a crash or a hang (${RUNS} cases)`, async () => {
  const pool = new FuzzPool(1, 300_000);
  const kinds = { report: 0, refused: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(scenarioCaseArb(), async (c) => {
        const { outcome } = await pool.run(c);
        if (outcome.kind === "crash" || outcome.kind === "hang") {
          assert.fail(`${outcome.kind}: ${outcome.detail}`);
        }
        kinds[outcome.kind]++;
      }),
      { seed: SEED, numRuns: RUNS },
    );
  } finally {
    pool.close();
  }
  // The cases reach the simulation as well as the checks.
  assert.ok(kinds.report >= RUNS / 10, `${kinds.report} of ${RUNS} cases ran`);
  assert.ok(kinds.refused >= RUNS / 10, `${kinds.refused} of ${RUNS} cases were refused`);
});
