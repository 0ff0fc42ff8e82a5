/**
 * The typed-array pool (runtime/hw/memory/pool.ts): what a finished run gives back is handed
 * to the next taker zeroed; views and empty arrays are not kept; the pool is bounded.
 */
import assert from "node:assert/strict";
import { giveBack, POOL_BYTES, pooledBytes, take } from "../../../runtime/hw/memory/pool.ts";

Deno.test("pool: an array given back is taken again, zeroed, by the next taker of its type and length", () => {
  const a = take(Uint32Array, 777);
  assert.equal(a.length, 777);
  assert.ok(a.every((x) => x === 0));
  a.fill(0xdead_beef);
  const before = pooledBytes();
  giveBack(a);
  assert.equal(pooledBytes(), before + 777 * 4);
  assert.equal(take(Int32Array, 777) === (a as unknown), false, "another type: a new array");
  const b = take(Uint32Array, 777);
  assert.equal(b, a, "the same array again");
  assert.ok(b.every((x) => x === 0), "zeroed");
  assert.equal(pooledBytes(), before);
  assert.notEqual(take(Uint32Array, 777), a, "taken once only");
});

Deno.test("pool: views into a larger buffer and empty arrays are not kept", () => {
  const before = pooledBytes();
  giveBack(new Uint32Array(64).subarray(8, 16));
  giveBack(new Float64Array(0));
  assert.equal(pooledBytes(), before);
});

Deno.test("pool: it holds at most POOL_BYTES", () => {
  const before = pooledBytes();
  const big = Math.floor(POOL_BYTES / 4 / 3); // three of these fit only if the pool was empty
  const arrays = [0, 1, 2, 3].map(() => new Uint32Array(big));
  for (const a of arrays) giveBack(a);
  assert.ok(pooledBytes() <= POOL_BYTES, `${pooledBytes()} <= ${POOL_BYTES}`);
  assert.ok(pooledBytes() < before + 4 * big * 4, "the fourth one was left to the collector");
  for (let i = 0; i < 4; i++) take(Uint32Array, big); // leave the pool as it was
  assert.equal(pooledBytes(), before);
});

Deno.test("pool: a taker that writes before it reads may take an array as it was given back", () => {
  const a = take(Float64Array, 333);
  a.fill(5);
  giveBack(a);
  const b = take(Float64Array, 333, false);
  assert.equal(b, a);
  assert.equal(b[0], 5, "not zeroed");
});
