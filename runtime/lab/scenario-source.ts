/**
 * Where a scenario comes from: a built-in scenario by name, or a scenario file — a scenario
 * written as JSON (`.json`) or YAML (`.yaml`, `.yml`), validated with {@link ScenarioSchema}.
 *
 * A file may start from another scenario with `extends: NAME` — a built-in scenario's name, or
 * the path of another scenario file, relative to the file that names it — and give only what
 * differs: objects merge key by key, arrays and other values replace the base's (a file that
 * changes one device lists all the devices). `name` and `description` are the base's unless
 * the file gives its own.
 *
 * Every problem — unreadable file, syntax error, a value the schema refuses, a machine that
 * cannot exist — is reported by an {@link InputError}, one line per problem naming the file
 * and, for schema problems, the path of the value: `scenario file x.yaml:
 * machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or size like 256M`.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "npm:yaml@^2";
import { formatZodProblems, isMissingIssue, issuePath } from "./errors.ts";
import { InputError, readFailure } from "./input.ts";
import { type ScenarioInput, scenarioSchema } from "./scenario.ts";
import { deepMerge } from "./scenarios/derive.ts";
import { builtinScenario, scenarioNames, SCENARIOS } from "./scenarios/mod.ts";

/** A built-in scenario by name (scenarios/mod.ts; here too, beside the files' loaders). */
export { builtinScenario };

/** Formats a scenario file may be written in. */
export type ScenarioFormat = "json" | "yaml";

/** The format of a scenario file, from its extension (undefined when not recognised). */
export function scenarioFormat(path: string): ScenarioFormat | undefined {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1].toLowerCase();
  if (ext === "json") return "json";
  if (ext === "yaml" || ext === "yml") return "yaml";
  return undefined;
}

/**
 * A built-in scenario as a file a user can edit and load back with `--scenario-file`: YAML
 * (with a comment saying so) or JSON.
 *
 * @throws {InputError} for an unknown name
 */
export function scenarioFileText(name: string, format: ScenarioFormat): string {
  const s = builtinScenario(name);
  if (format === "json") return JSON.stringify(s, null, 2) + "\n";
  return `# kdump-lab scenario "${name}": edit it, then run --scenario-file FILE.\n` +
    `# (A file may also say "extends: ${name}" and give only what differs.)\n` +
    stringifyYaml(s, { lineWidth: 0 });
}

/** First line of a parser's message, without a trailing colon (YAML adds a code frame). */
function firstLine(message: string): string {
  return message.split("\n")[0].trim().replace(/:$/, "");
}

/** How deep `extends` may nest (a chain longer than this is refused). */
const MAX_EXTENDS = 16;

/** Where a scenario text came from: its name in messages, and the folder of its file. */
interface Source {
  /** e.g. `scenario file x.yaml` */
  name: string;
  /** Folder that `extends: PATH` is relative to (the current one when undefined). */
  dir?: string;
  /** Files already on the `extends` chain (to refuse a cycle). */
  chain: string[];
}

function parseData(text: string, format: ScenarioFormat, name: string): unknown {
  try {
    return format === "json" ? JSON.parse(text) : parseYaml(text, { logLevel: "error" });
  } catch (e) {
    const what = format === "json" ? "JSON" : "YAML";
    throw new InputError(
      `${name}: ${what}: ${firstLine(e instanceof Error ? e.message : String(e))}`,
    );
  }
}

/** The scenario `data` says, its `extends` resolved and merged (not validated yet). */
function resolveExtends(data: unknown, src: Source): unknown {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return data;
  if (!Object.hasOwn(data, "extends")) return data;
  const { extends: base, ...changes } = data as Record<string, unknown>;
  const bad = (why: string) => new InputError(`${src.name}: extends: ${why}`);
  if (typeof base !== "string" || !base.trim()) {
    throw bad("expected the name of a built-in scenario or the path of a scenario file");
  }
  if (Object.hasOwn(SCENARIOS, base)) return deepMerge(SCENARIOS[base], changes);
  const format = scenarioFormat(base);
  if (!format) {
    throw bad(
      `${JSON.stringify(base)} is neither a built-in scenario (${
        scenarioNames().join(", ")
      }) nor a .json, .yaml or .yml file`,
    );
  }
  const path = isAbsolute(base) ? base : resolve(src.dir ?? ".", base);
  if (src.chain.includes(path)) {
    throw bad(`${base} is already on the chain of extends (a cycle)`);
  }
  if (src.chain.length >= MAX_EXTENDS) {
    throw bad(`more than ${MAX_EXTENDS} files extend each other`);
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw bad(`cannot read ${base}: ${readFailure(e)}`);
  }
  const name = `scenario file ${base}`;
  const parent = resolveExtends(parseData(text, format, name), {
    name,
    dir: dirname(path),
    chain: [...src.chain, path],
  });
  return deepMerge(parent, changes);
}

/**
 * Parses and validates scenario text. Returns the scenario as written (units and PCI
 * addresses unparsed, `extends` merged in), which is what `run()` takes.
 *
 * @param name how messages name the source, e.g. `scenario file x.yaml`
 * @param file the text's file, if any: `extends: PATH` is relative to its folder (else to
 *   the current one)
 * @throws {InputError} on a syntax error, a bad `extends`, or values the schema refuses (one
 *   line per problem)
 */
export function parseScenarioText(
  text: string,
  format: ScenarioFormat,
  name: string,
  file?: string,
): ScenarioInput {
  const path = file === undefined ? undefined : resolve(file);
  const raw = parseData(text, format, name);
  const data = resolveExtends(raw, {
    name,
    dir: path === undefined ? undefined : dirname(path),
    chain: path === undefined ? [] : [path],
  });
  const checked = scenarioSchema.safeParse(data);
  if (!checked.success) {
    const lines = formatZodProblems(name, checked.error);
    // A field missing in an element of a list this file gives: an element given in part.
    const replaced = replacedArrays(raw).find((a) =>
      checked.error.issues.some((i) =>
        isMissingIssue(i) && i.path.length > a.length && a.every((k, n) => i.path[n] === k) &&
        typeof i.path[a.length] === "number"
      )
    );
    if (replaced) {
      lines.push(
        `${name}: ${issuePath(replaced)}: with extends, this list replaces the base's whole ` +
          `(its elements are not merged with the base's): give each element in full`,
      );
    }
    throw new InputError(lines);
  }
  return data as ScenarioInput;
}

/**
 * The paths of the arrays a file with `extends` gives (each replaces the base's whole), for a
 * hint when an element of one lacks a field: an element given in part, as if it merged.
 */
function replacedArrays(raw: unknown): PropertyKey[][] {
  if (raw === null || typeof raw !== "object" || !Object.hasOwn(raw, "extends")) return [];
  const out: PropertyKey[][] = [];
  const walk = (v: unknown, at: PropertyKey[]) => {
    if (Array.isArray(v)) out.push(at);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    }
  };
  const { extends: _, ...changes } = raw as Record<string, unknown>;
  walk(changes, []);
  return out;
}

/**
 * Reads, parses and validates a scenario file (`.json`, `.yaml` or `.yml`); `extends: PATH`
 * in it is relative to its folder.
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
  return parseScenarioText(text, format, name, path);
}
