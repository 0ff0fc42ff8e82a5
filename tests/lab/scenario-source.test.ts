/**
 * Where scenarios come from (runtime/lab/scenario-source.ts): built-ins by name, and JSON or
 * YAML files (`extends` included), and built-ins shown as files; every failure an InputError
 * naming the file, one line per problem.
 */
import assert from "node:assert/strict";
import { stringify } from "npm:yaml@^2";
import { run } from "../../runtime/lab/run.ts";
import {
  builtinScenario,
  loadScenarioFile,
  parseScenarioText,
  scenarioFileText,
  scenarioFormat,
} from "../../runtime/lab/scenario-source.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { inputError, inputErrors } from "./input-kit.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

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
});

Deno.test("parseScenarioText: every problem of a file, one line each with its path", async () => {
  assert.deepEqual(await inputErrors(() => parseScenarioText("seed: 1\n", "yaml", "f")), [
    "f: name: missing (expected string)",
    "f: description: missing (expected string)",
    "f: machine: missing (expected object)",
    "f: crashkernel: missing (expected array)",
    "f: firstKernel: missing (expected object)",
    "f: second: missing (expected object)",
  ]);
  const bad = structuredClone(SCENARIOS.default) as Loose;
  bad.machine.devices[1].bar = "0xZZ";
  bad.seed = -1;
  bad.second.mode = "x";
  assert.deepEqual(await inputErrors(() => parseScenarioText(JSON.stringify(bad), "json", "f")), [
    "f: seed: expected number to be >=0",
    'f: machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or size like 256M',
    'f: second.mode: expected one of "kdump"|"kexec"',
  ]);
});

