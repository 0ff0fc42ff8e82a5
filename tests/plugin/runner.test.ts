/**
 * The hook runner on small fake kernels: handler order per hook kind, wrap nesting, per-kernel
 * plugin state, provided symbols, plugin-defined hook points, and error attribution.
 */
import assert from "node:assert/strict";
import { type Kernel, KernelPanic } from "../../runtime/kernel/kernel.ts";
import {
  definePlugin,
  hookPoint,
  HookRunner,
  MissingSymbolError,
  type Plugin,
  type PluginCtx,
  PluginError,
  unwrapHookError,
} from "../../runtime/plugin/mod.ts";

/** A stand-in kernel: the runner only passes it along. */
const fakeKernel = (id: string) => ({ id }) as unknown as Kernel;
const K1 = fakeKernel("kernel1"), K2 = fakeKernel("kernel2");

/** The runner as an untyped HookCaller (plugin-defined points and fake contexts). */
// deno-lint-ignore no-explicit-any
type Loose = Record<string, (...a: any[]) => any>;
const loose = (r: HookRunner) => r as unknown as Loose;

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail("nothing was thrown");
}

Deno.test("run-all: every handler in series order, each with its own ctx.plugin and the hook context", () => {
  const seen: string[] = [];
  const tap = (id: string) =>
    definePlugin({
      id,
      title: id,
      hooks: {
        "amd_iommu.init_iommu_one": (ctx) => {
          assert.equal(ctx.k, K1);
          assert.equal(ctx.plugin, id);
          seen.push(`${id}:IOMMU${ctx.iommu.index}`);
        },
      },
    });
  const r = new HookRunner([tap("c"), tap("a"), tap("b")] as Plugin[]);
  const iommu = { index: 3 } as never;
  r.runAll("amd_iommu.init_iommu_one", { k: K1, iommu });
  assert.deepEqual(seen, ["c:IOMMU3", "a:IOMMU3", "b:IOMMU3"]);
  // A hook point nobody taps: nothing runs.
  r.runAll("kernel.machine_crash_shutdown", { k: K1 });
  assert.deepEqual(seen, ["c:IOMMU3", "a:IOMMU3", "b:IOMMU3"]);
});

Deno.test("bail: the first non-undefined answer wins and later handlers do not run", () => {
  const ran: string[] = [];
  const answer = (id: string, v: boolean | undefined) =>
    definePlugin({
      id,
      title: id,
      hooks: {
        "iommu.__iommu_attach_device": () => {
          ran.push(id);
          return v;
        },
      },
    });
  const ctx = { k: K1, dev: {} as never, domain: {} as never };
  const r = new HookRunner([answer("pass", undefined), answer("no", false), answer("yes", true)]);
  // false is an answer, not "pass": it stops the chain.
  assert.equal(r.bail("iommu.__iommu_attach_device", ctx), false);
  assert.deepEqual(ran, ["pass", "no"]);
  ran.length = 0;
  const r2 = new HookRunner([answer("pass", undefined), answer("pass2", undefined)]);
  assert.equal(r2.bail("iommu.__iommu_attach_device", ctx), undefined);
  assert.deepEqual(ran, ["pass", "pass2"]);
});

Deno.test("waterfall: each handler gets the previous value, in series order", () => {
  const step = (id: string, add: string) =>
    definePlugin({
      id,
      title: id,
      hooks: {
        "amd_iommu.init_device_table_dma.bits": (bits, ctx) => {
          assert.equal(ctx.k, K2);
          return [...bits, `${add}@${ctx.plugin}`];
        },
      },
    });
  const r = new HookRunner([step("one", "X"), step("two", "Y")]);
  assert.deepEqual(
    r.waterfall("amd_iommu.init_device_table_dma.bits", ["V", "TV"], { k: K2 }),
    ["V", "TV", "X@one", "Y@two"],
  );
  // No handler: the value comes back unchanged.
  assert.equal(
    new HookRunner([]).waterfall("amd_iommu.early_amd_iommu_init.disable_iommus", true, {
      k: K2,
    }),
    true,
  );
});

