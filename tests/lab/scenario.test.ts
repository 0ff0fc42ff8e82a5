/** parseScenario (runtime/lab/scenario.ts): validated once, then used as it is. */
import assert from "node:assert/strict";
import { dataFingerprint, parseScenario, ScenarioSchema } from "../../runtime/lab/scenario.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { run } from "../../runtime/lab/run.ts";

Deno.test("parseScenario: its result comes back as it is, frozen; anything else is validated", () => {
  const s = parseScenario(DEFAULT_SCENARIO);
  assert.deepEqual(s, ScenarioSchema.parse(DEFAULT_SCENARIO));
  assert.equal(parseScenario(s), s, "not parsed again");
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.machine));
  assert.throws(() => (s as { seed: number }).seed = 5, TypeError);
  // A plain object (even one equal to the parsed one) is parsed: a new, validated object.
  const again = parseScenario({ ...DEFAULT_SCENARIO });
  assert.notEqual(again, s);
  assert.throws(() => parseScenario({ ...DEFAULT_SCENARIO, seed: -1 }));
});

Deno.test("run: a parsed scenario and its input give the same report; a seed override leaves the parsed one alone", () => {
  const s = parseScenario(DEFAULT_SCENARIO);
  const a = run(s, { seed: 3 }), b = run(DEFAULT_SCENARIO, { seed: 3 });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.equal(a.seed, 3);
  assert.equal(s.seed, ScenarioSchema.parse(DEFAULT_SCENARIO).seed);
});

Deno.test("parseScenario: an input object parsed before comes back parsed while its data is the same; changed, it is parsed again", () => {
  const input = structuredClone(DEFAULT_SCENARIO);
  const s = parseScenario(input);
  assert.equal(parseScenario(input), s, "the same object, the same data: parsed once");
  input.seed = 7;
  const t = parseScenario(input);
  assert.notEqual(t, s);
  assert.equal(t.seed, 7);
  input.firstKernel.uptimeMs = -5; // invalid: not answered from the cache
  assert.throws(() => parseScenario(input));
  input.firstKernel.uptimeMs = DEFAULT_SCENARIO.firstKernel.uptimeMs;
  assert.deepEqual(parseScenario(input), t);
  // Another object with the same data is parsed on its own.
  assert.notEqual(parseScenario(structuredClone(input)), parseScenario(input));
});

Deno.test("dataFingerprint: equal for the same plain data, different where a schema could see a difference, none for what is not plain data", () => {
  const f = dataFingerprint;
  assert.equal(f({ a: [1, "x", null, true] }), f({ a: [1, "x", null, true] }));
  assert.notEqual(f({ a: 1, b: 2 }), f({ b: 2, a: 1 }), "key order is kept (it is cheap and safe)");
  assert.notEqual(f({ a: NaN }), f({ a: null }));
  assert.notEqual(f({ a: -0 }), f({ a: 0 }));
  assert.notEqual(f({ a: Infinity }), f({ a: null }));
  assert.notEqual(f({ a: undefined }), f({}));
  assert.notEqual(f(["1"]), f([1]));
  assert.notEqual(f([undefined]), f([null]));
  assert.equal(f({ a: new Date(0) }), undefined, "a class instance");
  assert.equal(f({ a: () => 1 }), undefined, "a function");
  assert.equal(f(Object.defineProperty({}, "a", { get: () => 1, enumerable: true })), undefined);
  assert.equal(f(Object.defineProperty({}, "a", { value: 1, enumerable: false })), undefined);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(f(cyclic), undefined, "a cycle");
  assert.notEqual(f(Object.create(null)), undefined, "no prototype is plain too");
});
