/**
 * The built-in scenarios, by name.
 *
 * @module
 */
import type { ScenarioInput } from "../scenario.ts";
import { DEFAULT_SCENARIO } from "./default.ts";

/** Built-in scenarios by name. */
export const SCENARIOS: Record<string, ScenarioInput> = {
  default: DEFAULT_SCENARIO,
};

/** Names of the built-in scenarios. */
export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}