Deno.test("wrap: later plugins wrap earlier ones, next() reaches the default, skipping next replaces it", () => {
  const trace: string[] = [];
  const wrapper = (id: string, callNext = true) =>
    definePlugin({
      id,
      title: id,
      hooks: {
        "amd_iommu.early_enable_iommus": (_ctx, next) => {
          trace.push(`${id}>`);
          if (callNext) next();
          trace.push(`<${id}`);
        },
      },
    });
  const def = () => void trace.push("default");
  new HookRunner([wrapper("first"), wrapper("second"), wrapper("third")])
    .wrap("amd_iommu.early_enable_iommus", { k: K1 }, def);
  assert.deepEqual(trace, [
    "third>",
    "second>",
    "first>",
    "default",
    "<first",
    "<second",
    "<third",
  ]);

  // "second" does not call next(): "first" and the default are replaced; "third" still wraps.
  trace.length = 0;
  new HookRunner([wrapper("first"), wrapper("second", false), wrapper("third")])
    .wrap("amd_iommu.early_enable_iommus", { k: K1 }, def);
  assert.deepEqual(trace, ["third>", "second>", "<second", "<third"]);

  // Values flow back out through the wrappers.
  const domain = { id: 7, type: "dma", mode: 3, pt_root: 0x1000, devices: new Set([0x100]) };
  const dom = { domain } as never;
  const r = new HookRunner([
    definePlugin({
      id: "busy",
      title: "busy",
      hooks: {
        "amd_iommu.get_domain": (_ctx, next) => {
          const v = next();
          return "domain" in v ? v : { err: "EBUSY" };
        },
      },
    }),
  ]);
  const ctx = { k: K1, dev: {} as never, devData: {} as never };
  assert.equal(r.wrap("amd_iommu.get_domain", ctx, () => dom), dom);
  assert.deepEqual(r.wrap("amd_iommu.get_domain", ctx, () => ({ err: "EINVAL" })), {
    err: "EBUSY",
  });
});

Deno.test("per-kernel state: each runner calls state() once and keeps its own object", () => {
  let made = 0;
  const counter = definePlugin<{ n: number; serial: number }>({
    id: "counter",
    title: "counter",
    state: () => ({ n: 0, serial: ++made }),
    provides: { count: ({ state }) => () => state.n },
    hooks: {
      "amd_iommu.init_iommu_one": ({ state }) => void state.n++,
      "kernel.machine_crash_shutdown": ({ state }) => void (state.n += 100),
    },
  });
  const reader = definePlugin({
    id: "reader",
    title: "reader",
    hooks: {
      "bnx2.bnx2_init_one": ({ symbol }) => {
        seen.push(symbol<() => number>("count")());
      },
    },
  });
  const seen: number[] = [];
  const r1 = new HookRunner([counter, reader] as Plugin[]);
  const r2 = new HookRunner([counter, reader] as Plugin[]);
  const iommu = { index: 0 } as never;
  r1.runAll("amd_iommu.init_iommu_one", { k: K1, iommu });
  r1.runAll("amd_iommu.init_iommu_one", { k: K1, iommu });
  r1.runAll("kernel.machine_crash_shutdown", { k: K1 });
  r2.runAll("amd_iommu.init_iommu_one", { k: K2, iommu });
  r1.runAll("bnx2.bnx2_init_one", { k: K1, dev: {} as never });
  r2.runAll("bnx2.bnx2_init_one", { k: K2, dev: {} as never });
  assert.deepEqual(seen, [102, 1], "kernel1's counter saw 2 IOMMUs and the crash; kernel2's one");
  assert.equal(made, 2, "state() ran once per runner, however many hooks and symbols used it");
});

