/**
 * Plugins described for `kdump-lab plugins`: id, title, where the plugin comes from, its
 * dependencies and ordering hints, the symbols it provides, the hook points it defines and
 * the hook points it taps, each with its kind.
 *
 * @module
 */
import type { HookKind, Plugin } from "../plugin/mod.ts";
import { catalogPlugins, hookKinds } from "./hooks-info.ts";
import { driverIds, laterIds, seriesIds, sourceOf } from "./plugins.ts";

/** A hook point named with its kind (`unknown` when no known plugin or the kernel defines it). */
export interface HookRef {
  name: string;
  kind: HookKind | "unknown";
}

/** One plugin as `kdump-lab plugins` shows it. */
export interface PluginInfo {
  id: string;
  /** The patch subject, or a one-line title. */
  title: string;
  description?: string;
  /**
   * `series` (one of the twelve patches), `later` (a later upstream fix), `driver`, or `file`
   * (a user's plugin file).
   */
  source: "series" | "later" | "driver" | "file";
  /** For `source: "file"`, the absolute path it was loaded from. */
  file?: string;
  requires: string[];
  before: string[];
  after: string[];
  /** Names of the symbols it provides to other plugins. */
  provides: string[];
  /** Hook points it defines for later plugins. */
  defines: HookRef[];
  /** Hook points it taps (has a handler for). */
  hooks: HookRef[];
}

/**
 * The plugins in series order — the twelve patches, the later fixes, the driver plugins, then `extra`
 * (users' files) — described.
 */
export function describePlugins(extra: readonly Plugin[] = []): PluginInfo[] {
  const kinds = hookKinds(extra);
  const series = new Set(seriesIds()), later = new Set(laterIds()), drivers = new Set(driverIds());
  const ref = (name: string): HookRef => ({ name, kind: kinds.get(name) ?? "unknown" });
  return catalogPlugins(extra).map((p) => {
    const file = sourceOf(p);
    const source = file
      ? "file"
      : series.has(p.id)
      ? "series"
      : later.has(p.id)
      ? "later"
      : drivers.has(p.id)
      ? "driver"
      : "file";
    return {
      id: p.id,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      source,
      ...(file ? { file } : {}),
      requires: [...p.requires],
      before: [...p.before],
      after: [...p.after],
      provides: Object.keys(p.provides),
      defines: Object.entries(p.defines).map(([name, h]) => ({ name, kind: h.kind })),
      hooks: Object.keys(p.hooks).filter((n) => typeof p.hooks[n] === "function").map(ref),
    };
  });
}
