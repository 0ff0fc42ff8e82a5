/**
 * Where scenarios come from (runtime/lab/scenario-source.ts): built-ins by name, and JSON or
 * YAML files, with every failure a one-line InputError that names the file.
 */
import assert from "node:assert/strict";
import { stringify } from "npm:yaml@^2";
import {
  builtinScenario,
  loadScenarioFile,
  parseScenarioText,
  scenarioFormat,
} from "../../runtime/lab/scenario-source.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { inputError } from "./input-kit.ts";

Deno.test("builtinScenario: by name; an unknown name lists the valid ones", async () => {
  assert.equal(builtinScenario("default"), SCENARIOS.default);
  assert.equal(
    await inputError(() => builtinScenario("nope")),
    `unknown scenario "nope"; valid names: ${Object.keys(SCENARIOS).join(", ")}`,
  );
  // Inherited object properties are not scenarios.
  assert.match(await inputError(() => builtinScenario("toString")), /^unknown scenario/);
});

Deno.test("scenarioFormat: by extension", () => {
  assert.equal(scenarioFormat("a/b.json"), "json");
  assert.equal(scenarioFormat("b.YAML"), "yaml");
  assert.equal(scenarioFormat("b.yml"), "yaml");
  assert.equal(scenarioFormat("b.txt"), undefined);
  assert.equal(scenarioFormat("yaml"), undefined);
});

Deno.test("parseScenarioText: YAML and JSON give the scenario as written", async () => {
  const text = stringify({ ...SCENARIOS.default, seed: 9 });
  const fromYaml = parseScenarioText(text, "yaml", "s");
  assert.equal(fromYaml.seed, 9);
  assert.equal(fromYaml.machine.devices[0].bdf, "01:00.0", "PCI addresses stay as written");
  assert.deepEqual(parseScenarioText(JSON.stringify(fromYaml), "json", "s"), fromYaml);
  assert.equal(
    await inputError(() => parseScenarioText("{", "json", "scenario file a.json")),
    "scenario file a.json: JSON: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
  );
  assert.equal(
    await inputError(() => parseScenarioText("a: 1\na: 2\n", "yaml", "f")),
    "f: YAML: Map keys must be unique at line 2, column 1",
  );
  assert.equal(
    await inputError(() => parseScenarioText("seed: 1\n", "yaml", "f")),
    "f: name: missing (expected string) (and 5 more problems)",
  );
});

Deno.test("loadScenarioFile: unreadable, unknown extension, and a good file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(
      await inputError(() => loadScenarioFile(`${dir}/none.yaml`)),
      `scenario file ${dir}/none.yaml: cannot read it: no such file`,
    );
    await Deno.mkdir(`${dir}/d.yml`);
    assert.equal(
      await inputError(() => loadScenarioFile(`${dir}/d.yml`)),
      `scenario file ${dir}/d.yml: cannot read it: is a directory`,
    );
    assert.equal(
      await inputError(() => loadScenarioFile(`${dir}/s.toml`)),
      `scenario file ${dir}/s.toml: expected a .json, .yaml or .yml file`,
    );
    await Deno.writeTextFile(`${dir}/s.yml`, stringify({ ...SCENARIOS.default, name: "mine" }));
    assert.equal((await loadScenarioFile(`${dir}/s.yml`)).name, "mine");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
