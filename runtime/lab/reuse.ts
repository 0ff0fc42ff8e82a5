/**
 * Reusing a run's result for another set of plugins, when the model shows the set cannot
 * change it.
 *
 * Plugins reach a run only through the hook points and symbols it asks for: a handler runs
 * when the kernel (or a plugin) calls its point, a provided symbol when a plugin looks it up.
 * A run therefore goes the same way under any other set of plugins that has the same
 * handlers, in the same order, at every hook point the run reached, and the same providers
 * of every symbol it looked up — up to the first point where the two sets differ, which the
 * run would have had to reach. So the lab records what each run reached (the names a
 * hook runner was asked for, unknown ones included), and a later run on the same
 * scenario and seed whose plugins look the same at all those names gets the earlier run's
 * result instead of a simulation. Early cut-off, as build systems with dynamic dependencies
 * do: nothing is guessed, a set that differs anywhere the run looked is simulated.
 *
 * What else a kernel sees of its plugins is its version banner (runtime/lab/version.ts), so
 * runs reuse only within one version string. A run without plugins has no hook runner (every
 * point runs its default) and records nothing: it is never reused, nor reused from.
 *
 * This holds for plugins that behave the same given the same inputs — the built-in ones do;
 * a user's plugin that draws on a clock or a random source of its own, or keeps state across
 * runs, does not, and a matrix of such plugins wants `--no-reuse`. `deno task reuse-check`
 * compares matrices with and without reuse.
 *
 * @module
 */
import type { Plugin } from "../plugin/mod.ts";
import { HOOK_POINTS } from "../kernel/hooks.ts";
import { kernelVersion } from "./version.ts";

/** The hook points and symbols a run asked for (each kernel's runner adds to the same sets). */
export interface Reached {
  /** Hook points, by name. */
  hooks: Set<string>;
  /** Symbols, by name. */
  symbols: Set<string>;
}

/** Empty sets for a run to fill. */
export function reached(): Reached {
  return { hooks: new Set(), symbols: new Set() };
}

/** A recorder for the hook runner's `reached` option (HookRunnerOptions), adding to `r`. */
export function recordInto(r: Reached): (what: "hook" | "symbol", name: string) => void {
  return (what, name) => (what === "hook" ? r.hooks : r.symbols).add(name);
}

/**
 * How `plugins` (in run order) look at `hook`: who defines it (`*` for the kernel's own
 * points) and who taps it, in order.
 */
function atHook(plugins: readonly Plugin[], hook: string): string {
  let defined = Object.hasOwn(HOOK_POINTS, hook) ? "*" : "";
  let taps = "";
  for (const p of plugins) {
    if (Object.hasOwn(p.defines, hook)) defined += " " + p.id;
    if (typeof p.hooks[hook] === "function") taps += " " + p.id;
  }
  return defined + "/" + taps;
}

/**
 * Which of `plugins` provides `symbol` — the first with a factory for it, as the hook runner
 * picks it — or "" for none.
 */
function atSymbol(plugins: readonly Plugin[], symbol: string): string {
  for (const p of plugins) if (Object.hasOwn(p.provides, symbol) && p.provides[symbol]) return p.id;
  return "";
}

/** How one set of plugins looks at names (each worked out once). */
class Look {
  private readonly at = new Map<string, string>();
  constructor(private readonly plugins: readonly Plugin[]) {}

  /** How the plugins look at the hook points `hooks` and the symbols `symbols`. */
  of(hooks: readonly string[], symbols: readonly string[]): string {
    let out = "";
    for (const h of hooks) out += this.cached("h " + h, () => atHook(this.plugins, h)) + "\n";
    out += "\n";
    for (const s of symbols) out += this.cached("s " + s, () => atSymbol(this.plugins, s)) + "\n";
    return out;
  }

  private cached(key: string, make: () => string): string {
    let v = this.at.get(key);
    if (v === undefined) this.at.set(key, v = make());
    return v;
  }
}

/**
 * One run remembered: plain data, so a matrix worker can pass what it learnt to the others.
 */
export interface ReuseEntry<T> {
  /** The seed and the version banner the run had. */
  key: string;
  /** The hook points it reached, sorted. */
  hooks: string[];
  /** The symbols it looked up, sorted. */
  symbols: string[];
  /** How its plugins looked at those names. */
  look: string;
  /** What the caller kept of the run. */
  result: T;
}

/** Runs that reached the same names, by how their plugins looked there. */
interface Group<T> {
  hooks: string[];
  symbols: string[];
  results: Map<string, T>;
}

/**
 * Results of earlier runs of one scenario, found again for sets of plugins that look the same
 * wherever those runs reached. `T` is what a caller keeps of a run (a matrix keeps its line).
 */
export class RunReuse<T> {
  /** Groups by seed and version banner, then by the names reached. */
  private readonly groups = new Map<string, Map<string, Group<T>>>();
  /** Runs answered from an earlier one. */
  hits = 0;
  /**
   * One copy of each look and of each list of names: the same sets reach the same names on
   * every seed, so a matrix over many seeds keeps each string once, not once per seed.
   */
  private readonly interned = new Map<string, string>();
  private readonly nameLists = new Map<string, { hooks: string[]; symbols: string[] }>();

  private intern(text: string): string {
    const known = this.interned.get(text);
    if (known !== undefined) return known;
    this.interned.set(text, text);
    return text;
  }

  private static keyOf(seed: number, plugins: readonly Plugin[]): string {
    return `${seed} ${kernelVersion(plugins.map((p) => p.id))}`;
  }

  /** An earlier run's result that a run of `plugins` on `seed` would give, if there is one. */
  find(seed: number, plugins: readonly Plugin[]): T | undefined {
    if (plugins.length === 0) return undefined;
    const groups = this.groups.get(RunReuse.keyOf(seed, plugins));
    if (groups === undefined) return undefined;
    const look = new Look(plugins);
    for (const g of groups.values()) {
      const hit = g.results.get(look.of(g.hooks, g.symbols));
      if (hit !== undefined) {
        this.hits++;
        return hit;
      }
    }
    return undefined;
  }

  /**
   * Keeps the result of a run of `plugins` on `seed` that reached `r`; returns what it kept
   * (undefined for a run without plugins, which is never reused).
   */
  add(seed: number, plugins: readonly Plugin[], r: Reached, result: T): ReuseEntry<T> | undefined {
    if (plugins.length === 0) return undefined;
    const hooks = [...r.hooks].sort(), symbols = [...r.symbols].sort();
    const e = {
      key: RunReuse.keyOf(seed, plugins),
      hooks,
      symbols,
      look: new Look(plugins).of(hooks, symbols),
      result,
    };
    this.learn(e);
    return e;
  }

  /** Keeps a run another {@link RunReuse} of the same scenario and plugins remembered. */
  learn(e: ReuseEntry<T>): void {
    let groups = this.groups.get(e.key);
    if (groups === undefined) this.groups.set(e.key, groups = new Map());
    const names = this.intern(e.hooks.join(" ") + "\n" + e.symbols.join(" "));
    let g = groups.get(names);
    if (g === undefined) {
      let lists = this.nameLists.get(names);
      if (lists === undefined) {
        this.nameLists.set(names, lists = { hooks: e.hooks, symbols: e.symbols });
      }
      groups.set(names, g = { ...lists, results: new Map() });
    }
    const look = this.intern(e.look);
    if (!g.results.has(look)) g.results.set(look, e.result);
  }
}
