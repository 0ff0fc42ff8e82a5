/**
 * Where a scenario comes from: a built-in scenario by name, or a scenario file — a scenario
 * written as JSON (`.json`) or YAML (`.yaml`, `.yml`), validated with {@link ScenarioSchema}.
 * Every problem — unreadable file, syntax error, a value the schema refuses, a machine that
 * cannot exist — is reported by an {@link InputError}, one line per problem naming the file
 * and, for schema problems, the path of the value: `scenario file x.yaml:
 * machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or size like 256M`.
 *
 * @module
 */
import { parse as parseYaml } from "npm:yaml@^2";
import { formatZodProblems } from "./errors.ts";
import { InputError, readFailure } from "./input.ts";
import { type ScenarioInput, ScenarioSchema } from "./scenario.ts";
import { scenarioNames, SCENARIOS } from "./scenarios/mod.ts";

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

/** Formats a scenario file may be written in. */
export type ScenarioFormat = "json" | "yaml";

/** The format of a scenario file, from its extension (undefined when not recognised). */
export function scenarioFormat(path: string): ScenarioFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1].toLowerCase();
  if (ext === "json") return "json";
  if (ext === "yaml" || ext === "yml") return "yaml";
  return undefined;
}

/** First line of a parser's message, without a trailing colon (YAML adds a code frame). */
function firstLine(message: string): string {
  return message.split("\n")[0].trim().replace(/:$/, "");
}

/**
 * Parses and validates scenario text. Returns the scenario as written (units and PCI
 * addresses unparsed), which is what `run()` takes.
 *
 * @param name how messages name the source, e.g. `scenario file x.yaml`
 * @throws {InputError} on a syntax error or a value the schema refuses
 */
export function parseScenarioText(
  text: string,
  format: ScenarioFormat,
  name: string,
): ScenarioInput {
  let data: unknown;
  try {
    data = format === "json" ? JSON.parse(text) : parseYaml(text, { logLevel: "error" });
  } catch (e) {
    const what = format === "json" ? "JSON" : "YAML";
    throw new InputError(
      `${name}: ${what}: ${firstLine(e instanceof Error ? e.message : String(e))}`,
    );
  }
  const checked = ScenarioSchema.safeParse(data);
  if (!checked.success) throw new InputError(formatZodProblems(name, checked.error));
  return data as ScenarioInput;
}

/**
 * Reads, parses and validates a scenario file (`.json`, `.yaml` or `.yml`).
 *
 * @throws {InputError} when the file cannot be read, has another extension, does not parse,
 *   or does not validate
 */
export async function loadScenarioFile(path: string): Promise<ScenarioInput> {
  const name = `scenario file ${path}`;
  const format = scenarioFormat(path);
  if (!format) throw new InputError(`${name}: expected a .json, .yaml or .yml file`);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`${name}: cannot read it: ${readFailure(e)}`);
  }
  return parseScenarioText(text, format, name);
}
