/** The piecewise time axis of the timeline (runtime/html/scale.ts). */
import assert from "node:assert/strict";
import { intervalWeight, piecewiseScale } from "../../runtime/html/scale.ts";

Deno.test("piecewise scale: monotonic, ends fixed, widths by min(1, ms/0.1) + log10(1 + ms)", () => {
  const s = piecewiseScale([0, 1e6, 1e6, 101e6, 1501e6], 100, 1100);
  assert.deepEqual(s.breaks, [0, 1e6, 101e6, 1501e6]);
  assert.equal(s.x(-5), 100);
  assert.equal(s.x(0), 100);
  assert.equal(s.x(1501e6), 1100);
  assert.equal(s.x(9e9), 1100);
  let last = -Infinity;
  for (let t = 0; t <= 1501e6; t += 7e6) {
    assert.ok(s.x(t) >= last);
    last = s.x(t);
  }
  const w = [1e6, 100e6, 1400e6].map(intervalWeight);
  const total = w[0] + w[1] + w[2];
  assert.ok(Math.abs(s.x(1e6) - (100 + (1000 * w[0]) / total)) < 1e-9);
  assert.ok(Math.abs(s.x(51e6) - (s.x(1e6) + s.x(101e6)) / 2) < 1e-9, "linear inside a piece");
  assert.equal(piecewiseScale([], 0, 10).x(0), 0);
});

Deno.test("interval weights: 1 ms gets 1.3, 1.5 s 4.2; pieces shorter than 0.1 ms shrink to nothing", () => {
  assert.ok(Math.abs(intervalWeight(1e6) - (1 + Math.log10(2))) < 1e-12);
  assert.ok(Math.abs(intervalWeight(1.5e9) - (1 + Math.log10(1501))) < 1e-12);
  assert.equal(intervalWeight(0), 0);
  // two runs' stages a few µs apart leave a sliver, not a full unit
  assert.ok(intervalWeight(10_000) < 0.11);
  assert.ok(intervalWeight(400) < 0.005);
  // never decreasing
  let last = -1;
  for (let ns = 0; ns < 3e9; ns = ns * 1.7 + 37) {
    assert.ok(intervalWeight(ns) >= last, `${ns}`);
    last = intervalWeight(ns);
  }
});
