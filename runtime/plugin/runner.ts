/**
 * The hook registry: implements the kernel's HookCaller for one kernel instance from an
 * ordered list of plugins. Each plugin gets its own state in that kernel, its handlers run
 * in series order (run-all, bail, waterfall) or nest (wrap: the last plugin is outermost),
 * and any error its code raises is re-thrown as a PluginError naming it and the hook point.
 *
 * The contract is enforced here, on every call: a bail, waterfall or wrap handler's value is
 * checked against the hook point's declared type (its zod schema, see runtime/kernel/hooks.ts);
 * a handler that returns a Promise (an async handler) is an error; only the runtime attributes
 * errors (a PluginError a plugin makes and throws is attributed to the plugin that threw it);
 * plugins that are not the lab's own see the kernel through {@link KernelView}.
 *
 * @module
 */
import {
  HOOK_POINTS,
  type HookCaller,
  type HookKind,
  type Kernel,
  type KernelCtx,
  KernelPanic,
} from "./kernel-api.ts";
import { MissingSymbolError, PluginError } from "./errors.ts";
import { KernelView } from "./kernel-view.ts";
import type { Plugin, PluginCtx, PluginHookApi } from "./plugin.ts";

/** The PluginErrors the runtime made: only these carry attribution through the hook chains. */
const ATTRIBUTED = new WeakSet<PluginError>();

/** True for a PluginError the runtime made (not one a plugin constructed and threw). */
export function isAttributed(e: unknown): e is PluginError {
  return e instanceof PluginError && ATTRIBUTED.has(e);
}

/**
 * Where the runtime reports which plugin's code runs (a plugin id and a hook point, or
 * undefined twice when none does): set once per process by a sandbox host, so that a run
 * stopped from outside (a timeout, the memory cap) can be attributed.
 */
export type FrameSink = (plugin: string | undefined, hook: string | undefined) => void;

let frameSink: FrameSink | undefined;
let framePlugin: string | undefined;
let frameHook: string | undefined;

/**
 * Installs the process's {@link FrameSink}. The first call wins: users' code loaded later cannot
 * replace it.
 *
 * @returns whether this call installed it
 */
export function setFrameSink(sink: FrameSink): boolean {
  if (frameSink !== undefined) return false;
  frameSink = sink;
  return true;
}

/**
 * Runs `fn` — code of `plugin` the runtime starts outside any hook point, such as loading a
 * plugin file (`module load`) — reporting it as the running frame. Refused while a plugin's
 * code runs: a plugin cannot name another as the one running.
 */
export async function framed<T>(plugin: string, hook: string, fn: () => Promise<T>): Promise<T> {
  if (framePlugin !== undefined) throw new Error("framed(): a plugin's code is running");
  if (frameSink === undefined) return await fn();
  enter(plugin, hook);
  try {
    return await fn();
  } finally {
    leave(undefined, undefined);
  }
}

/** The frame running now: what a sandbox host reports when its process ends unasked. */
export function currentFrame(): { plugin?: string; hook?: string } {
  return framePlugin === undefined ? {} : { plugin: framePlugin, hook: frameHook };
}

/** Reports that `plugin`'s code runs at `hook` (from here until {@link leave}). */
function enter(plugin: string, hook: string): void {
  framePlugin = plugin;
  frameHook = hook;
  frameSink!(plugin, hook);
}

/** Back to the frame that was current before. */
function leave(plugin: string | undefined, hook: string | undefined): void {
  framePlugin = plugin;
  frameHook = hook;
  frameSink!(plugin, hook);
}

/** The error for a handler's wrong value (checked against the hook point's schema). */
function badValue(name: string, kind: string, issue: string): Error {
  return new TypeError(`returned a value ${name} (${kind}) does not take: ${issue}`);
}

/** A Promise (or any thenable) returned by a handler: async handlers are not allowed. */
function isThenable(v: unknown): boolean {
  return (typeof v === "object" || typeof v === "function") && v !== null &&
    typeof (v as { then?: unknown }).then === "function";
}

/** Options of a {@link HookRunner}. */
export interface HookRunnerOptions {
  /**
   * Which plugins see the kernel through the API view ({@link KernelView}: no machine object,
   * no owner tags, no snapshot). Default: none (every plugin gets the kernel itself).
   */
  viewed?: (p: Plugin) => boolean;
  /**
   * Told each hook point and each symbol the runner is asked for, the first time (unknown
   * names included): what a run reached, so the lab can tell which runs a change of plugins
   * cannot alter (runtime/lab/reuse.ts).
   */
  reached?: (what: "hook" | "symbol", name: string) => void;
}

