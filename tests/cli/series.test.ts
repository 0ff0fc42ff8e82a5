/**
 * The series on the command line, end to end: `run --series/--disable/--force/--order`,
 * users' plugin files (`--plugin` with `--before/--after`, `--replace`), `plugins`, `hooks`
 * and `demo`. Spawns `deno run -A runtime/cli/main.ts` from the repository root the way
 * `deno task lab` does; the spawns of one test run in parallel.
 */
import assert from "node:assert/strict";
import { run } from "../../runtime/lab/run.ts";
import { builtinPlugins, seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import type { SweepResult } from "../../runtime/lab/sweep.ts";
import { type Report, ReportSchema } from "../../runtime/lab/report.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { renderSummary } from "../../runtime/cli/summary.ts";
import { lab, LATER, ok, type Output, SERIES } from "./lab-kit.ts";

/** The plugin runtime's absolute file URL, as users' plugin files import it. */
const RUNTIME = new URL("../../runtime/plugin/mod.ts", import.meta.url).href;

/**
 * The report a `run --json` printed, validated. A run that users' code (or a plugin) failed
 * exits 5 after printing its report, and says why in one stderr line; any other run exits 0
 * and prints nothing on stderr.
 */
function reportOf(out: Output, what: string): Report {
  const report = ReportSchema.parse(JSON.parse(out.stdout));
  const failed = ["plugin-error", "plugin-timeout", "plugin-oom"].includes(report.verdict);
  assert.equal(out.code, failed ? 5 : 0, `${what}: exit code for ${report.verdict}`);
  const why = `kdump-lab: run: ${report.verdict}: ${report.cause}\n`;
  assert.equal(out.stderr, failed ? why : "", what);
  return report;
}

/** A temporary plugin module; the caller removes it. */
async function pluginFile(body: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-user-plugin-", suffix: ".ts" });
  await Deno.writeTextFile(path, `import { definePlugin } from "${RUNTIME}";\n${body}`);
  return path;
}

Deno.test("run --series / --disable / --force / --order: the series reaches the report", async () => {
  const [patched, disabled, forced, ordered] = await Promise.all([
    lab(["run", "--series", "all", "--json"]),
    lab(["run", "--series", "all", "--disable", "helper-functions", "--json"]),
    lab(["run", "--series", "all", "--disable", "helper-functions", "--force", "--json"]),
    lab(["run", "--series", "all", "--order", "copy-dev-tables,detect-pre-enabled", "--json"]),
  ]);
  assert.deepEqual(seriesIds(), SERIES);

  const p = reportOf(patched, "all");
  assert.equal(p.verdict, "dump-ok");
  assert.deepEqual(p.series, SERIES);
  assert.deepEqual(p.missing, []);
  assert.equal(p.strayWriteCount, 0);
  assert.equal(p.dump?.badPages, 0);

  const withoutHelpers = SERIES.filter((id) => id !== "helper-functions");
  const d = reportOf(disabled, "--disable");
  assert.equal(d.verdict, "skipped");
  assert.deepEqual(d.series, withoutHelpers);
  assert.deepEqual(d.missing, [{ plugin: "copy-old-trans-table", requires: "helper-functions" }]);
  assert.equal(d.cause, "would not build: copy-old-trans-table requires helper-functions");
  assert.deepEqual(d.dmesg, [], "a skipped series does not run");

  const f = reportOf(forced, "--force");
  assert.notEqual(f.verdict, "skipped");
  assert.deepEqual(f.series, withoutHelpers);
  assert.deepEqual(f.missing, d.missing, "a forced run still names what is missing");
  assert.ok(f.dmesg.length > 0, "a forced run runs");
  const series = seriesFromSpec("all").disable("helper-functions");
  assert.equal(
    forced.stdout,
    JSON.stringify(run(SCENARIOS.default, { series, force: true }), null, 2) + "\n",
  );

  const o = reportOf(ordered, "--order");
  assert.deepEqual(o.series, [
    "copy-dev-tables",
    "detect-pre-enabled",
    ...SERIES.filter((id) => id !== "copy-dev-tables" && id !== "detect-pre-enabled"),
  ]);
});

Deno.test("run summary of a skipped series: the series and what is missing", () => {
  const series = seriesFromSpec("all").disable("helper-functions");
  const lines = renderSummary(run(SCENARIOS.default, { series }));
  assert.deepEqual(lines.slice(2, 6), [
    `series    11 plugin(s): ${SERIES.filter((id) => id !== "helper-functions").join(", ")}`,
    "missing   copy-old-trans-table requires helper-functions",
    "verdict   skipped",
    "cause     would not build: copy-old-trans-table requires helper-functions",
  ]);
  assert.equal(
    lines.some((l) => l.startsWith("stray DMA")),
    false,
    "nothing ran, nothing to count",
  );
});

Deno.test("run --plugin / --replace: users' plugin files run in the series", async () => {
  const hello = await pluginFile(`
export default definePlugin({
  id: "hello-user",
  title: "print a line when an IOMMU is initialised",
  hooks: {
    "amd_iommu.init_iommu_one": ({ k, iommu }) => {
      if (k.is_kdump_kernel()) k.pr_info(\`hello-user: IOMMU \${iommu.index} seen by the kdump kernel\`);
    },
  },
});
`);
  const throws = await pluginFile(`
export default definePlugin({
  id: "throws-user",
  title: "a plugin with a bug",
  hooks: { "amd_iommu.early_enable_iommus": (_ctx, next) => { throw new Error("oops in my plugin"); } },
});
`);
  const badManifest = await pluginFile(`
export default definePlugin({ id: "bad-manifest", title: "x", requires: ["Not_Kebab"] });
`);
  const quiet = await pluginFile(`
export default definePlugin({ id: "quiet-reset", title: "a bnx2 fix that does nothing", hooks: {} });
`);
  try {
    const [helloOut, throwsOut, badOut, replaced, unknown, unplaced] = await Promise.all([
      lab([
        "run",
        "--series",
        "all",
        "--plugin",
        hello,
        "--after",
        "detect-pre-enabled",
        "--json",
      ]),
      lab(["run", "--plugin", throws, "--json"]),
      lab(["run", "--series", "all", "--plugin", badManifest]),
      lab([
        "run",
        "--series",
        "all,bnx2-no-kdump-wait",
        "--replace",
        `bnx2-no-kdump-wait=${quiet}`,
        "--json",
      ]),
      lab(["run", "--series", "all,bnx2-no-kdump-wiat"]),
      lab(["run", "--before", "copy-dev-tables"]),
    ]);

    const h = reportOf(helloOut, "--plugin hello");
    assert.deepEqual(h.series, [SERIES[0], "hello-user", ...SERIES.slice(1)]);
    assert.equal(h.verdict, "dump-ok");
    const said = h.dmesg.filter((l) => l.text.startsWith("hello-user:"));
    assert.deepEqual(said.map((l) => [l.kernel, l.level, l.text]), [
      ["kernel2", "info", "hello-user: IOMMU 0 seen by the kdump kernel"],
    ]);

    const t = reportOf(throwsOut, "--plugin throws");
    assert.equal(t.verdict, "plugin-error");
    assert.deepEqual(t.pluginError, {
      plugin: "throws-user",
      hook: "amd_iommu.early_enable_iommus",
      message: "oops in my plugin",
    });
    assert.equal(
      t.cause,
      "plugin throws-user failed at amd_iommu.early_enable_iommus: oops in my plugin",
    );

    assert.equal(badOut.code, 2);
    assert.equal(badOut.stdout, "");
    assert.equal(
      badOut.stderr,
      `kdump-lab: run: plugin file ${badManifest}: plugin bad-manifest: field requires.0: ` +
        "must be kebab-case: lower-case letters, digits, dashes\n",
    );

    const r = reportOf(replaced, "--replace");
    assert.deepEqual(r.series, [...SERIES, "quiet-reset"]);

    assert.equal(unknown.code, 2);
    assert.equal(
      unknown.stderr,
      `kdump-lab: run: unknown plugin "bnx2-no-kdump-wiat" (known: ${
        [...SERIES, ...LATER, "bnx2-no-kdump-wait"].join(", ")
      })\n`,
    );
    assert.equal(unplaced.code, 2);
    assert.equal(
      unplaced.stderr,
      "kdump-lab: run: option '--before <id>' argument 'copy-dev-tables' is invalid. " +
        "--before places a --plugin FILE given before it\n",
    );
  } finally {
    for (const f of [hello, throws, badManifest, quiet]) await Deno.remove(f);
  }
});

Deno.test("plugins --json and hooks --json: the catalogue", async () => {
  const [plugins, hooks] = await Promise.all([
    lab(["plugins", "--json"]),
    lab(["hooks", "--json"]),
  ]);
  assert.equal(plugins.code, 0, plugins.stderr);
  const list = JSON.parse(plugins.stdout) as Record<string, unknown>[];
  assert.deepEqual(list.map((p) => p.id), [...SERIES, ...LATER, "bnx2-no-kdump-wait"]);
  assert.deepEqual(list.map((p) => p.source), [
    ...SERIES.map(() => "series"),
    ...LATER.map(() => "later"),
    "driver",
  ]);
  for (const p of list) {
    for (
      const key of ["id", "title", "requires", "before", "after", "provides", "defines", "hooks"]
    ) {
      assert.ok(key in p, `${p.id} has ${key}`);
    }
  }
  const copy = list.find((p) => p.id === "copy-dev-tables")!;
  assert.equal(copy.title, "iommu/amd: Add function copy_dev_tables()");
  assert.deepEqual(copy.requires, ["detect-pre-enabled", "dte-bit-fields"]);
  assert.deepEqual(copy.defines, [
    { name: "amd_iommu.copy_device_table.old_table", kind: "waterfall" },
    { name: "amd_iommu.copy_device_table.memremap", kind: "waterfall" },
    { name: "amd_iommu.copy_device_table.entries", kind: "run-all" },
    { name: "amd_iommu.copy_device_table.entry", kind: "run-all" },
  ]);
  const bnx2 = list.find((p) => p.id === "bnx2-no-kdump-wait")!;
  assert.equal(bnx2.source, "driver");
  assert.deepEqual(bnx2.hooks, [{ name: "bnx2.bnx2_init_one.wait_dma", kind: "wrap" }]);

  assert.equal(hooks.code, 0, hooks.stderr);
  const points = JSON.parse(hooks.stdout) as Record<string, unknown>[];
  const byName = new Map(points.map((h) => [h.name, h]));
  const enable = byName.get("amd_iommu.early_enable_iommus")!;
  assert.equal(enable.kind, "wrap");
  assert.equal(enable.definedBy, "kernel");
  assert.deepEqual(enable.tappedBy, [
    "helper-functions",
    "copy-old-trans-table",
    "snp-reuse-devtab",
    "preserve-domain-ids",
  ]);
  assert.match(String(enable.default413), /^Per IOMMU: iommu_disable/);
  const entries = byName.get("amd_iommu.copy_device_table.entries")!;
  assert.equal(entries.kind, "run-all");
  assert.equal(entries.definedBy, "copy-dev-tables");
  assert.deepEqual(entries.tappedBy, ["sanity-check-old-dte", "drop-gcr3-root"]);
  const entry = byName.get("amd_iommu.copy_device_table.entry")!;
  assert.equal(entry.definedBy, "copy-dev-tables");
  assert.deepEqual(entry.tappedBy, [], "the series' patches take the entries a page at a time");
  assert.equal(byName.get("iommu_ops.is_attach_deferred")?.definedBy, "iommu-is-attach-deferred");
});

Deno.test("plugins and hooks: the human listings", async () => {
  const [plugins, hooks, hooksJson] = await Promise.all([
    lab(["plugins"]),
    lab(["hooks"]),
    lab(["hooks", "--json"]),
  ]);
  const blocks = (out: Output, what: string) =>
    ok(out, what).stdout.trimEnd().split("\n\n").map((b) => b.split("\n"));
  const all = blocks(plugins, "plugins");
  // The groups apart, each under its heading: the series, the later fixes, the drivers.
  assert.deepEqual(all.filter((b) => b.length === 1).map((b) => b[0]), [
    'The series (Linux 4.14, "Fix kdump faults"): --series all',
    "Upstream's later kdump fixes, in upstream order: --series later",
    "Driver plugins",
  ]);
  const listed = all.filter((b) => b.length > 1);
  assert.equal(listed.length, SERIES.length + LATER.length + 1, "the 12, the later fixes, bnx2");
  assert.deepEqual(listed[12], [
    "13 sme-remap-devtab  later",
    "   iommu/amd: Remap the IOMMU device table with the memory encryption mask for kdump",
    "  requires  copy-dev-tables",
    "  before    dev-table-below-4g",
    "  taps      amd_iommu.copy_device_table.old_table (waterfall), " +
    "amd_iommu.copy_device_table.memremap (waterfall)",
  ]);
  assert.deepEqual(listed[13][0], "14 flush-old-domains  later");
  assert.deepEqual(listed[4], [
    " 5 copy-dev-tables  series",
    "   iommu/amd: Add function copy_dev_tables()",
    "  requires  detect-pre-enabled, dte-bit-fields",
    "  provides  copy_device_table, old_dev_tbl_cpy",
    "  defines   amd_iommu.copy_device_table.old_table (waterfall), " +
    "amd_iommu.copy_device_table.memremap (waterfall), " +
    "amd_iommu.copy_device_table.entries (run-all), amd_iommu.copy_device_table.entry (run-all)",
    "  taps      —",
  ]);
  const drivers = SERIES.length + LATER.length; // the driver plugins come after both groups
  assert.deepEqual(listed[drivers].slice(0, 2), [
    `${drivers + 1} bnx2-no-kdump-wait  driver`,
    `   ${builtinPlugins().get("bnx2-no-kdump-wait")!.title}`,
  ]);

  const points = blocks(hooks, "hooks");
  const json = JSON.parse(ok(hooksJson, "hooks --json").stdout) as { default413: string }[];
  assert.equal(points.length, json.length);
  const block = (name: string) => points.find((b) => b[0].startsWith(`${name}  `))!;
  const enable = block("amd_iommu.early_enable_iommus");
  assert.equal(enable[0], "amd_iommu.early_enable_iommus  wrap  kernel");
  assert.equal(
    enable.at(-1),
    "  tapped by   helper-functions, copy-old-trans-table, snp-reuse-devtab, preserve-domain-ids",
  );
  // The 4.13 default, wrapped under its label: the lines joined give the text back.
  const at = enable.findIndex((l) => l.startsWith("  4.13 "));
  const end = enable.findIndex((l) => l.startsWith("  context"));
  const text = enable.slice(at, end).map((l) => l.slice(14)).join(" ");
  // The context's fields and their types, `k` first (set_dte_entry's as declared).
  assert.deepEqual(enable.slice(end, end + 1), [
    "  context     k: Kernel — the kernel whose code is running",
  ]);
  const setDte = block("amd_iommu.set_dte_entry");
  const ctx = setDte.findIndex((l) => l.startsWith("  context"));
  assert.deepEqual(setDte.slice(ctx, ctx + 3).map((l) => l.slice(14)), [
    "k: Kernel — the kernel whose code is running",
    "devid: number — the DeviceID whose DTE is written",
    "domain: ProtectionDomain — the domain it is attached to",
  ]);
  assert.match(text, /^Per IOMMU: iommu_disable, iommu_init_flags, iommu_set_device_table, /);
  assert.ok(json.some((h) => h.default413 === text), text);
  assert.equal(
    block("amd_iommu.copy_device_table.entry")[0],
    "amd_iommu.copy_device_table.entry  run-all  defined by copy-dev-tables",
  );
});

Deno.test("demo: the baseline and all side by side; --json both reports", async () => {
  const [human, json] = await Promise.all([lab(["demo"]), lab(["demo", "--json"])]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.split("\n");
  const verdict = lines.find((l) => l.startsWith("verdict"));
  assert.match(verdict ?? "", /^verdict +dump-corrupt +dump-ok$/);
  const faults = lines.find((l) => l.startsWith("IO_PAGE_FAULT"));
  assert.ok(faults?.includes("suppressed"), faults);
  assert.ok(lines.some((l) => l.includes("Copied DEV table from previous kernel.")));

  assert.ok(
    lines.some((l) => /^100 seeds +dump-ok 89\/100 .*dump-ok 100\/100/.test(l)),
    "the sweep row",
  );

  assert.equal(json.code, 0, json.stderr);
  const both = JSON.parse(json.stdout) as {
    baseline: unknown;
    series: unknown;
    sweeps: Record<"baseline" | "series", SweepResult>;
  };
  // The example run (seed 1).
  const baseline = ReportSchema.parse(both.baseline), series = ReportSchema.parse(both.series);
  assert.equal(baseline.verdict, "dump-corrupt");
  assert.deepEqual(baseline.series, []);
  assert.equal(series.verdict, "dump-ok");
  assert.deepEqual(series.series, SERIES);
  // Over seeds 1-100: the baseline writes stray on every seed (the dump is corrupt on some);
  // the series is clean on every seed.
  const { baseline: b, series: s } = both.sweeps;
  assert.deepEqual(b.seeds, Array.from({ length: 100 }, (_, i) => i + 1));
  assert.ok(b.counters.strayWriteCount.min > 0);
  assert.equal(b.verdicts["dump-corrupt"]! + b.verdicts["dump-ok"]!, 100);
  assert.ok(b.seedsByVerdict["dump-corrupt"]!.includes(1), "seed 1 is the example");
  assert.deepEqual(s.verdicts, { "dump-ok": 100 });
  assert.equal(s.counters.strayWriteCount.max + s.counters.ioPageFaults.max, 0);
});
