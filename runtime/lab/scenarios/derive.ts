/**
 * Scenarios derived from another one by a deep merge of changes (objects merge key by key;
 * arrays and values replace).
 *
 * @module
 */
import type { ScenarioInput } from "../scenario.ts";

type Json = unknown;

function merge(a: Json, b: Json): Json {
  if (Array.isArray(b) || typeof b !== "object" || b === null) return structuredClone(b);
  const out: Record<string, Json> = {
    ...(typeof a === "object" && a && !Array.isArray(a)
      ? structuredClone(a) as Record<string, Json>
      : {}),
  };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}

/** Deep-partial of a scenario input, for derivations. */
export type ScenarioChanges = { [K in keyof ScenarioInput]?: unknown } & {
  name: string;
  description: string;
};

/** A scenario made of `base` with `changes` merged in. */
export function derive(base: ScenarioInput, changes: ScenarioChanges): ScenarioInput {
  return merge(base, changes) as ScenarioInput;
}
