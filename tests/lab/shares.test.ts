/**
 * Dealing a matrix's runs to workers (runtime/lab/shares.ts): each worker's own share first,
 * in order, then the back of the share with the most left; every item taken exactly once in
 * any order of requests (a property test, fixed seed).
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { Shares } from "../../runtime/lab/shares.ts";

const SEED = 20_171_206;
console.log(`shares.test.ts: fast-check seed ${SEED}`);

Deno.test("shares: contiguous shares taken from the front; a finished worker takes the back of the largest", () => {
  const s = new Shares(Array.from({ length: 10 }, (_, i) => 100 + i), 2);
  assert.equal(s.left, 10);
  assert.deepEqual(s.take(0, 2), [100, 101]);
  assert.deepEqual(s.take(1, 2), [105, 106]);
  assert.deepEqual(s.take(0, 3), [102, 103, 104]);
  // Worker 0's share is done: it helps with worker 1's, from its far end.
  assert.deepEqual(s.take(0, 2), [108, 109]);
  assert.deepEqual(s.take(1, 5), [107]);
  assert.equal(s.left, 0);
  assert.deepEqual(s.take(0, 1), []);
  assert.deepEqual(s.take(1, 1), []);
});

Deno.test("shares: every item is taken once, whatever the workers ask for in whatever order", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })), { maxLength: 400 }),
      (n, workers, asks) => {
        const items = Array.from({ length: n }, (_, i) => i * 3);
        const s = new Shares(items, workers);
        const got: number[] = [];
        for (const [w, size] of asks) {
          const chunk = s.take(w % workers, size);
          assert.ok(chunk.length <= size);
          if (s.left + got.length + chunk.length !== n) return false;
          got.push(...chunk);
        }
        for (let w = 0; s.left > 0; w = (w + 1) % workers) got.push(...s.take(w, 7));
        return JSON.stringify([...got].sort((a, b) => a - b)) === JSON.stringify(items);
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});
