/** parseScenario (runtime/lab/scenario.ts): validated once, then used as it is. */
import assert from "node:assert/strict";
import { parseScenario, ScenarioSchema } from "../../runtime/lab/scenario.ts";
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
