/**
 * A series: an ordered list of plugins that users enable, disable, move, insert and
 * replace by id. Resolving it applies the plugins' `before`/`after` hints (a stable
 * topological order: series order wherever the hints do not say otherwise) and lists the
 * dependencies (`requires`, tapped hook points) that the applied set does not meet — a
 * patch that would not build. Such a series is still runnable when forced.
 *
 * @module
 */
import { HOOK_POINTS } from "./kernel-api.ts";
import { SeriesError } from "./errors.ts";
import type { Plugin } from "./plugin.ts";

/** An unmet dependency. */
export interface Missing {
  /** The id of the plugin whose dependency is unmet. */
  plugin: string;
  /** The plugin id it requires, or `hook:<name>` for a hook point nobody defines. */
  requires: string;
}

/** A resolved series: the order plugins run in, and what is missing. */
export interface Resolved {
  /** The enabled plugins in the order they run. */
  plugins: Plugin[];
  /** Their dependencies the series does not meet (none: it builds). */
  missing: Missing[];
}

/** Where a plugin goes: just before or after the plugin with that id (else at the end). */
export interface Placement {
  /** The id of the plugin to go just before. */
  before?: string;
  /** The id of the plugin to go just after (when `before` is not given). */
  after?: string;
}

interface Entry {
  plugin: Plugin;
  enabled: boolean;
  /**
   * Ids of the plugins this one replaced (see {@link Series.replace}): other plugins'
   * `requires` and `before`/`after` naming them are met by this one.
   */
  standsFor?: readonly string[];
}

/** An editable, ordered list of plugins. */
export class Series {
  private entries: Entry[];

  /** A series of `plugins`, enabled, in order (each inserted as {@link Series.insert} does). */
  constructor(plugins: readonly Plugin[] = []) {
    this.entries = [];
    for (const p of plugins) this.insert(p);
  }

  /** A copy (edits to it leave this one alone). */
  clone(): Series {
    const s = new Series();
    s.entries = this.entries.map((e) => ({ ...e }));
    return s;
  }

  /** The index of the plugin `id` in the list; throws a SeriesError when there is none. */
  private index(id: string): number {
    const i = this.entries.findIndex((e) => e.plugin.id === id);
    if (i < 0) {
      throw new SeriesError(
        `no plugin "${id}" in the series (have: ${this.ids().join(", ") || "none"})`,
      );
    }
    return i;
  }

  /** Ids in list order (disabled ones included). */
  ids(): string[] {
    return this.entries.map((e) => e.plugin.id);
  }

  /** Ids of the enabled plugins in list order. */
  enabledIds(): string[] {
    return this.entries.filter((e) => e.enabled).map((e) => e.plugin.id);
  }

  /** The plugin with this id. */
  get(id: string): Plugin {
    return this.entries[this.index(id)].plugin;
  }

  /** Whether the series holds a plugin with this id. */
  has(id: string): boolean {
    return this.entries.some((e) => e.plugin.id === id);
  }

  /** Enables a plugin. */
  enable(id: string): this {
    this.entries[this.index(id)].enabled = true;
    return this;
  }

  /** Disables a plugin (it stays in the list). */
  disable(id: string): this {
    this.entries[this.index(id)].enabled = false;
    return this;
  }

  /** Keeps only these ids enabled. */
  only(ids: readonly string[]): this {
    for (const id of ids) this.index(id);
    for (const e of this.entries) e.enabled = ids.includes(e.plugin.id);
    return this;
  }

  /** The list position `where` names: just before/after an id, or the end. */
  private position(where: Placement): number {
    if (where.before) return this.index(where.before);
    if (where.after) return this.index(where.after) + 1;
    return this.entries.length;
  }

  /** Inserts a plugin (enabled), at the end or before/after an id. */
  insert(p: Plugin, where: Placement = {}): this {
    if (this.has(p.id)) throw new SeriesError(`plugin "${p.id}" is already in the series`);
    this.entries.splice(this.position(where), 0, { plugin: p, enabled: true });
    return this;
  }

