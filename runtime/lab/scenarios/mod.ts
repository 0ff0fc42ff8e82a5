/**
 * The built-in scenarios, by name.
 *
 * @module
 */
import { InputError } from "../input.ts";
import { deepFreeze } from "../../plugin/freeze.ts";
import type { ScenarioInput } from "../scenario.ts";
import { DEFAULT_SCENARIO } from "./default.ts";
import * as V from "./variants.ts";

/** Built-in scenarios by name (frozen, deeply: users' code cannot change them). */
export const SCENARIOS: Record<string, ScenarioInput> = deepFreeze(Object.fromEntries(
  [
    DEFAULT_SCENARIO,
    V.TWO_IOMMUS_ONE_OFF,
    V.OLD_TABLE_ABOVE_4G,
    V.GUEST_TRANSLATION,
    V.GUEST_TRANSLATION_DRIVER,
    V.OLD_IRQ_TABLEN,
    V.AMD_IOMMU_OFF,
    V.KEXEC_IOMMU_ON,
    V.NO_DMA_API_DRIVER,
    V.TORN_DEVTAB_WRITE,
    V.TG3_NIC,
    V.SNP_HOST,
    V.AVIC_GA_LOG,
    V.SME_HOST,
  ].map((s) => [s.name, s]),
));

/** Names of the built-in scenarios. */
export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

/**
 * A built-in scenario by name.
 *
 * @throws {InputError} for an unknown name; the message lists the valid names
 */
export function builtinScenario(name: string): ScenarioInput {
  if (Object.hasOwn(SCENARIOS, name)) return SCENARIOS[name];
  throw new InputError(
    `unknown scenario ${JSON.stringify(name)}; valid names: ${scenarioNames().join(", ")}`,
  );
}