/** What a wrapper's `next()` gave before it was called: nothing yet. */
const NOT_CALLED = Symbol("not called");

/** An error that passed through a wrapper's `next()`: not the wrapper's fault. */
class Passthrough {
  constructor(readonly error: unknown) {}
}

/** An error thrown by the default a plugin passed to `ctx.hooks.wrap`: that plugin's own. */
class OwnDefault {
  constructor(readonly error: unknown) {}
}

function rethrowable(e: unknown): boolean {
  return isAttributed(e) || e instanceof KernelPanic || e instanceof Passthrough;
}

/** Unwraps an error that escaped a hook chain (for callers outside the runtime). */
export function unwrapHookError(e: unknown): unknown {
  return e instanceof Passthrough ? unwrapHookError(e.error) : e;
}

/** A hook point's kind and the plugins tapping it (computed on its first call). */
interface Taps {
  kind: HookKind;
  /** In series order. */
  list: Plugin[];
  /** Per plugin of `list`: its handler of this hook point. */
  // deno-lint-ignore no-explicit-any
  fns: ((...args: any[]) => any)[];
  /** Per plugin of `list`: where its state is kept (see HookRunner.stateAt). */
  stateSlot: number[];
  /** Per plugin of `list`: the kernel context it was last called with. */
  lastCtx: (KernelCtx | undefined)[];
  /** Per plugin of `list`: its context made over `lastCtx`, once that context came twice. */
  overCtx: (PluginCtx | undefined)[];
  /** Per plugin of `list`: its kernel view (users' plugins), else undefined. */
  views: (KernelView | undefined)[];
}

/**
 * One kernel's view of the applied plugins.
 *
 * Dispatch allocates no closure per call: the tapping plugins are looked up once per hook
 * point, each plugin's state is found by index, the `symbol` resolver is made once per
 * kernel, and errors are attributed in place. A handler's context is the hook point's context
 * plus the plugin's `plugin`, `state`, `symbol` and `hooks`: a fresh copy per call, except
 * when the kernel (or a plugin) passes the same context object again — a loop over entries
 * reusing one context, as copy_device_table does — where each plugin gets one context made
 * over it (its fields read through to the caller's object, current on every call) and kept.
 */
export class HookRunner implements HookCaller, PluginHookApi {
  /** Each plugin's state (by the first index of its id), made on first use. */
  private readonly stateVal: unknown[] = [];
  private readonly stateMade: boolean[] = [];
  private readonly stateSlotOf = new Map<string, number>();
  private readonly kinds = new Map<string, HookKind>();
  /** The declared value type of each hook point that has one. */
  private readonly values = new Map<string, { safeParse(v: unknown): SafeParse }>();
  /** Per plugin (by index): its kernel view, when it sees one. */
  private readonly views: (KernelView | undefined)[];
  /**
   * `ctx.hooks` of plugin code. Its wrap differs from the kernel-facing one in one way: an
   * error thrown by the default the plugin passed in comes back out as itself (not as an
   * error that merely passed through the wrappers' `next()`), so the calling plugin's
   * handler attributes it to that plugin instead of letting it escape unattributed.
   */
  private readonly api: PluginHookApi = {
    runAll: (name, ctx) => this.runAll(name, ctx),
    bail: (name, ctx) => this.bail(name, ctx),
    waterfall: (name, value, ctx) => this.waterfall(name, value, ctx),
    wrap: (name, ctx, def) => {
      try {
        return this.wrap(name, ctx, () => {
          try {
            return def();
          } catch (e) {
            throw rethrowable(e) ? e : new OwnDefault(e);
          }
        });
      } catch (e) {
        const inner = e instanceof Passthrough ? e.error : e;
        throw inner instanceof OwnDefault ? inner.error : e;
      }
    },
    has: (name) => this.has(name),
  };

  /** {@link HookRunnerOptions.reached}. */
  private readonly onReached: HookRunnerOptions["reached"];

  constructor(readonly plugins: readonly Plugin[], opts: HookRunnerOptions = {}) {
    this.onReached = opts.reached;
    const declare = (name: string, p: { kind: HookKind; value?: unknown }) => {
      this.kinds.set(name, p.kind);
      const schema = p.value as { safeParse?: unknown } | undefined;
      if (typeof schema?.safeParse === "function") {
        this.values.set(name, schema as { safeParse(v: unknown): SafeParse });
      }
    };
    for (const [name, p] of Object.entries(HOOK_POINTS)) declare(name, p);
    plugins.forEach((pl, i) => {
      for (const [name, p] of Object.entries(pl.defines)) declare(name, p);
      if (!this.stateSlotOf.has(pl.id)) this.stateSlotOf.set(pl.id, i);
    });
    this.views = plugins.map((p) =>
      opts.viewed?.(p)
        ? new KernelView((hook, e) => attributed(p, hook, e), (hook, fn) => {
          const pp = framePlugin, ph = frameHook;
          if (frameSink) enter(p.id, hook);
          try {
            return fn();
          } finally {
            if (frameSink) leave(pp, ph);
          }
        })
        : undefined
    );
  }