Deno.test("symbols: provided by another plugin and bound to that plugin's state; a missing one is the caller's error", () => {
  const provider = definePlugin<{ flags: Map<number, boolean> }>({
    id: "provider",
    title: "provider",
    state: () => ({ flags: new Map() }),
    provides: {
      set_flag: ({ state }) => (i: number) => void state.flags.set(i, true),
      get_flag: ({ state, k }) => (i: number) =>
        `${(k as unknown as { id: string }).id}:${state.flags.get(i) === true}`,
      broken: () => () => {
        throw new Error("provider bug");
      },
    },
  });
  const user = definePlugin({
    id: "user",
    title: "user",
    hooks: {
      "amd_iommu.init_iommu_one": ({ symbol, iommu }) =>
        symbol<(i: number) => void>("set_flag")(iommu.index),
      "kernel.machine_crash_shutdown": ({ symbol }) =>
        void out.push(symbol<(i: number) => string>("get_flag")(2)),
      "bnx2.bnx2_init_one": ({ symbol }) => symbol("not_linked")(),
      "amd_iommu.find_dev_data": ({ symbol }) => symbol("broken")(),
    },
  });
  const out: string[] = [];
  const r = new HookRunner([provider, user] as Plugin[]);
  r.runAll("amd_iommu.init_iommu_one", { k: K1, iommu: { index: 2 } as never });
  r.runAll("kernel.machine_crash_shutdown", { k: K1 });
  assert.deepEqual(out, ["kernel1:true"], "the provider's own state saw the user's call");
  // The caller's runner (kernel) API works too, for kernel-side or lab use.
  assert.equal(r.symbol<(i: number) => string>("get_flag", K1)(3), "kernel1:false");

  const missing = thrown(() => r.runAll("bnx2.bnx2_init_one", { k: K1, dev: {} as never }));
  assert.ok(missing instanceof PluginError);
  assert.equal(missing.plugin, "user");
  assert.equal(missing.hook, "bnx2.bnx2_init_one");
  assert.ok(missing.cause instanceof MissingSymbolError);
  assert.equal(missing.cause.symbol, "not_linked");
  assert.match(missing.detail, /undefined symbol not_linked/);

  // An error inside a provided symbol is the provider's, at the symbol.
  const inside = thrown(() =>
    r.runAll("amd_iommu.find_dev_data", { k: K1, devData: {} as never, iommu: {} as never })
  );
  assert.ok(inside instanceof PluginError);
  assert.deepEqual([inside.plugin, inside.hook, inside.detail], [
    "provider",
    "symbol broken",
    "provider bug",
  ]);
});

Deno.test("plugin-defined hook points are called through ctx.hooks and tapped by later plugins", () => {
  const log: string[] = [];
  const definer = definePlugin({
    id: "definer",
    title: "definer",
    defines: {
      "my.copy.entry": hookPoint<"run-all", { devid: number }>("run-all", "per entry", "-"),
      "my.copy.allowed": hookPoint<"bail", { devid: number }, boolean>("bail", "veto", "-"),
      "my.copy.flags": hookPoint<"waterfall", object, number>("waterfall", "flags", "-"),
      "my.copy.write": hookPoint<"wrap", { devid: number }, string>("wrap", "write", "-"),
    },
    hooks: {
      "amd_iommu.early_enable_iommus": ({ k, hooks }, next) => {
        for (const devid of [1, 2]) {
          if (hooks.bail<boolean>("my.copy.allowed", { k, devid }) === false) continue;
          hooks.runAll("my.copy.entry", { k, devid });
          log.push(hooks.wrap("my.copy.write", { k, devid }, () => `write ${devid}`));
        }
        log.push(`flags ${hooks.waterfall("my.copy.flags", 1, { k })}`);
        next();
      },
    },
  });
  const tapper = definePlugin({
    id: "tapper",
    title: "tapper",
    hooks: {
      "my.copy.entry": ({ devid, plugin }) => void log.push(`${plugin} saw ${devid}`),
      "my.copy.allowed": ({ devid }) => devid === 2 ? false : undefined,
      "my.copy.flags": (v: number) => v | 4,
      "my.copy.write": (_ctx: { devid: number }, next: () => string) => `[${next()}]`,
    },
  });
  new HookRunner([definer, tapper] as Plugin[])
    .wrap("amd_iommu.early_enable_iommus", { k: K1 }, () => void log.push("413 loop"));
  assert.deepEqual(log, ["tapper saw 1", "[write 1]", "flags 5", "413 loop"]);
});

