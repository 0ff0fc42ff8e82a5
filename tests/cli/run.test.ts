/**
 * `kdump-lab run` and `kdump-lab scenarios` end to end: spawns `deno run -A
 * runtime/cli/main.ts` from the repository root the way `deno task lab` does. The expected
 * reports come from `run()` in this process: the CLI must print exactly the same bytes.
 * Independent spawns run in parallel to keep the file quick.
 */
import assert from "node:assert/strict";
import { stringify } from "npm:yaml@^2";
import { run } from "../../runtime/lab/run.ts";
import { type Report, ReportSchema } from "../../runtime/lab/report.ts";
import { scenarioNames, SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { spawnLab, stripAnsi as strip } from "./lab-kit.ts";

/** Runs the CLI with `args` from the repository root; colour switches only as given. */
const lab = (args: string[], env: Record<string, string> = {}) => spawnLab(args, { env });

/** The bytes `run --json` must print for a report. */
const jsonOf = (r: Report) => JSON.stringify(r, null, 2) + "\n";

/** `[%5lu.%06lu]` written out here, independently of the code under test. */
function stamp(ns: number): string {
  const us = Math.floor(ns / 1000);
  return `[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, "0")}]`;
}

/** A temporary scenario file holding `text`; removed by the caller. */
async function tempScenario(suffix: string, text: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-", suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("run --json: the Report, valid, byte-identical to run() in-process", async () => {
  const r = await lab(["run", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const report = ReportSchema.parse(JSON.parse(r.stdout));
  assert.equal(report.scenario, "default");
  assert.equal(report.seed, 1);
  assert.deepEqual(report.series, []);
  assert.equal(r.stdout, jsonOf(run(SCENARIOS.default)));
});

Deno.test("run --json --seed: same seed, same bytes; the seed reaches the report", async () => {
  const [a, b] = await Promise.all([
    lab(["run", "--json", "--seed", "5"]),
    lab(["run", "--seed", "5", "--json", "--scenario", "default"]),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(a.stdout, b.stdout, "two runs with one seed print identical JSON");
  assert.equal(JSON.parse(a.stdout).seed, 5);
  assert.equal(a.stdout, jsonOf(run(SCENARIOS.default, { seed: 5 })));
  assert.notEqual(a.stdout, jsonOf(run(SCENARIOS.default)));
});

Deno.test("run --dmesg: both kernels as a console shows them, one kexec separator", async () => {
  const r = await lab(["run", "--dmesg", "--seed", "2"]);
  assert.equal(r.code, 0, r.stderr);
  const report = run(SCENARIOS.default, { seed: 2 });
  const k1 = report.dmesg.filter((l) => l.kernel === "kernel1");
  const k2 = report.dmesg.filter((l) => l.kernel === "kernel2");
  assert.ok(k1.length > 0 && k2.length > 0, "both kernels logged");
  const expected = [
    ...k1.map((l) => `${stamp(l.time)} ${l.text}`),
    "---- kexec: crash kernel ----",
    ...k2.map((l) => `${stamp(l.time)} ${l.text}`),
  ];
  assert.equal(r.stdout, expected.join("\n") + "\n");
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines[0], "[    0.000000] " + k1[0].text);
  assert.equal(lines.filter((l) => l.startsWith("----")).length, 1);
  assert.ok(lines.every((l) => /^\[ *\d+\.\d{6}\] /.test(l) || l.startsWith("---- kexec")));
});

Deno.test("run: the human summary (plain when piped, coloured verdict when forced)", async () => {
  const [piped, forced] = await Promise.all([
    lab(["run"]),
    lab(["run"], { FORCE_COLOR: "1" }),
  ]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout.includes("\x1b["), false, "no ANSI escapes on a pipe");
  const expected = run(SCENARIOS.default);
  const lines = piped.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 5), [
    "scenario  default",
    "seed      1",
    "series    none (4.13 baseline)",
    `verdict   ${expected.verdict}`,
    `cause     ${expected.cause}`,
  ]);
  assert.ok(lines.includes(`stray DMA ${expected.strayWriteCount} write(s)`));
  assert.ok(lines.includes("  ---- kexec: crash kernel ----"));
  const panic = expected.dmesg.find((l) => l.text.startsWith("Kernel panic - not syncing"))!;
  assert.ok(lines.includes(`  ${stamp(panic.time)} ${panic.text}`), "the panic line is a key line");
  const probe = expected.dmesg.find((l) => l.text.startsWith("pci 0000:"))!;
  assert.equal(piped.stdout.includes(probe.text), false, "PCI probe lines are left out");
  assert.match(lines.at(-1)!, /^ran in \d+ ms \(simulated \d+\.\d{3} s\)$/);
  // Colours: same text once stripped (but the time), verdict in its colour.
  assert.equal(forced.code, 0, forced.stderr);
  const verdictLine = forced.stdout.split("\n").find((l) => strip(l).startsWith("verdict"))!;
  const colour = { "dump-ok": "32", "boot-ok": "32", skipped: "2" }[expected.verdict as string] ??
    "31";
  assert.ok(verdictLine.includes(`\x1b[${colour}m`), JSON.stringify(verdictLine));
  const noTime = (s: string) => s.replace(/^ran in .*$/m, "");
  assert.equal(noTime(strip(forced.stdout)), noTime(piped.stdout));
});

Deno.test("run: bad input exits 2 with one stderr line, no stack trace", async () => {
  const bad = structuredClone(SCENARIOS.default) as { machine: { devices: { bar: unknown }[] } };
  bad.machine.devices[1].bar = "0xZZ";
  const badYaml = await tempScenario(".yaml", stringify(bad));
  const brokenYaml = await tempScenario(".yml", "name: [1,\nb: : x\n");
  const brokenJson = await tempScenario(".json", '{"name": ');
  const missing = `${badYaml}.gone.yaml`;
  const cases: [string[], string][] = [
    [
      ["run", "--scenario", "nope"],
      `kdump-lab: run: unknown scenario "nope"; valid names: ${scenarioNames().join(", ")}`,
    ],
    ...["-1", "abc", "1.5", "1e3"].map((seed): [string[], string] => [
      ["run", "--seed", seed],
      `kdump-lab: run: option '--seed <n>' argument '${seed}' is invalid. ` +
      "the seed must be a non-negative integer",
    ]),
    [
      ["run", "--scenario-file", badYaml],
      `kdump-lab: run: scenario file ${badYaml}: machine.devices[1].bar: "0xZZ" is not a number, ` +
      "0x… hex value or size like 256M",
    ],
    [
      ["run", "--scenario-file", brokenYaml],
      `kdump-lab: run: scenario file ${brokenYaml}: YAML: Flow sequence in block collection must ` +
      "be sufficiently indented and end with a ] at line 2, column 1",
    ],
    [
      ["run", "--scenario-file", brokenJson],
      `kdump-lab: run: scenario file ${brokenJson}: JSON: Unexpected end of JSON input`,
    ],
    [
      ["run", "--scenario-file", missing],
      `kdump-lab: run: scenario file ${missing}: cannot read it: no such file`,
    ],
    [
      ["run", "--scenario", "default", "--scenario-file", badYaml],
      "kdump-lab: run: option '--scenario-file <path>' cannot be used with option " +
      "'--scenario <name>'",
    ],
    [
      ["run", "--json", "--dmesg"],
      "kdump-lab: run: option '--dmesg' cannot be used with option '--json'",
    ],
  ];
  try {
    const results = await Promise.all(cases.map(([args]) => lab(args)));
    results.forEach((r, i) => {
      const [args, expected] = cases[i];
      const what = args.join(" ");
      assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.stderr})`);
      assert.equal(r.stdout, "", `${what}: nothing on stdout`);
      assert.equal(r.stderr, expected + "\n", what);
      assert.equal(/\bat .*:\d+:\d+/.test(r.stderr), false, `${what}: no stack trace`);
    });
  } finally {
    for (const f of [badYaml, brokenYaml, brokenJson]) await Deno.remove(f);
  }
});

Deno.test("run --scenario-file: YAML and JSON scenarios run like built-ins", async () => {
  const mine = { ...SCENARIOS.default, name: "from-file", seed: 7 };
  const yaml = await tempScenario(".yaml", stringify(mine));
  const json = await tempScenario(".json", JSON.stringify(mine));
  try {
    const [y, j] = await Promise.all([
      lab(["run", "--json", "--scenario-file", yaml]),
      lab(["run", "--json", "--scenario-file", json, "--seed", "3"]),
    ]);
    assert.equal(y.code, 0, y.stderr);
    const report = ReportSchema.parse(JSON.parse(y.stdout));
    assert.deepEqual([report.scenario, report.seed], ["from-file", 7]);
    assert.equal(y.stdout, jsonOf(run(mine)));
    assert.equal(j.code, 0, j.stderr);
    assert.equal(JSON.parse(j.stdout).seed, 3, "--seed overrides the file's seed");
    assert.equal(j.stdout, jsonOf(run(mine, { seed: 3 })));
  } finally {
    await Deno.remove(yaml);
    await Deno.remove(json);
  }
});

Deno.test("scenarios: names with descriptions; --json", async () => {
  const [human, json] = await Promise.all([lab(["scenarios"]), lab(["scenarios", "--json"])]);
  assert.equal(human.code, 0, human.stderr);
  const width = Math.max(...scenarioNames().map((n) => n.length));
  assert.equal(
    human.stdout,
    scenarioNames().map((n) => `${n.padEnd(width)}  ${SCENARIOS[n].description}`).join("\n") +
      "\n",
  );
  assert.equal(json.code, 0, json.stderr);
  const list = JSON.parse(json.stdout);
  assert.deepEqual(
    list,
    scenarioNames().map((n) => ({ name: n, description: SCENARIOS[n].description })),
  );
  assert.equal(list[0].name, "default");
  assert.match(list[0].description, /AMD IOMMU/);
});
