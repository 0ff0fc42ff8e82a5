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

/** One kernel's view of the applied plugins. */
export class HookRunner implements HookCaller, PluginHookApi {
  private readonly states = new Map<string, unknown>();
  private readonly kinds = new Map<string, HookKind>();
  /**
   * `ctx.hooks` of plugin code. Its wrap differs from the kernel-facing one in one way: an
   * error thrown by the default the plugin passed in comes back out as itself (not as an
   * error that merely passed through the wrappers' `next()`), so the calling plugin's
   * invoke() attributes it to that plugin instead of letting it escape unattributed.
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
    for (const pl of plugins) {
      for (const [name, p] of Object.entries(pl.defines)) this.kinds.set(name, p.kind);
    }
  }

  private stateOf(p: Plugin): unknown {
    if (!this.states.has(p.id)) this.states.set(p.id, p.state ? p.state() : undefined);
    return this.states.get(p.id);
  }

  private ctxFor(p: Plugin, ctx: KernelCtx): PluginCtx & Record<string, unknown> {
    const k = ctx.k;
    return {
      ...ctx,
      plugin: p.id,
      state: this.stateOf(p),
      symbol: (name: string) => this.symbol(name, k),
      hooks: this.api,
    };
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
    let fn = this.made.get(name);
    if (!fn) this.made.set(name, fn = this.makeSymbol(name, k));
    return fn as F;
  }

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
      // deno-lint-ignore no-explicit-any
      return (...args: any[]) => this.invoke(p, `symbol ${name}`, () => made(...args));
    }
    throw new MissingSymbolError(name);
  }

  private invoke<T>(p: Plugin, hook: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (rethrowable(e)) throw e;
      throw new PluginError(p.id, hook, e);
    }
  }

  /** The plugins tapping each hook point, in series order (computed on first call). */
  private readonly taps = new Map<string, Plugin[]>();
  /** The same, last first (the order wrap() nests them in). */
  private readonly tapsReversed = new Map<string, Plugin[]>();

  private tapped(name: string, kind: HookKind): Plugin[] {
    const known = this.kinds.get(name);
    if (known === undefined) throw new Error(`no hook point ${name}`);
    if (known !== kind) throw new Error(`hook point ${name} is ${known}, called as ${kind}`);
    let list = this.taps.get(name);
    if (!list) {
      list = this.plugins.filter((p) => typeof p.hooks[name] === "function");
      this.taps.set(name, list);
      this.tapsReversed.set(name, list.slice().reverse());
    }
    return list;
  }

  /** run-all: every handler, in order. */
  runAll<C extends KernelCtx>(name: string, ctx: C): void {
    for (const p of this.tapped(name, "run-all")) {
      this.invoke(p, name, () => p.hooks[name]!(this.ctxFor(p, ctx)));
    }
  }

  /** bail: the first handler returning something other than undefined wins. */
  bail<V, C extends KernelCtx = KernelCtx>(name: string, ctx: C): V | undefined {
    for (const p of this.tapped(name, "bail")) {
      const v = this.invoke(p, name, () => p.hooks[name]!(this.ctxFor(p, ctx)));
      if (v !== undefined) return v as V;
    }
    return undefined;
  }

  /** waterfall: each handler gets the previous value and returns the next. */
  waterfall<V, C extends KernelCtx = KernelCtx>(name: string, value: V, ctx: C): V {
    let v = value;
    for (const p of this.tapped(name, "waterfall")) {
      v = this.invoke(p, name, () => p.hooks[name]!(v, this.ctxFor(p, ctx))) as V;
    }
    return v;
  }

  /**
   * wrap: the default is innermost and each later plugin wraps what the earlier ones made —
   * the way each patch of a series edits the function as the previous patches left it. So
   * the last plugin's handler runs first; not calling `next()` replaces everything inside.
   */
  wrap<V, C extends KernelCtx = KernelCtx>(name: string, ctx: C, def: () => V): V {
    this.tapped(name, "wrap");
    const list = this.tapsReversed.get(name)!;
    const call = (i: number): V => {
      if (i === list.length) return def();
      const p = list[i];
      const next = () => {
        try {
          return call(i + 1);
        } catch (e) {
          throw e instanceof PluginError || e instanceof KernelPanic ? e : new Passthrough(e);
        }
      };
      return this.invoke(p, name, () => p.hooks[name]!(this.ctxFor(p, ctx), next)) as V;
    };
    return call(0);
  }
}