Deno.test("errors: a handler's exception is a PluginError(plugin, hook); an error from next() is not the wrapper's", () => {
  const boom = definePlugin({
    id: "boom",
    title: "boom",
    hooks: {
      "amd_iommu.init_iommu_one": () => {
        throw new TypeError("bad IOMMU");
      },
      "amd_iommu.early_enable_iommus": () => {
        throw "a string, not an Error";
      },
    },
  });
  const quiet = definePlugin({ id: "quiet", title: "quiet" });
  const r = new HookRunner([quiet, boom]);
  const e = thrown(() => r.runAll("amd_iommu.init_iommu_one", { k: K1, iommu: {} as never }));
  assert.ok(e instanceof PluginError);
  assert.deepEqual([e.plugin, e.hook, e.detail], ["boom", "amd_iommu.init_iommu_one", "bad IOMMU"]);
  assert.ok(e.cause instanceof TypeError);
  assert.equal(e.message, "plugin boom at amd_iommu.init_iommu_one: bad IOMMU");
  const s = thrown(() => r.wrap("amd_iommu.early_enable_iommus", { k: K1 }, () => {}));
  assert.ok(s instanceof PluginError);
  assert.equal(s.detail, "a string, not an Error");

  // Wrappers around a default that throws: the error passes through every next() untouched,
  // blamed on nobody (the lab unwraps it; it is the kernel model's own error).
  const ran: string[] = [];
  const around = (id: string) =>
    definePlugin({
      id,
      title: id,
      hooks: {
        "amd_iommu.early_enable_iommus": (_ctx, next) => {
          ran.push(id);
          return next();
        },
      },
    });
  const kernelBug = new RangeError("default broke");
  const r2 = new HookRunner([around("inner"), around("outer")]);
  const p = thrown(() =>
    r2.wrap("amd_iommu.early_enable_iommus", { k: K1 }, () => {
      throw kernelBug;
    })
  );
  assert.deepEqual(ran, ["outer", "inner"]);
  assert.ok(!(p instanceof PluginError), "not attributed to a wrapper");
  assert.equal(unwrapHookError(p), kernelBug);

  // A wrapper that throws itself is blamed, and the outer wrapper's next() passes that on.
  const thrower = definePlugin({
    id: "thrower",
    title: "thrower",
    hooks: {
      "amd_iommu.early_enable_iommus": () => {
        throw new Error("wrapper bug");
      },
    },
  });
  const t = thrown(() =>
    new HookRunner([thrower, around("outer")] as Plugin[])
      .wrap("amd_iommu.early_enable_iommus", { k: K1 }, () => {})
  );
  assert.ok(t instanceof PluginError);
  assert.deepEqual([t.plugin, t.hook], ["thrower", "amd_iommu.early_enable_iommus"]);

  // A kernel panic raised in a handler stays a panic (the kernel died; no plugin is blamed).
  const panicker = definePlugin({
    id: "panicker",
    title: "panicker",
    hooks: {
      "kernel.machine_crash_shutdown": () => {
        throw new KernelPanic("Fatal exception");
      },
    },
  });
  const k = thrown(() =>
    new HookRunner([panicker]).runAll("kernel.machine_crash_shutdown", { k: K1 })
  );
  assert.ok(k instanceof KernelPanic);
});

Deno.test("errors: a plugin's own default, passed to ctx.hooks.wrap, is that plugin's fault", () => {
  const caller = definePlugin({
    id: "caller",
    title: "caller",
    defines: { "my.step": hookPoint<"wrap", object, void>("wrap", "a step", "-") },
    hooks: {
      "kernel.machine_crash_shutdown": ({ k, hooks }) =>
        hooks.wrap("my.step", { k }, () => {
          throw new Error("caller's default broke");
        }),
    },
  });
  const wrapper = definePlugin({
    id: "wrapper",
    title: "wrapper",
    hooks: { "my.step": (_ctx: object, next: () => void) => next() },
  });
  for (const plugins of [[caller], [caller, wrapper]]) {
    const e = unwrapHookError(
      thrown(() =>
        new HookRunner(plugins as Plugin[]).runAll("kernel.machine_crash_shutdown", { k: K1 })
      ),
    );
    assert.ok(e instanceof PluginError, `attributed with ${plugins.length} plugin(s)`);
    assert.deepEqual([e.plugin, e.hook, e.detail], [
      "caller",
      "kernel.machine_crash_shutdown",
      "caller's default broke",
    ]);
  }
  // But a plugin that hands its own next() on as that default is still not blamed for what
  // the kernel's default throws behind it.
  const relay = definePlugin({
    id: "relay",
    title: "relay",
    defines: { "my.around": hookPoint<"wrap", object, void>("wrap", "around", "-") },
    hooks: {
      "amd_iommu.early_enable_iommus": ({ k, hooks }, next) => hooks.wrap("my.around", { k }, next),
    },
  });
  const kernelBug = new Error("kernel default broke");
  for (const plugins of [[relay], [relay, wrapper]]) {
    const e = thrown(() =>
      new HookRunner(plugins as Plugin[]).wrap("amd_iommu.early_enable_iommus", { k: K1 }, () => {
        throw kernelBug;
      })
    );
    assert.ok(!(e instanceof PluginError), `not blamed on relay (${plugins.length} plugin(s))`);
    assert.equal(unwrapHookError(e), kernelBug);
  }
});

