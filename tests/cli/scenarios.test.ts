/**
 * `scenarios show NAME [--yaml|--json]` prints a built-in scenario as a file that
 * `run --scenario-file` loads back to the same report; a scenario file with several problems
 * gets one stderr line per problem and exit code 2.
 */
import assert from "node:assert/strict";
import { lab, ok } from "./lab-kit.ts";
import { scenarioNames } from "../../runtime/lab/scenarios/mod.ts";

Deno.test("scenarios show: YAML (default) or JSON, run back with --scenario-file gives the built-in's report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const builtin = JSON.parse(
      ok(await lab(["run", "--scenario", "old-irq-tablen", "--seed", "3", "--json"]), "built-in")
        .stdout,
    );
    for (const flag of ["--yaml", "--json"]) {
      const shown = ok(await lab(["scenarios", "show", "old-irq-tablen", flag]), flag).stdout;
      const file = `${dir}/mine${flag === "--json" ? ".json" : ".yaml"}`;
      await Deno.writeTextFile(file, shown);
      const out = ok(await lab(["run", "--scenario-file", file, "--seed", "3", "--json"]), file);
      assert.deepEqual(JSON.parse(out.stdout), builtin, `${flag}: the same report`);
    }
    const yaml = ok(await lab(["scenarios", "show", "default"]), "no flag").stdout;
    assert.match(yaml, /^# kdump-lab scenario "default"/);
    assert.match(yaml, /^name: default$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scenarios show: an unknown name exits 2 with the valid names", async () => {
  const r = await lab(["scenarios", "show", "nope"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr.trim(),
    `kdump-lab: scenarios show: unknown scenario "nope"; valid names: ${
      scenarioNames().join(", ")
    }`,
  );
});

Deno.test("run --scenario-file: every problem on its own line, exit 2, no stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/two.yaml`;
    await Deno.writeTextFile(
      file,
      [
        "extends: default",
        "firstKernel: { uptimeMs: 1e308 }",
        'crashkernel: [{ base: "0xd0000000", size: 256M }]',
      ].join("\n"),
    );
    const r = await lab(["run", "--scenario-file", file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.deepEqual(r.stderr.trim().split("\n"), [
      `kdump-lab: run: scenario file ${file}: firstKernel.uptimeMs: at most 300,000 ms (5 ` +
      "simulated minutes keep a run bounded)",
      `kdump-lab: run: scenario file ${file}: crashkernel[0].base: 0xd0000000–0xdfffffff is not ` +
      "in RAM: it lies in memoryMap[4] (PCI MMIO, a hole)",
      `kdump-lab: run: scenario file ${file}: machine.devices[1].traffic.framesPerSecond: the ` +
      "run would simulate ~611,433 device operations (NIC frames 606,000, RX buffers 4,590, " +
      "statistics DMAs 843), above 200,000 (the simulation's budget of device operations per run)",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
