/**
 * The plugin contract, enforced: every value a bail, waterfall or wrap handler returns is
 * checked against the hook point's declared type; a handler returning a Promise is an error;
 * only the runtime attributes errors; users' plugins see the kernel API and not the
 * instrumentation (machine, owner tags, snapshot); built-in plugins, scenarios and hook points
 * are frozen; a plugin tapping an unknown hook point is refused like a bad manifest.
 */
import assert from "node:assert/strict";
import { DRIVER_PLUGINS } from "../../plugins/drivers/mod.ts";
import { SERIES } from "../../plugins/series/mod.ts";
import type { Machine } from "../../runtime/hw/machine.ts";
import type { PhysMem } from "../../runtime/hw/memory.ts";
import { type Kernel, machineOf } from "../../runtime/kernel/kernel.ts";
import { InputError } from "../../runtime/lab/input.ts";
import { buildSeries, seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run, simulate } from "../../runtime/lab/run.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import {
  definePlugin,
  HOOK_POINTS,
  HookRunner,
  isAttributed,
  type Plugin,
  PluginError,
  unwrapHookError,
} from "../../runtime/plugin/mod.ts";

/** A stand-in kernel for runner-level checks. */
const K = { id: "kernel1" } as unknown as Kernel;

/** What `fn` threw (unwrapped from the hook chains). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return unwrapHookError(e);
  }
  assert.fail("nothing was thrown");
}

/** The series with `extra` plugins added at the end. */
const withPlugins = (spec: string, ...extra: Plugin[]) => {
  const s = seriesFromSpec(spec);
  for (const p of extra) s.insert(p);
  return s;
};

// ---- declared value types ----------------------------------------------------------------------

/** A value no declared type accepts. */
const WRONG = "not-a-value";

Deno.test("value types: every bail, waterfall and wrap point with a declared type refuses a wrong value, attributed to the plugin and the point", () => {
  const typed = Object.entries(HOOK_POINTS).filter(([, p]) => "value" in p && p.value);
  // The declared ones: 4 waterfalls, 2 bails, get_domain's wrap.
  assert.deepEqual(typed.map(([n]) => n).sort(), [
    "amd_iommu.early_amd_iommu_init.dev_table_gfp",
    "amd_iommu.early_amd_iommu_init.disable_iommus",
    "amd_iommu.get_domain",
    "amd_iommu.init_device_table_dma.bits",
    "amd_iommu.set_dte_entry.q1_clear",
    "amd_iommu_v2.ppr_notifier",
    "iommu.__iommu_attach_device",
  ]);
  for (const [name, point] of typed) {
    const handler = point.kind === "waterfall"
      ? () => WRONG
      : point.kind === "wrap"
      ? () => ({ err: "ENOENT" })
      : () => WRONG;
    const p = definePlugin({ id: "wrong-type", title: "t", hooks: { [name]: handler } });
    const r = new HookRunner([p]) as unknown as Record<string, (...a: unknown[]) => unknown>;
    const e = thrown(() =>
      point.kind === "waterfall"
        ? r.waterfall(name, 1, { k: K })
        : point.kind === "bail"
        ? r.bail(name, { k: K })
        : r.wrap(name, { k: K }, () => ({ err: "EINVAL" }))
    );
    assert.ok(e instanceof PluginError && isAttributed(e), name);
    assert.equal(e.plugin, "wrong-type", name);
    assert.equal(e.hook, name);
    assert.match(e.detail, new RegExp(`returned a value ${name.replaceAll(".", "\\.")}`), name);
  }
});

