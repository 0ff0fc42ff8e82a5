/**
 * The JSON Schemas the lab publishes (draft 2020-12, from the zod schemas): the Report a run
 * returns, and the scenario file `run --scenario-file` reads (its input form: numbers may be
 * written as hexadecimal strings, defaults may be left out).
 *
 * @module
 */
import { z } from "npm:zod@^4";
import { reportJsonSchema } from "./report.ts";
import { scenarioSchema } from "./scenario.ts";

/**
 * The scenario file format as JSON Schema: what a scenario author may write — the scenario,
 * or `extends` and only what differs (then nothing else is required).
 */
export function scenarioJsonSchema(): unknown {
  const schema = z.toJSONSchema(scenarioSchema, { io: "input" }) as {
    properties: Record<string, unknown>;
    required?: string[];
  };
  const { required, ...rest } = schema;
  return {
    ...rest,
    properties: {
      extends: {
        type: "string",
        description:
          "a built-in scenario's name, or the path of another scenario file relative to this " +
          "one; the file then gives only what differs (objects merge key by key, arrays replace)",
      },
      ...schema.properties,
    },
    ...(required ? { if: { not: { required: ["extends"] } }, then: { required } } : {}),
  };
}

/** Every published schema by name, with a one-line description. */
export const SCHEMAS: Record<string, { description: string; schema: () => unknown }> = {
  report: {
    description: "the Report of a run (what run --json prints)",
    schema: reportJsonSchema,
  },
  scenario: {
    description: "a scenario file (what run --scenario-file reads, JSON or YAML)",
    schema: scenarioJsonSchema,
  },
};