  /** The view of the plugin at index `i` of `plugins` (undefined: it sees the kernel). */
  private viewAt(i: number): KernelView | undefined {
    return this.views[i];
  }

  /**
   * Checks a handler's return value: no Promise, and the hook point's declared type. Throws
   * (inside the handler's attribution) when it is wrong.
   */
  private checked(name: string, kind: HookKind, v: unknown, answer: boolean): unknown {
    if (isThenable(v)) {
      // Its rejection (if any) is this error's, not an unhandled one.
      (v as Promise<unknown>).then?.(undefined, () => {});
      throw new TypeError(
        `returned a Promise: handlers run synchronously, inside the kernel (no async handlers)`,
      );
    }
    if (!answer) return v;
    const schema = this.values.get(name);
    if (schema === undefined) return v;
    const r = schema.safeParse(v);
    if (!r.success) throw badValue(name, kind, issueText(r.error, v));
    return v;
  }

  /** The state kept in `slot` (the plugin there, by id), made on first use. */
  private stateAt(slot: number): unknown {
    if (!this.stateMade[slot]) {
      const p = this.plugins[slot];
      const pp = framePlugin, ph = frameHook;
      if (frameSink) enter(p.id, "state()");
      try {
        this.stateVal[slot] = p.state
          ? this.checked("state()", "run-all", p.state(), false)
          : undefined;
      } catch (e) {
        throw attributed(p, "state()", e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
      this.stateMade[slot] = true;
    }
    return this.stateVal[slot];
  }

  private stateOf(p: Plugin): unknown {
    return this.stateAt(this.stateSlotOf.get(p.id)!);
  }

  /** The `ctx.symbol` of the kernel `k` (made once per kernel). */
  // deno-lint-ignore no-explicit-any
  private symbolFn: (<F = (...args: any[]) => any>(name: string) => F) | undefined;
  private symbolK: Kernel | undefined;

  // deno-lint-ignore no-explicit-any
  private symbolOf(k: Kernel): <F = (...args: any[]) => any>(name: string) => F {
    if (this.symbolFn === undefined || this.symbolK !== k) {
      this.symbolK = k;
      this.symbolFn = (name) => this.symbol(name, k);
    }
    return this.symbolFn;
  }

  /** The context of plugin `i` of `t.list` for a call with the kernel context `ctx`. */
  private ctxFor(t: Taps, i: number, ctx: KernelCtx): PluginCtx {
    const view = t.views[i];
    if (t.lastCtx[i] === ctx) {
      const over = t.overCtx[i];
      if (over !== undefined) {
        // The same context again (a loop, e.g. copy_device_table's entries): made already. A
        // built-in plugin's reads the fields through its prototype; a user's plugin has them
        // as own properties, taken afresh (they change between calls: ctx.devid).
        if (view !== undefined) {
          const fields = ctx as unknown as Record<string, unknown>;
          const own = over as unknown as Record<string, unknown>;
          for (const key in fields) own[key] = view.out(fields[key]);
        }
        return over;
      }
    }
    const p = t.list[i];
    if (view !== undefined) {
      // Users' plugins: the context's fields through the view (own properties, so Object.keys
      // and spreads see them), the plugin's own on top.
      const c = {
        ...view.out(ctx),
        plugin: p.id,
        state: this.stateAt(t.stateSlot[i]),
        symbol: this.symbolOf(ctx.k),
        hooks: this.api,
      } as PluginCtx;
      t.lastCtx[i] = ctx;
      t.overCtx[i] = c;
      return c;
    }
    if (t.lastCtx[i] !== ctx) {
      t.lastCtx[i] = ctx;
      t.overCtx[i] = undefined;
      return {
        ...ctx,
        plugin: p.id,
        state: this.stateAt(t.stateSlot[i]),
        symbol: this.symbolOf(ctx.k),
        hooks: this.api,
      };
    }
    let c = t.overCtx[i];
    if (c === undefined) {
      c = Object.create(ctx) as PluginCtx;
      c.plugin = p.id;
      c.state = this.stateAt(t.stateSlot[i]);
      c.symbol = this.symbolOf(ctx.k);
      c.hooks = this.api;
      t.overCtx[i] = c;
    }
    return c;
  }

  /** Symbols already made, by name. */
  // deno-lint-ignore no-explicit-any
  private readonly made = new Map<string, (...args: any[]) => any>();

  /**
   * Resolves a symbol provided by an applied plugin, made once and bound to `k` — the kernel
   * this runner serves (one runner per kernel, like the plugins' state).
   */
  // deno-lint-ignore no-explicit-any
  symbol<F = (...args: any[]) => any>(name: string, k: Kernel): F {
    if (name === this.lastSymbol) return this.lastMade as F;
    let fn = this.made.get(name);
    if (!fn) {
      this.onReached?.("symbol", name);
      this.made.set(name, fn = this.makeSymbol(name, k));
    }
    this.lastSymbol = name;
    this.lastMade = fn;
    return fn as F;
  }

  /** The symbol resolved last (a loop calls the same one again and again). */
  private lastSymbol: string | undefined;
  // deno-lint-ignore no-explicit-any
  private lastMade: ((...args: any[]) => any) | undefined;

  // deno-lint-ignore no-explicit-any
  private makeSymbol(name: string, k: Kernel): (...args: any[]) => any {
    for (let i = 0; i < this.plugins.length; i++) {
      const p = this.plugins[i];
      const factory = p.provides[name];
      if (!factory) continue;
      const view = this.viewAt(i);
      // Errors inside a provided symbol (or its factory) are the provider's.
      const hook = `symbol ${name}`;
      const pp = framePlugin, ph = frameHook;
      if (frameSink) enter(p.id, hook);
      // deno-lint-ignore no-explicit-any
      let made: (...args: any[]) => any;
      try {
        made = factory({
          k: view ? view.out(k) : k,
          state: this.stateOf(p),
          symbol: (n: string) => this.symbol(n, k),
          hooks: this.api,
        });
      } catch (e) {
        throw attributed(p, hook, e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
      if (typeof made !== "function") {
        throw attributed(p, hook, new TypeError("its factory did not return a function"));
      }
      // deno-lint-ignore no-explicit-any
      return (...args: any[]) => {
        const pp = framePlugin, ph = frameHook;
        if (frameSink) enter(p.id, hook);
        try {
          const v = view ? view.in(made(...args.map((a) => view.out(a)))) : made(...args);
          return typeof v === "object" || typeof v === "function"
            ? this.checked(hook, "run-all", v, false)
            : v;
        } catch (e) {
          throw attributed(p, hook, e);
        } finally {
          if (frameSink) leave(pp, ph);
        }
      };
    }
    throw new MissingSymbolError(name);
  }

  /** Hook points by name, as {@link tapped} found them. */
  private readonly taps = new Map<string, Taps>();

  /** The hook point {@link tapped} answered last (a loop calls one point again and again). */
  private lastTapName: string | undefined;
  private lastTaps: Taps | undefined;

  /** The plugins tapping `name`, checking it is a hook point of kind `kind`. */
  private tapped(name: string, kind: HookKind): Taps {
    if (name === this.lastTapName && this.lastTaps!.kind === kind) return this.lastTaps!;
    let t = this.taps.get(name);
    if (t === undefined) {
      this.onReached?.("hook", name);
      const known = this.kinds.get(name);
      if (known === undefined) throw new Error(`no hook point ${name}`);
      const at = this.plugins.map((_, i) => i).filter((i) =>
        typeof this.plugins[i].hooks[name] === "function"
      );
      const list = at.map((i) => this.plugins[i]);
      t = {
        views: at.map((i) => this.views[i]),
        kind: known,
        list,
        fns: list.map((p) => p.hooks[name]!),
        stateSlot: list.map((p) => this.stateSlotOf.get(p.id)!),
        lastCtx: list.map(() => undefined),
        overCtx: list.map(() => undefined),
      };
      this.taps.set(name, t);
    }
    if (t.kind !== kind) throw new Error(`hook point ${name} is ${t.kind}, called as ${kind}`);
    this.lastTapName = name;
    this.lastTaps = t;
    return t;
  }

  /** Whether any plugin taps hook point `name` (see {@link PluginHookApi.has}). */
  has(name: string): boolean {
    const kind = this.kinds.get(name);
    if (kind === undefined) throw new Error(`no hook point ${name}`);
    return this.tapped(name, kind).list.length > 0;
  }

  /** run-all: every handler, in order. */
  runAll<C extends KernelCtx>(name: string, ctx: C): void {
    const t = this.tapped(name, "run-all"), list = t.list;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      const pp = framePlugin, ph = frameHook;
      if (frameSink) enter(p.id, name);
      try {
        const v = t.fns[i](this.ctxFor(t, i, ctx));
        if (v !== undefined) this.checked(name, "run-all", v, false);
      } catch (e) {
        throw attributed(p, name, e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
    }
  }

  /** bail: the first handler returning something other than undefined wins. */
  bail<V, C extends KernelCtx = KernelCtx>(name: string, ctx: C): V | undefined {
    const t = this.tapped(name, "bail"), list = t.list;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      let v: unknown;
      const pp = framePlugin, ph = frameHook;
      if (frameSink) enter(p.id, name);
      try {
        v = t.fns[i](this.ctxFor(t, i, ctx));
        const view = t.views[i];
        if (view) v = view.in(v);
        if (v !== undefined) this.checked(name, "bail", v, true);
      } catch (e) {
        throw attributed(p, name, e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
      if (v !== undefined) return v as V;
    }
    return undefined;
  }

  /** waterfall: each handler gets the previous value and returns the next. */
  waterfall<V, C extends KernelCtx = KernelCtx>(name: string, value: V, ctx: C): V {
    const t = this.tapped(name, "waterfall"), list = t.list;
    let v = value;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      const pp = framePlugin, ph = frameHook;
      if (frameSink) enter(p.id, name);
      try {
        const view = t.views[i];
        const r = view
          ? view.in(t.fns[i](view.out(v), this.ctxFor(t, i, ctx)))
          : t.fns[i](v, this.ctxFor(t, i, ctx));
        // The value passed on unchanged was checked already (or is the kernel's own).
        v = (r === v ? r : this.checked(name, "waterfall", r, true)) as V;
      } catch (e) {
        throw attributed(p, name, e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
    }
    return v;
  }

  /**
   * wrap: the default is innermost and each later plugin wraps what the earlier ones made —
   * the way each patch of a series edits the function as the previous patches left it. So
   * the last plugin's handler runs first; not calling `next()` replaces everything inside.
   */
  wrap<V, C extends KernelCtx = KernelCtx>(name: string, ctx: C, def: () => V): V {
    const t = this.tapped(name, "wrap");
    if (t.list.length === 0) return def();
    return this.wrapFrom(t, t.list.length - 1, name, ctx, def);
  }

  /** The wrap chain from wrapper `i` of `t.list` (the last plugin is outermost) inwards. */
  private wrapFrom<V>(t: Taps, i: number, name: string, ctx: KernelCtx, def: () => V): V {
    const p = t.list[i];
    const view = t.views[i];
    // What next() gave: a wrapper passing it on returns a value already checked (or the
    // kernel's own), so only a value of the wrapper's making is checked against the type.
    let inner: unknown = NOT_CALLED;
    const next = (): V => {
      const pp = framePlugin, ph = frameHook;
      try {
        if (frameSink) leave(undefined, undefined); // the kernel's (or inner plugins') code
        const v = i === 0 ? def() : this.wrapFrom(t, i - 1, name, ctx, def);
        inner = v;
        return view ? view.out(v) : v;
      } catch (e) {
        throw isAttributed(e) || e instanceof KernelPanic ? e : new Passthrough(e);
      } finally {
        if (frameSink) leave(pp, ph);
      }
    };
    const pp = framePlugin, ph = frameHook;
    if (frameSink) enter(p.id, name);
    try {
      const r = t.fns[i](this.ctxFor(t, i, ctx), next);
      const raw = view ? view.in(r) : r;
      return (raw === inner ? raw : this.checked(name, "wrap", raw, true)) as V;
    } catch (e) {
      throw attributed(p, name, e);
    } finally {
      if (frameSink) leave(pp, ph);
    }
  }
}

/** What an error a plugin's code raised at `hook` becomes: a PluginError naming it, unless it is one to pass on. */
function attributed(p: Plugin, hook: string, e: unknown): unknown {
  if (rethrowable(e)) return e;
  const err = new PluginError(p.id, hook, e);
  ATTRIBUTED.add(err);
  return err;
}

/** A zod parse result, as much of it as the runtime reads. */
interface SafeParse {
  success: boolean;
  error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
}

/** The first problem of a failed check, in words, with the value received. */
function issueText(error: SafeParse["error"], v: unknown): string {
  const issue = error?.issues[0];
  const where = issue?.path.length ? `${issue.path.map(String).join(".")}: ` : "";
  let shown: string;
  try {
    shown = typeof v === "object" && v !== null
      ? JSON.stringify(v)?.slice(0, 60) ?? String(v)
      : String(v);
  } catch {
    shown = Object.prototype.toString.call(v);
  }
  return `${where}${issue?.message ?? "invalid"} (got ${shown})`;
}