  /** Removes a plugin from the list. */
  remove(id: string): this {
    this.entries.splice(this.index(id), 1);
    return this;
  }

  /** Moves a plugin before or after another. */
  move(id: string, where: Placement): this {
    const target = where.before ?? where.after;
    if (target !== undefined) this.index(target); // unknown target: throw before editing
    if (target === id) throw new SeriesError(`cannot move "${id}" relative to itself`);
    const [e] = this.entries.splice(this.index(id), 1);
    this.entries.splice(this.position(where), 0, e);
    return this;
  }

  /**
   * Replaces the plugin `id` with `p` in the same position (and enabled state). `p` stands in
   * for `id` from then on: plugins that require `id`, or order themselves before/after it,
   * are satisfied by `p` (the way a reworked patch keeps its place in a series).
   */
  replace(id: string, p: Plugin): this {
    const i = this.index(id);
    if (p.id !== id && this.has(p.id)) {
      throw new SeriesError(`plugin "${p.id}" is already in the series`);
    }
    const old = this.entries[i];
    const standsFor = [...(old.standsFor ?? []), ...(p.id === id ? [] : [id])];
    this.entries[i] = { plugin: p, enabled: old.enabled, standsFor };
    return this;
  }

  /** Reorders the whole list: `ids` first in that order, the rest after in their order. */
  order(ids: readonly string[]): this {
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) throw new SeriesError(`plugin "${dup}" named twice in the order`);
    const picked = ids.map((id) => this.entries[this.index(id)]);
    const rest = this.entries.filter((e) => !ids.includes(e.plugin.id));
    this.entries = [...picked, ...rest];
    return this;
  }

  /** The enabled plugins in run order, and the unmet dependencies. */
  resolve(): Resolved {
    const on = this.entries.filter((e) => e.enabled);
    const enabled = on.map((e) => e.plugin);
    // Ids an enabled plugin answers to: its own, then those of plugins it replaced.
    const alias = new Map<string, Plugin>();
    for (const e of on) for (const id of e.standsFor ?? []) alias.set(id, e.plugin);
    for (const p of enabled) alias.set(p.id, p);
    const plugins = topoOrder(enabled, alias);
    const missing: Missing[] = [];
    const defined = new Set([
      ...Object.keys(HOOK_POINTS),
      ...enabled.flatMap((p) => Object.keys(p.defines)),
    ]);
    for (const p of plugins) {
      for (const r of p.requires) if (!alias.has(r)) missing.push({ plugin: p.id, requires: r });
      for (const h of Object.keys(p.hooks)) {
        if (!defined.has(h)) missing.push({ plugin: p.id, requires: `hook:${h}` });
      }
    }
    return { plugins, missing };
  }
}

/** Stable topological order honouring before/after among the given plugins. */
function topoOrder(plugins: Plugin[], alias: Map<string, Plugin>): Plugin[] {
  const idx = new Map([...alias].map(([id, p]) => [id, plugins.indexOf(p)]));
  const edges = new Map<number, Set<number>>(plugins.map((_, i) => [i, new Set()]));
  const indeg = plugins.map(() => 0);
  const edge = (from: number, to: number) => {
    if (from !== to && !edges.get(from)!.has(to)) {
      edges.get(from)!.add(to);
      indeg[to]++;
    }
  };
  plugins.forEach((p, i) => {
    for (const b of p.before) if (idx.has(b)) edge(i, idx.get(b)!);
    for (const a of p.after) if (idx.has(a)) edge(idx.get(a)!, i);
  });
  const out: Plugin[] = [];
  const ready = plugins.map((_, i) => i).filter((i) => indeg[i] === 0);
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    out.push(plugins[i]);
    for (const j of edges.get(i)!) if (--indeg[j] === 0) ready.push(j);
  }
  if (out.length !== plugins.length) {
    const stuck = plugins.filter((p) => !out.includes(p)).map((p) => p.id);
    throw new SeriesError(
      `ordering cycle among ${stuck.join(", ")} (their before/after hints contradict)`,
    );
  }
  return out;
}