Deno.test("value types: a right value passes unchanged, and undefined from a bail handler means no answer", () => {
  const p = definePlugin({
    id: "right",
    title: "t",
    hooks: {
      "amd_iommu.early_amd_iommu_init.disable_iommus": () => false,
      "iommu.__iommu_attach_device": () => undefined,
      "amd_iommu_v2.ppr_notifier": () => 1,
    },
  });
  const r = new HookRunner([p]);
  assert.equal(
    r.waterfall("amd_iommu.early_amd_iommu_init.disable_iommus", true, { k: K }),
    false,
  );
  assert.equal(r.bail("iommu.__iommu_attach_device", { k: K } as never), undefined);
  assert.equal(r.bail("amd_iommu_v2.ppr_notifier", { k: K } as never), 1);
});

Deno.test("value types: in a run, a wrong value ends it with plugin-error naming the plugin and the hook point", () => {
  const p = definePlugin({
    id: "says-yes",
    title: "t",
    hooks: { "amd_iommu.early_amd_iommu_init.disable_iommus": () => "yes" as unknown as boolean },
  });
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", p) });
  assert.equal(r.verdict, "plugin-error");
  assert.equal(r.pluginError?.plugin, "says-yes");
  assert.equal(r.pluginError?.hook, "amd_iommu.early_amd_iommu_init.disable_iommus");
  assert.match(r.pluginError!.message, /expected boolean.*got yes/);
});

// ---- async handlers ----------------------------------------------------------------------------

Deno.test("a bail handler or a provided symbol returning a Promise is the plugin's error, at its hook or symbol", () => {
  const p = definePlugin({
    id: "async-answers",
    title: "t",
    // (TypeScript refuses an async handler; a JavaScript plugin can still pass one.)
    hooks: { "iommu.__iommu_attach_device": (async () => await Promise.resolve(true)) as never },
    provides: { async_symbol: () => async () => await Promise.resolve(1) },
  });
  const runner = new HookRunner([p]);
  const bail = thrown(() => runner.bail("iommu.__iommu_attach_device", { k: K } as never));
  assert.ok(bail instanceof PluginError);
  assert.deepEqual([bail.plugin, bail.hook], ["async-answers", "iommu.__iommu_attach_device"]);
  assert.match(bail.detail, /returned a Promise/);
  const sym = thrown(() => runner.symbol<() => unknown>("async_symbol", K)());
  assert.ok(sym instanceof PluginError);
  assert.deepEqual([sym.plugin, sym.hook], ["async-answers", "symbol async_symbol"]);
  assert.match(sym.detail, /returned a Promise/);
});

Deno.test("a handler returning a Promise is the plugin's error — in a run too, where the rejection is not lost", async () => {
  let rejected = 0;
  const p = definePlugin({
    id: "async-user",
    title: "t",
    hooks: {
      "amd_iommu.init_iommu_one": async () => {
        await Promise.resolve();
        rejected++;
        throw new Error("too late");
      },
    },
  });
  const e = thrown(() => new HookRunner([p]).runAll("amd_iommu.init_iommu_one", { k: K } as never));
  assert.ok(e instanceof PluginError);
  assert.equal(e.plugin, "async-user");
  assert.match(e.detail, /returned a Promise/);
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", p) });
  assert.equal(r.verdict, "plugin-error");
  assert.deepEqual([r.pluginError?.plugin, r.pluginError?.hook], [
    "async-user",
    "amd_iommu.init_iommu_one",
  ]);
  await new Promise((ok) => setTimeout(ok, 10)); // the rejections happen, and are handled
  assert.ok(rejected >= 1);
});

// ---- attribution -------------------------------------------------------------------------------

Deno.test("only the runtime attributes: a PluginError a plugin makes, naming another plugin, is the thrower's", () => {
  const framer = definePlugin({
    id: "framer",
    title: "t",
    hooks: {
      "amd_iommu.init_iommu_one": () => {
        throw new PluginError("detect-pre-enabled", "amd_iommu.early_enable_iommus", "not me");
      },
    },
  });
  const e = thrown(() =>
    new HookRunner([framer]).runAll("amd_iommu.init_iommu_one", { k: K } as never)
  );
  assert.ok(e instanceof PluginError && isAttributed(e));
  assert.equal(e.plugin, "framer");
  assert.equal(e.hook, "amd_iommu.init_iommu_one");
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", framer) });
  assert.equal(r.verdict, "plugin-error");
  assert.equal(r.pluginError?.plugin, "framer");
  assert.equal(r.pluginError?.hook, "amd_iommu.init_iommu_one");
});