Deno.test("scenarioFileText: every built-in, shown as YAML or JSON and loaded back, runs to the same report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of Object.keys(SCENARIOS)) {
      const expected = JSON.stringify(run(SCENARIOS[name]));
      for (const format of ["yaml", "json"] as const) {
        const file = `${dir}/${name}.${format}`;
        await Deno.writeTextFile(file, scenarioFileText(name, format));
        const loaded = await loadScenarioFile(file);
        assert.deepEqual(loaded, SCENARIOS[name], `${name} as ${format}`);
        assert.equal(JSON.stringify(run(loaded)), expected, `${name} as ${format}: the report`);
      }
    }
    assert.match(scenarioFileText("default", "yaml"), /^# kdump-lab scenario "default"/);
    assert.equal(
      await inputError(() => scenarioFileText("nope", "json")),
      `unknown scenario "nope"; valid names: ${Object.keys(SCENARIOS).join(", ")}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extends: a built-in or a file beside it; objects merge, arrays replace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Objects merge key by key: only uptimeMs changes in firstKernel.
    const one = parseScenarioText(
      "extends: default\nfirstKernel: { uptimeMs: 250 }\n",
      "yaml",
      "f",
    );
    assert.deepEqual(one, {
      ...SCENARIOS.default,
      firstKernel: { ...SCENARIOS.default.firstKernel, uptimeMs: 250 },
    });
    // Arrays replace: one crashkernel range instead of torn-devtab-write's two.
    const ck = parseScenarioText(
      'extends: torn-devtab-write\ncrashkernel: [{ base: "0x28000000", size: 256M }]\n',
      "yaml",
      "f",
    );
    assert.equal(ck.crashkernel.length, 1);
    assert.equal(ck.name, "torn-devtab-write", "the name is the base's unless given");
    // A chain of files, each relative to the one that names it.
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/base.json`, '{"extends": "default", "seed": 7}');
    await Deno.writeTextFile(`${dir}/top.yaml`, "extends: sub/base.json\nname: top\n");
    const top = await loadScenarioFile(`${dir}/top.yaml`);
    assert.equal(top.name, "top");
    assert.equal(top.seed, 7);
    assert.deepEqual(top.machine, SCENARIOS.default.machine);
    // Problems: of the merged scenario (with paths), of the base file, of extends itself.
    await Deno.writeTextFile(`${dir}/loop.yaml`, "extends: loop.yaml\n");
    assert.equal(
      await inputError(() => loadScenarioFile(`${dir}/loop.yaml`)),
      `scenario file ${dir}/loop.yaml: extends: loop.yaml is already on the chain of extends (a cycle)`,
    );
    await Deno.writeTextFile(`${dir}/broken.json`, "{");
    await Deno.writeTextFile(`${dir}/b.yaml`, "extends: broken.json\n");
    assert.match(
      await inputError(() => loadScenarioFile(`${dir}/b.yaml`)),
      /^scenario file broken\.json: JSON: /,
    );
    await Deno.writeTextFile(`${dir}/c.yaml`, "extends: none.yaml\n");
    assert.equal(
      await inputError(() => loadScenarioFile(`${dir}/c.yaml`)),
      `scenario file ${dir}/c.yaml: extends: cannot read none.yaml: no such file`,
    );
    assert.equal(
      await inputError(() => parseScenarioText("extends: nope\n", "yaml", "f")),
      `f: extends: "nope" is neither a built-in scenario (${
        Object.keys(SCENARIOS).join(", ")
      }) nor a .json, .yaml or .yml file`,
    );
    assert.equal(
      await inputError(() => parseScenarioText("extends: 3\n", "yaml", "f")),
      "f: extends: expected the name of a built-in scenario or the path of a scenario file",
    );
    assert.deepEqual(
      await inputErrors(() =>
        parseScenarioText("extends: default\nfirstKernel: { uptimeMs: -1 }\nseed: x\n", "yaml", "f")
      ),
      [
        "f: seed: expected number, received string",
        "f: firstKernel.uptimeMs: expected number to be >0",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("extends: an element of a list given in part (a field missing) is refused with a hint that lists replace the base's", async () => {
  const hint = (path: string) =>
    `f: ${path}: with extends, this list replaces the base's whole (its elements are not ` +
    "merged with the base's): give each element in full";
  // A device given as if it merged with the default's first device.
  const dev = await inputErrors(() =>
    parseScenarioText(
      "extends: default\nmachine:\n  devices:\n    - kind: nic\n      rxRingSize: 512\n",
      "yaml",
      "f",
    )
  );
  assert.ok(dev.includes('f: machine.devices[0]: unknown key "rxRingSize"'), dev.join("\n"));
  assert.equal(dev.at(-1), hint("machine.devices"));
  assert.equal(dev.filter((l) => l.includes("replaces the base's")).length, 1);
  // A problem outside the list: no hint.
  assert.deepEqual(
    await inputErrors(() =>
      parseScenarioText(
        'extends: torn-devtab-write\ncrashkernel: [{ base: "0x28000000", size: 256M }]\nseed: x\n',
        "yaml",
        "f",
      )
    ),
    ["f: seed: expected number, received string"],
  );
  // A list given in full whose element is refused for what it says, not for a missing field.
  const full = await inputErrors(() =>
    parseScenarioText(
      'extends: default\ncrashkernel: [{ base: "0xd0000000", size: 256M }]\n',
      "yaml",
      "f",
    )
  );
  assert.ok(full.some((l) => l.startsWith("f: crashkernel[0].base: ")), full.join("\n"));
  assert.ok(!full.some((l) => l.includes("replaces the base's")), full.join("\n"));
  // The same partial element without extends is a scenario of its own: no hint.
  const own = await inputErrors(() =>
    parseScenarioText(
      stringify({ ...SCENARIOS.default, machine: { ...SCENARIOS.default.machine, devices: [{}] } }),
      "yaml",
      "f",
    )
  );
  assert.ok(own.some((l) => l.startsWith("f: machine.devices[0]")), own.join("\n"));
  assert.ok(!own.some((l) => l.includes("replaces the base's")), own.join("\n"));
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
