/**
 * The sandbox users' plugin files run in (runtime/lab/sandbox.ts): no permission beyond
 * reading their own files, a wall-clock limit and a memory cap whose verdicts name the plugin
 * and the hook, `Deno.exit` an attributed error, the model's and JavaScript's prototypes
 * frozen — and a well-behaved plugin gives the same report in the sandbox as in process.
 * Tests never assert durations: the limits are small so the tests end soon, that is all.
 */
import assert from "node:assert/strict";
import { BatchPool, type BatchResult, type SeriesRecipe } from "../../runtime/lab/batch.ts";
import { InputError } from "../../runtime/lab/input.ts";
import { loadPluginFile, seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { sandboxArgs, type SandboxLimits } from "../../runtime/lab/sandbox.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const FIXTURES = new URL("../fixtures/sandbox/", import.meta.url).pathname;
const fixture = (name: string) => `${FIXTURES}${name}.ts`;

/** Small limits, so that runaway fixtures end soon. */
const LIMITS: SandboxLimits = { timeoutS: 2, maxMemoryMb: 256, allow: [] };

/** Runs the default scenario with the series and `file` added, in a sandbox; one result each seed. */
async function sandboxed(
  file: string,
  opts: { seeds?: number[]; limits?: SandboxLimits; spec?: string } = {},
): Promise<BatchResult[]> {
  const recipe: SeriesRecipe = { spec: opts.spec ?? "all", plugins: [{ file }] };
  const pool = new BatchPool({
    scenario: SCENARIOS.default,
    recipe,
    reports: true,
    sandbox: opts.limits ?? LIMITS,
  }, { workers: 1 });
  try {
    return await pool.run((opts.seeds ?? [1]).map((seed) => ({ seed })));
  } finally {
    pool.close();
  }
}

Deno.test("sandbox args: read only the sources and the users' files; granted permissions are added", () => {
  const args = sandboxArgs(["/tmp/p.ts"], LIMITS);
  assert.ok(args.includes("--no-prompt"));
  assert.ok(args.some((a) => /^--allow-read=.+,\/tmp\/p\.ts$/.test(a)));
  assert.ok(args.includes("--v8-flags=--max-old-space-size=256"));
  assert.ok(!args.some((a) => /^--allow-(write|net|env|run|ffi|sys)/.test(a)));
  const more = sandboxArgs(["/tmp/p.ts"], { ...LIMITS, allow: ["net", "read"] });
  assert.ok(more.includes("--allow-net") && more.includes("--allow-read"));
});

Deno.test("sandbox: a plugin reading /etc/passwd gets an attributed error, not the file in the report", async () => {
  const [r] = await sandboxed(fixture("read-passwd"));
  const report = r.report!;
  assert.equal(report.verdict, "plugin-error");
  assert.deepEqual([report.pluginError?.plugin, report.pluginError?.hook], [
    "read-passwd",
    "amd_iommu.init_iommu_one",
  ]);
  assert.match(report.pluginError!.message, /read access to "\/etc\/passwd"/);
  assert.ok(!JSON.stringify(report).includes("root:"), "nothing of the file in the report");
});

Deno.test("sandbox: a plugin cannot write a file", async () => {
  const written = `${FIXTURES}written.txt`;
  const [r] = await sandboxed(fixture("write-file"));
  assert.equal(r.report!.verdict, "plugin-error");
  assert.equal(r.report!.pluginError?.plugin, "write-file");
  assert.match(r.report!.pluginError!.message, /write access/);
  await assert.rejects(Deno.stat(written), Deno.errors.NotFound);
});

Deno.test("sandbox: a plugin file connecting out when loaded is refused; the connection never arrives", async () => {
  let listener: Deno.Listener | undefined;
  try {
    listener = Deno.listen({ hostname: "127.0.0.1", port: 45123 });
  } catch { /* the port is taken: the refusal is still checked */ }
  let connected = false;
  const accepting = listener?.accept().then((c) => {
    connected = true;
    c.close();
  }).catch(() => {});
  const e = await sandboxed(fixture("connect")).then(() => undefined, (err) => err);
  assert.ok(e instanceof InputError, String(e));
  assert.match(e.message, /^plugin file .*connect\.ts: cannot load it: .*net access/);
  listener?.close();
  await accepting;
  assert.equal(connected, false);
});

Deno.test("sandbox: an endless loop in a handler ends in plugin-timeout naming the plugin and the hook", async () => {
  const [r] = await sandboxed(fixture("loop"));
  const report = r.report!;
  assert.equal(report.verdict, "plugin-timeout");
  assert.deepEqual([report.pluginError?.plugin, report.pluginError?.hook], [
    "spin",
    "amd_iommu.set_dte_entry",
  ]);
  assert.equal(
    report.cause,
    "plugin spin at amd_iommu.set_dte_entry did not finish within 2 s (--timeout)",
  );
  assert.equal(report.scenario, "default");
  assert.equal(report.series.at(-1), "spin");
});

Deno.test("sandbox: after a timeout a new host runs the next seed (each seed gets its verdict)", async () => {
  const results = await sandboxed(fixture("loop"), { seeds: [1, 2] });
  assert.deepEqual(results.map((r) => [r.report!.seed, r.report!.verdict]), [
    [1, "plugin-timeout"],
    [2, "plugin-timeout"],
  ]);
});

Deno.test("sandbox: an allocation bomb ends in plugin-oom naming the plugin and the hook", async () => {
  const [r] = await sandboxed(fixture("alloc"), {
    limits: { timeoutS: 120, maxMemoryMb: 128, allow: [] },
  });
  const report = r.report!;
  assert.equal(report.verdict, "plugin-oom");
  assert.deepEqual([report.pluginError?.plugin, report.pluginError?.hook], [
    "hoarder",
    "amd_iommu.find_dev_data",
  ]);
  assert.match(report.cause, /memory cap of 128 MiB \(--max-memory\)/);
});

Deno.test("sandbox: Deno.exit and process.exit in a handler are attributed errors, not a clean exit", async () => {
  for (
    const [file, id, hook, how] of [
      ["exit", "quitter", "iommu.__iommu_attach_device", "Deno.exit(0)"],
      ["node-exit", "node-quitter", "amd_iommu.init_iommu_one", "process.exit(0)"],
    ]
  ) {
    const [r] = await sandboxed(fixture(file));
    const report = r.report!;
    assert.equal(report.verdict, "plugin-error", file);
    assert.deepEqual([report.pluginError?.plugin, report.pluginError?.hook], [id, hook], file);
    assert.ok(report.pluginError!.message.includes(`called ${how}`), report.pluginError!.message);
  }
});

Deno.test("sandbox: Deno's internal ops (an exit past Deno.exit) are out of users' code's reach", async () => {
  const [r] = await sandboxed(fixture("internal-exit"));
  assert.equal(r.report!.verdict, "plugin-error");
  assert.deepEqual(r.report!.pluginError, {
    plugin: "op-quitter",
    hook: "amd_iommu.init_iommu_one",
    message: "Deno's internals are out of reach",
  });
});

Deno.test("sandbox: users' code cannot patch JavaScript's built-in prototypes the lab relies on", async () => {
  const [r] = await sandboxed(fixture("patch-builtin"));
  assert.equal(r.report!.verdict, "plugin-error");
  assert.equal(r.report!.pluginError?.plugin, "patcher");
  assert.match(r.report!.pluginError!.message, /read.only|Cannot assign/);
});

Deno.test("sandbox: a well-behaved plugin file gives the same report in the sandbox as in process", async () => {
  const file = new URL("../../examples/old-domain-ids.ts", import.meta.url).pathname;
  const [r] = await sandboxed(file, { limits: { timeoutS: 60, maxMemoryMb: 1024, allow: [] } });
  const series = seriesFromSpec("all").insert(await loadPluginFile(file));
  const inProcess = run(SCENARIOS.default, { series, seed: 1 });
  assert.equal(inProcess.verdict, "dump-ok");
  assert.deepEqual(r.report, inProcess);
});

Deno.test("sandbox: what a matrix host is told (learnt runs) does not restart the time limit of the run it is on", async () => {
  const { SandboxWorker } = await import("../../runtime/lab/sandbox.ts");
  const host = new SandboxWorker("matrix", {
    files: [fixture("loop")],
    limits: { timeoutS: 1, maxMemoryMb: 256, allow: [] },
  });
  const messages: { type: string; fault?: { kind: string } }[] = [];
  let wake: () => void = () => {};
  host.onmessage = (e: MessageEvent) => {
    messages.push(e.data);
    wake();
  };
  const next = () => new Promise<void>((resolve) => wake = resolve);
  try {
    host.postMessage({
      type: "init",
      config: {
        scenario: SCENARIOS.default,
        mode: "full",
        patches: ["detect-pre-enabled"],
        plugins: [{ file: fixture("loop") }],
      },
    });
    await next();
    assert.equal(messages[0].type, "ready");
    host.postMessage({ type: "run", indices: [1] }); // spins at set_dte_entry
    // Told something every 0.2 s — postMessage here would restart the 1 s limit each time
    // and the run would never time out; tell() leaves it running.
    const faulted = next();
    let told = 0;
    for (; told < 40 && messages.length === 1; told++) {
      host.tell({ type: "learn", entries: [] });
      await Promise.race([faulted, new Promise((r) => setTimeout(r, 200))]);
    }
    assert.equal(messages.length, 2, `no fault after ${told} tells`);
    assert.deepEqual([messages[1].type, messages[1].fault?.kind], ["fault", "timeout"]);
  } finally {
    host.terminate();
  }
});
