/**
 * The hook registry: implements the kernel's HookCaller for one kernel instance from an
 * ordered list of plugins. Each plugin gets its own state in that kernel, its handlers run
 * in series order (run-all, bail, waterfall) or nest (wrap: the last plugin is outermost),
 * and any error its code raises is re-thrown as a PluginError naming it and the hook point.
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
import type { Plugin, PluginCtx, PluginHookApi } from "./plugin.ts";

/** An error that passed through a wrapper's `next()`: not the wrapper's fault. */
class Passthrough {
  constructor(readonly error: unknown) {}
}

/** An error thrown by the default a plugin passed to `ctx.hooks.wrap`: that plugin's own. */
class OwnDefault {
  constructor(readonly error: unknown) {}
}

function rethrowable(e: unknown): boolean {
  return e instanceof PluginError || e instanceof KernelPanic || e instanceof Passthrough;
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
  };

  constructor(readonly plugins: readonly Plugin[]) {
    for (const [name, p] of Object.entries(HOOK_POINTS)) this.kinds.set(name, p.kind);
    plugins.forEach((pl, i) => {
      for (const [name, p] of Object.entries(pl.defines)) this.kinds.set(name, p.kind);
      if (!this.stateSlotOf.has(pl.id)) this.stateSlotOf.set(pl.id, i);
    });
  }

  /** The state kept in `slot` (the plugin there, by id), made on first use. */
  private stateAt(slot: number): unknown {
    if (!this.stateMade[slot]) {
      const p = this.plugins[slot];
      this.stateVal[slot] = p.state ? p.state() : undefined;
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
    if (t.lastCtx[i] === ctx) {
      const over = t.overCtx[i];
      if (over !== undefined) return over; // the same context again (a loop): made already
    }
    const p = t.list[i];
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
    if (!fn) this.made.set(name, fn = this.makeSymbol(name, k));
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
    for (const p of this.plugins) {
      const factory = p.provides[name];
      if (!factory) continue;
      const made = factory({
        k,
        state: this.stateOf(p),
        symbol: (n: string) => this.symbol(n, k),
        hooks: this.api,
      });
      // Errors inside a provided symbol are the provider's.
      const hook = `symbol ${name}`;
      // A function forwarding `arguments` as they came (no array made per call).
      return function (this: unknown) {
        try {
          return made.apply(this, arguments as unknown as unknown[]);
        } catch (e) {
          throw attributed(p, hook, e);
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
      const known = this.kinds.get(name);
      if (known === undefined) throw new Error(`no hook point ${name}`);
      const list = this.plugins.filter((p) => typeof p.hooks[name] === "function");
      t = {
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

  /** run-all: every handler, in order. */
  runAll<C extends KernelCtx>(name: string, ctx: C): void {
    const t = this.tapped(name, "run-all"), list = t.list;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      try {
        t.fns[i](this.ctxFor(t, i, ctx));
      } catch (e) {
        throw attributed(p, name, e);
      }
    }
  }

  /** bail: the first handler returning something other than undefined wins. */
  bail<V, C extends KernelCtx = KernelCtx>(name: string, ctx: C): V | undefined {
    const t = this.tapped(name, "bail"), list = t.list;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      let v: unknown;
      try {
        v = t.fns[i](this.ctxFor(t, i, ctx));
      } catch (e) {
        throw attributed(p, name, e);
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
      try {
        v = t.fns[i](v, this.ctxFor(t, i, ctx)) as V;
      } catch (e) {
        throw attributed(p, name, e);
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
    const next = (): V => {
      try {
        return i === 0 ? def() : this.wrapFrom(t, i - 1, name, ctx, def);
      } catch (e) {
        throw e instanceof PluginError || e instanceof KernelPanic ? e : new Passthrough(e);
      }
    };
    try {
      return t.fns[i](this.ctxFor(t, i, ctx), next) as V;
    } catch (e) {
      throw attributed(p, name, e);
    }
  }
}

/** What an error a plugin's code raised at `hook` becomes: a PluginError naming it, unless it is one to pass on. */
function attributed(p: Plugin, hook: string, e: unknown): unknown {
  return rethrowable(e) ? e : new PluginError(p.id, hook, e);
}