Deno.test("calls of the wrong kind, or of a hook point nobody declares, throw", () => {
  const r = loose(new HookRunner([]));
  assert.throws(
    () => r.bail("amd_iommu.init_iommu_one", { k: K1 }),
    /hook point amd_iommu.init_iommu_one is run-all, called as bail/,
  );
  assert.throws(
    () => r.runAll("amd_iommu.get_domain", { k: K1 }),
    /amd_iommu.get_domain is wrap, called as run-all/,
  );
  assert.throws(
    () => r.wrap("amd_iommu.set_dte_entry.q1_clear", { k: K1 }, () => []),
    /is waterfall, called as wrap/,
  );
  assert.throws(() => r.runAll("amd_iommu.copy_device_table.entry", { k: K1 }), /no hook point/);
  // From plugin code the same mistake is that plugin's error.
  const wrongKind = definePlugin({
    id: "wrong-kind",
    title: "t",
    hooks: {
      "kernel.machine_crash_shutdown": ({ hooks, k }) =>
        hooks.bail("amd_iommu.init_iommu_one", { k }),
    },
  });
  const e = thrown(() =>
    new HookRunner([wrongKind]).runAll("kernel.machine_crash_shutdown", { k: K1 })
  );
  assert.ok(e instanceof PluginError);
  assert.equal(e.plugin, "wrong-kind");
  assert.match(e.detail, /is run-all, called as bail/);
});

Deno.test("contexts: a context object passed again reads through to the caller's current fields; fresh ones are copies", () => {
  const seen: string[] = [];
  const defines = { "test.entry": hookPoint("run-all", "an entry", "-") };
  const tap = (id: string) =>
    definePlugin<{ n: number }>({
      id,
      title: id,
      state: () => ({ n: 0 }),
      defines: id === "a" ? defines : {},
      hooks: {
        "test.entry": (ctx: { k: Kernel; devid: number } & PluginCtx<{ n: number }>) => {
          ctx.state.n++;
          seen.push(`${ctx.plugin}:${ctx.devid}:${ctx.state.n}:${"devid" in ctx}`);
        },
      },
    });
  const r = loose(new HookRunner([tap("a"), tap("b")] as Plugin[]));
  const ctx = { k: K1, devid: 1 };
  r.runAll("test.entry", ctx);
  ctx.devid = 2;
  r.runAll("test.entry", ctx); // the same object again: read through
  ctx.devid = 3;
  r.runAll("test.entry", ctx);
  r.runAll("test.entry", { k: K1, devid: 4 }); // a fresh object: copied again
  assert.deepEqual(seen, [
    "a:1:1:true",
    "b:1:1:true",
    "a:2:2:true",
    "b:2:2:true",
    "a:3:3:true",
    "b:3:3:true",
    "a:4:4:true",
    "b:4:4:true",
  ]);
  // Each handler's context is its own: a field it sets is not seen by the next plugin.
  const marks: unknown[] = [];
  const setter = definePlugin({
    id: "setter",
    title: "setter",
    defines,
    hooks: { "test.entry": (c: Record<string, unknown>) => void (c.mark = 1) },
  });
  const reader = definePlugin({
    id: "reader",
    title: "reader",
    hooks: { "test.entry": (c: Record<string, unknown>) => void marks.push(c.mark) },
  });
  const r2 = loose(new HookRunner([setter, reader] as Plugin[]));
  const same = { k: K1, devid: 0 };
  for (let i = 0; i < 3; i++) r2.runAll("test.entry", same);
  assert.deepEqual(marks, [undefined, undefined, undefined]);
  assert.equal("mark" in same, false, "nor by the caller");
});

