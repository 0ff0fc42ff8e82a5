/**
 * Scenarios derived from another one by a deep merge of changes (objects merge key by key;
 * arrays and values replace).
 *
 * @module
 */
import type { ScenarioInput } from "../scenario.ts";

type Json = unknown;

/**
 * `b` merged into `a`: objects merge key by key (recursively), arrays and other values in
 * `b` replace those of `a`. Neither argument is changed.
 */
export function deepMerge(a: Json, b: Json): Json {
  if (Array.isArray(b) || typeof b !== "object" || b === null) return structuredClone(b);
  const out: Record<string, Json> = {
    ...(typeof a === "object" && a && !Array.isArray(a)
      ? structuredClone(a) as Record<string, Json>
      : {}),
  };
  for (const [k, v] of Object.entries(b)) {
    // defineProperty: a key named "__proto__" (JSON allows it) stays a key.
    const value = deepMerge(Object.hasOwn(out, k) ? out[k] : undefined, v);
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Deep-partial of a scenario input, for derivations. */
export type ScenarioChanges = { [K in keyof ScenarioInput]?: unknown } & {
  name: string;
  description: string;
};

/** A scenario made of `base` with `changes` merged in. */
export function derive(base: ScenarioInput, changes: ScenarioChanges): ScenarioInput {
  return deepMerge(base, changes) as ScenarioInput;
}
