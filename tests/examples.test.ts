/** The examples run with `deno run` (the plugin file through the CLI) and do what they claim. */
import assert from "node:assert/strict";
import { exec, lab, ok, ROOT } from "./cli/lab-kit.ts";
import type { Report } from "../runtime/lab/report.ts";

async function runExample(file: string, ...args: string[]): Promise<string> {
  const run = ["run", "-A", `${ROOT}examples/${file}`, ...args];
  return ok(await exec(Deno.execPath(), run), file).stdout;
}

Deno.test("examples/custom-driver-plugin.ts: the soft reset at probe runs in the kdump kernel and the dump is clean", async () => {
  const out = await runExample("custom-driver-plugin.ts");
  assert.match(out, /series: .*disable-only-if-off, bnx2-soft-reset$/m);
  assert.match(out, /^verdict:\s+dump-ok$/m);
  assert.match(out, /^faults:\s+0 IO_PAGE_FAULT logged, 0 printed$/m);
  assert.match(out, /bnx2 0000:01:00\.0: soft reset at probe \(kdump\)/);
});

Deno.test("examples/replace-patch.ts: the user's copy_device_table copies the table the series refuses", async () => {
  const out = await runExample("replace-patch.ts");
  assert.match(out, /^the series: dump-corrupt/m);
  assert.match(out, /The address of old device table is above 4G, not trustworthy!/);
  assert.match(out, /^with my copy_device_table: dump-ok, 0 stray writes$/m);
  assert.match(out, /^ {2}Copied DEV table from previous kernel\.$/m);
});

Deno.test("examples/with-without.ts: leaving out amd-use-attach-deferred shows the faults", async () => {
  const out = await runExample("with-without.ts", "amd-use-attach-deferred", "no-dma-api-driver");
  assert.match(out, /without amd-use-attach-deferred: dump-ok/);
  assert.match(out, /IO_PAGE_FAULTs logged 0 → \d+/);
});

Deno.test("examples/old-domain-ids.ts: run --plugin prints each old DomainID the kdump kernel's attachments replace, seeds 1-5", async () => {
  for (const seed of ["1", "2", "3", "4", "5"]) {
    const args = ["run", "--series", "all", "--json", "--seed", seed];
    const plugin = ["--plugin", "./examples/old-domain-ids.ts"];
    const withIt: Report = JSON.parse(ok(await lab([...args, ...plugin]), "with it").stdout);
    const without: Report = JSON.parse(ok(await lab(args), "without it").stdout);
    assert.equal(withIt.series.at(-1), "old-domain-ids");
    const lines = withIt.dmesg.filter((l) => l.text.startsWith("old-domain-ids:"));
    // Both NIC functions (one domain) and the disk: each old ID replaced by a new, other one
    // (4.14's copy reserves the old IDs).
    assert.equal(lines.length, 3, `seed ${seed}`);
    for (const l of lines) {
      const m = /domain (\d+) replaced by (\d+)$/.exec(l.text)!;
      assert.notEqual(m[1], m[2]);
    }
    // It changes nothing the hardware sees: the same verdict, counters and commands.
    assert.equal(withIt.verdict, without.verdict);
    assert.equal(withIt.stats.commands, without.stats.commands);
    assert.equal(withIt.strayWriteCount, without.strayWriteCount);
  }
});

Deno.test("examples/crashkernel-512m.yaml: extends default, moves crashkernel; runs on 5 seeds, dump-ok with the series", async () => {
  const { loadScenarioFile } = await import("../runtime/lab/scenario-source.ts");
  const { simulateLab } = await import("../runtime/lab/run.ts");
  const { seriesFromSpec } = await import("../runtime/lab/plugins.ts");
  const { SCENARIOS } = await import("../runtime/lab/scenarios/mod.ts");
  const s = await loadScenarioFile(`${ROOT}examples/crashkernel-512m.yaml`);
  assert.equal(s.name, "crashkernel-512m");
  assert.deepEqual(s.machine, SCENARIOS.default.machine, "the machine is the default's");
  assert.deepEqual(s.crashkernel, [{ base: "0x18000000", size: "512M", name: "crashkernel=512M" }]);
  assert.equal(s.firstKernel.uptimeMs, SCENARIOS.default.firstKernel.uptimeMs, "merged");
  for (let seed = 1; seed <= 5; seed++) {
    const sim = simulateLab(s, { seed, series: seriesFromSpec("all") });
    const r = sim.report;
    assert.equal(r.verdict, "dump-ok", `seed ${seed}: ${r.cause}`);
    assert.equal(r.strayWriteCount, 0);
    // Mechanism: the kdump kernel's allocator manages memory inside the new reservation only.
    assert.ok(sim.built.usable2.length > 0);
    for (const m of sim.built.usable2) {
      assert.ok(m.base >= 0x18000000 && m.base + m.size <= 0x38000000, `${m.base}+${m.size}`);
    }
  }
  // Through the CLI as the file's comment says.
  const out = ok(
    await lab(["run", "--scenario-file", "examples/crashkernel-512m.yaml", "--json"]),
    "the example",
  );
  assert.equal(JSON.parse(out.stdout).scenario, "crashkernel-512m");
});

Deno.test("examples/reached.ts: with amd_iommu=off the copy's checks are never consulted, detection always (seeds 1-3)", async () => {
  const out = await runExample("reached.ts", "amd-iommu-off", "3", "all");
  assert.match(out, /^amd-iommu-off, series all, seeds 1-3: plugins consulted$/m);
  assert.match(out, /^ {2}detect-pre-enabled +on 3\/3 seeds$/m);
  assert.match(out, /^ {2}sanity-check-old-dte +on 0\/3 seeds$/m);
  assert.match(out, /^ {2}drop-gcr3-root +on 0\/3 seeds$/m);
  assert.equal(out.trimEnd().split("\n").length, 13, "a line for each of the 12 patches");
  const usage = await exec(Deno.execPath(), ["run", "-A", `${ROOT}examples/reached.ts`, "nope"]);
  assert.equal(usage.code, 2);
});