Deno.test("contexts: a user's plugin (seen through the kernel view) reads a context passed again afresh, too", () => {
  const seen: number[] = [];
  const defines = { "test.entry": hookPoint("run-all", "an entry", "-") };
  const user = definePlugin({
    id: "user",
    title: "user",
    defines,
    hooks: {
      "test.entry": (ctx: { k: Kernel; devid: number } & PluginCtx) => void seen.push(ctx.devid),
    },
  });
  const r = loose(new HookRunner([user] as Plugin[], { viewed: () => true }));
  const ctx = { k: K1, devid: 0 };
  for (let devid = 0; devid < 4; devid++) {
    ctx.devid = devid;
    r.runAll("test.entry", ctx); // one object carries each entry (copy_device_table's loop)
  }
  assert.deepEqual(seen, [0, 1, 2, 3]);
});

Deno.test("reached: each hook point and symbol the runner is asked for is told once, unknown names too", () => {
  const told: string[] = [];
  const provider = definePlugin({
    id: "provider",
    title: "provider",
    provides: { helper: () => () => 7 },
  });
  const user = definePlugin({
    id: "user",
    title: "user",
    hooks: {
      "amd_iommu.init_iommu_one": ({ symbol }) => void symbol<() => number>("helper")(),
    },
  });
  const r = new HookRunner([provider, user] as Plugin[], {
    reached: (what, name) => told.push(`${what} ${name}`),
  });
  for (let i = 0; i < 3; i++) {
    r.runAll("amd_iommu.init_iommu_one", { k: K1, iommu: { index: i } as never });
  }
  // A point nobody taps is reached all the same (the run asked for it).
  r.runAll("kernel.machine_crash_shutdown", { k: K1 });
  assert.throws(() => loose(r).runAll("no.such.point", { k: K1 }), /no hook point no.such.point/);
  assert.throws(() => r.symbol("nobody_provides", K1), MissingSymbolError);
  assert.deepEqual(told, [
    "hook amd_iommu.init_iommu_one",
    "symbol helper",
    "hook kernel.machine_crash_shutdown",
    "hook no.such.point",
    "symbol nobody_provides",
  ]);
});

Deno.test("has: whether any plugin taps a point (plugin-defined ones too), through ctx.hooks as well; unknown points throw", () => {
  const definer = definePlugin({
    id: "definer",
    title: "definer",
    defines: { "my.point": hookPoint<"run-all", { n: number }>("run-all", "a point", "-") },
    hooks: {
      "amd_iommu.init_iommu_one": ({ hooks }) =>
        void answers.push(hooks.has("my.point"), hooks.has("kernel.machine_crash_shutdown")),
    },
  });
  const tapper = definePlugin({
    id: "tapper",
    title: "tapper",
    hooks: { "my.point": () => {} },
  });
  const answers: boolean[] = [];
  const told: string[] = [];
  const r = new HookRunner([definer, tapper] as Plugin[], { reached: (_, n) => told.push(n) });
  assert.equal(r.has("amd_iommu.init_iommu_one"), true);
  assert.equal(r.has("amd_iommu.find_dev_data"), false);
  r.runAll("amd_iommu.init_iommu_one", { k: K1, iommu: { index: 0 } as never });
  assert.deepEqual(answers, [true, false]);
  assert.equal(new HookRunner([definer] as Plugin[]).has("my.point"), false);
  assert.throws(() => r.has("no.such.point"), /no hook point no.such.point/);
  // Asking counts as reaching the point (runtime/lab/reuse.ts).
  assert.ok(told.includes("my.point") && told.includes("amd_iommu.find_dev_data"));
});