// ---- the kernel API, not the instrumentation ------------------------------------------------

/** A plugin that runs `body` on the kdump kernel's IOMMU init and logs what it returns. */
function probe(id: string, body: (k: Kernel) => unknown): Plugin {
  return definePlugin({
    id,
    title: "t",
    hooks: {
      "amd_iommu.init_iommu_one": ({ k }) => {
        if (k.is_kdump_kernel()) k.pr_info(`${id}: ${String(body(k))}`);
      },
    },
  });
}

Deno.test("kernel view: users' plugins use the kernel API (log, registers, memory reads) as before", () => {
  const reader = probe("reader", (k) => {
    const iommu = k.amd.iommus[0];
    const ctl = k.readl(iommu.mmio_base + 0x18);
    return `control ${ctl & 1} ram ${k.mem.isRam(0x100000, 4096)} iommus ${k.amd.iommus.length}`;
  });
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", reader) });
  assert.equal(r.verdict, "dump-ok");
  const line = r.dmesg.find((l) => l.text.startsWith("reader:"));
  assert.equal(line?.text, "reader: control 1 ram true iommus 1");
});

Deno.test("kernel view: the machine, owner tags and the snapshot are out of users' plugins' reach — re-tagging to hide stray writes fails, attributed", () => {
  // 4.13 on default: the NIC's frames land in the crashed kernel's memory (stray writes).
  const base = run(DEFAULT_SCENARIO);
  assert.equal(base.verdict, "dump-corrupt");
  assert.ok(base.strayWriteCount > 0);
  // What a plugin can try past the kernel API's types (as one written in JavaScript does).
  type Reach = { machine: Machine; mem: PhysMem; alloc: unknown };
  const attempts: [string, (k: Reach) => unknown][] = [
    ["k.machine", (k) => k.machine.mem],
    ["k.mem.setOwner", (k) => k.mem.setOwner(0, 2 ** 40, { who: "crashkernel" })],
    [
      "k.alloc's memory",
      (k) => (k.alloc as { mem: PhysMem }).mem.setOwner(0, 2 ** 40, { who: "free" }),
    ],
    [
      "the prototype's setOwner",
      (k) => Object.getPrototypeOf(k.mem).setOwner.call(k.mem, 0, 2 ** 40, { who: "free" }),
    ],
    ["k.mem.ownerOf", (k) => k.mem.ownerOf(0x100000)],
    ["k.mem.beginSnapshot", (k) => k.mem.beginSnapshot()],
  ];
  for (const [what, body] of attempts) {
    const p = definePlugin({
      id: "hider",
      title: "t",
      hooks: { "kernel.machine_crash_shutdown": ({ k }) => void body(k as unknown as Reach) },
    });
    const r = run(DEFAULT_SCENARIO, { series: withPlugins("none", p) });
    assert.equal(r.verdict, "plugin-error", what);
    assert.deepEqual(
      [r.pluginError?.plugin, r.pluginError?.hook],
      ["hider", "kernel.machine_crash_shutdown"],
      what,
    );
    assert.match(r.pluginError!.message, /instrumentation, not part of the kernel API/, what);
  }
  // The instrumentation is untouched: the same run without the plugin still sees the strays.
  assert.deepEqual(run(DEFAULT_SCENARIO), base);
});

