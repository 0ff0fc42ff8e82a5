/** Seed lists (runtime/lab/seeds.ts): N, A..B, comma lists; sorted, once each; bad ones refused. */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";
import { parseSeeds, seedsText } from "../../runtime/lab/seeds.ts";

Deno.test("parseSeeds: N is 1..N, A..B a range, a comma list combines them, sorted and once each", () => {
  assert.deepEqual(parseSeeds("5"), [1, 2, 3, 4, 5]);
  assert.deepEqual(parseSeeds("3..6"), [3, 4, 5, 6]);
  assert.deepEqual(parseSeeds("0..2"), [0, 1, 2]);
  assert.deepEqual(parseSeeds("20, 1..3, 2, 7"), [1, 2, 3, 7, 20]);
  assert.deepEqual(parseSeeds("4,4"), [4]);
  assert.equal(seedsText(parseSeeds("1..10,12,14..15")), "1..10,12,14..15");
  assert.equal(seedsText([7]), "7");
});

Deno.test("parseSeeds: empty, backwards, not numbers, 0 seeds and too many are refused in one line", () => {
  for (
    const [spec, re] of [
      ["", /empty/],
      ["9..3", /runs backwards/],
      ["a", /not N, A\.\.B or a seed/],
      ["1,,2", /an empty item/],
      ["0", /0 seeds/],
      ["-1", /not N/],
      ["1..200000", /more than 100000 seeds/],
      ["99999999999999999999", /too large/],
    ] as const
  ) {
    assert.throws(
      () => parseSeeds(spec),
      (e) => e instanceof InputError && re.test(e.message),
      spec,
    );
  }
});