Deno.test("kernel view: a function a plugin hands the kernel keeps its errors attributed to the plugin", () => {
  const p = definePlugin({
    id: "irq-user",
    title: "t",
    hooks: {
      "amd_iommu.init_iommu_one": ({ k }) => {
        if (k.is_kdump_kernel()) {
          k.pollWait(
            function cond() {
              throw new Error("bad condition");
            },
            1000,
            2,
          );
        }
      },
    },
  });
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", p) });
  assert.equal(r.pluginError?.plugin, "irq-user");
  assert.equal(r.pluginError?.message, "bad condition");
});

Deno.test("kernel view: built-in plugins, and a test's instrumented probes, see the kernel itself", () => {
  let sawMachine = false;
  const p = definePlugin({
    id: "instrumented",
    title: "t",
    hooks: {
      "kernel.machine_crash_shutdown": ({ k }) => void (sawMachine = machineOf(k).mem === k.mem),
    },
  });
  const sim = simulate(DEFAULT_SCENARIO, { series: withPlugins("all", p), instrumented: [p] });
  assert.equal(sim.report.verdict, "dump-ok");
  assert.ok(sawMachine);
});

// ---- frozen built-ins --------------------------------------------------------------------------

Deno.test("built-ins are frozen: a plugin cannot overwrite a built-in plugin's handler, a built-in scenario or a hook point", () => {
  const target = SERIES.find((p) => p.id === "detect-pre-enabled")!;
  const name = Object.keys(target.hooks)[0];
  const before = target.hooks[name];
  const vandal = definePlugin({
    id: "vandal",
    title: "t",
    hooks: {
      "amd_iommu.init_iommu_one": () => {
        (target.hooks as Record<string, unknown>)[name] = () => {
          throw new Error("hijacked");
        };
      },
    },
  });
  const r = run(DEFAULT_SCENARIO, { series: withPlugins("all", vandal) });
  assert.equal(r.pluginError?.plugin, "vandal", "the attempt is the vandal's error");
  assert.match(r.pluginError!.message, /read.only|not extensible|Cannot assign/);
  assert.equal(target.hooks[name], before);
  assert.equal(run(DEFAULT_SCENARIO, { series: seriesFromSpec("all") }).verdict, "dump-ok");

  for (const p of [...SERIES, ...Object.values(DRIVER_PLUGINS)]) {
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.hooks) && Object.isFrozen(p.requires), p.id);
  }
  assert.throws(() => {
    (SCENARIOS.default as { seed: number }).seed = 7;
  }, TypeError);
  assert.throws(() => {
    (SCENARIOS.default.machine as { devices: unknown[] }).devices.push({});
  }, TypeError);
  assert.throws(() => {
    (HOOK_POINTS as unknown as Record<string, unknown>)["amd_iommu.get_domain"] = {};
  }, TypeError);
  assert.ok(Object.isFrozen(HOOK_POINTS["amd_iommu.get_domain"]));
});

// ---- unknown hook points ------------------------------------------------------------------------

Deno.test("a users' plugin tapping a hook point no one declares is refused, naming the plugin and the field", () => {
  const typo = definePlugin({
    id: "typo",
    title: "t",
    hooks: { "amd_iommu.early_enable_iommu": () => {} },
  });
  for (
    const req of [{ add: [{ plugin: typo }] }, {
      replace: [{ id: "helper-functions", plugin: typo }],
    }]
  ) {
    const e = thrown(() => buildSeries({ spec: "all", ...req }));
    assert.ok(e instanceof InputError);
    assert.equal(
      e.message.split("\n").length,
      1,
    );
    assert.match(
      e.message,
      /^plugin typo: field hooks\["amd_iommu\.early_enable_iommu"\]: no hook point amd_iommu\.early_enable_iommu/,
    );
  }
  // A point a built-in plugin defines is known, even when that plugin is not applied.
  const tapper = definePlugin({
    id: "entry-tapper",
    title: "t",
    hooks: { "amd_iommu.copy_device_table.entry": () => {} },
  });
  assert.ok(buildSeries({ spec: "none", add: [{ plugin: tapper }] }));
});
