/**
 * The plugins the lab knows by id — the twelve patches of the series, upstream's later fixes
 * and the driver plugins — users' plugin files, and series as users describe them: a spec
 * (`all`, `later`, `none`, or a comma list of ids in which `all` stands for the whole series
 * and `later` for the later fixes, `all,later,bnx2-no-kdump-wait`) and edits on top of it
 * (replace, add, order, disable). Every mistake is an {@link InputError}
 * with a one-line message.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DRIVER_PLUGINS } from "../../plugins/drivers/mod.ts";
import { LATER } from "../../plugins/later/mod.ts";
import { SERIES } from "../../plugins/series/mod.ts";
import { framed, HOOK_POINTS, isPlugin, type Plugin, Series, SeriesError } from "../plugin/mod.ts";
import { InputError } from "./input.ts";

/** The built-in plugin objects (frozen), for telling them from users' plugins. */
const BUILTIN: ReadonlySet<Plugin> = new Set([
  ...SERIES,
  ...LATER,
  ...Object.values(DRIVER_PLUGINS),
]);

/**
 * True for the lab's own plugins — the very objects, not a user's plugin with the same id.
 * Users' plugins see the kernel through the API view (see runtime/plugin/kernel-view.ts).
 */
export function isBuiltinPlugin(p: Plugin): boolean {
  return BUILTIN.has(p);
}

/** Every built-in plugin by id: the series, the later fixes, then the driver plugins. */
export function builtinPlugins(): Map<string, Plugin> {
  return new Map([...BUILTIN].map((p) => [p.id, p]));
}

/** The titles of the built-in plugins (patch subjects, driver plugins' titles), by id. */
export function pluginTitles(): Map<string, string> {
  return new Map([...builtinPlugins()].map(([id, p]) => [id, p.title]));
}

/** Ids of the series, in order. */
export function seriesIds(): string[] {
  return SERIES.map((p) => p.id);
}

/** Ids of upstream's later fixes, in upstream order. */
export function laterIds(): string[] {
  return LATER.map((p) => p.id);
}

/**
 * Ids of every patch — the series, then the later fixes — in upstream order: the commits a
 * search steps through and a matrix toggles.
 */
export function patchIds(): string[] {
  return [...seriesIds(), ...laterIds()];
}

/** Ids of the driver plugins, in registry order. */
export function driverIds(): string[] {
  return Object.values(DRIVER_PLUGINS).map((p) => p.id);
}

/**
 * The built-ins plus `extra` (users' plugins) by id; an extra id may not shadow a built-in, and
 * an extra plugin may tap only hook points that exist: the kernel's, or one a built-in or
 * another of the extra plugins defines.
 */
function knownPlugins(extra: readonly Plugin[]): Map<string, Plugin> {
  const known = builtinPlugins();
  checkHooks(extra, known);
  for (const p of extra) {
    if (known.has(p.id)) {
      const what = sourceOf(p) ? `plugin file ${sourceOf(p)}` : "an added plugin";
      throw new InputError(
        `${what}: id "${p.id}" is already taken (by a built-in or another file); ` +
          "replace that plugin instead, or rename this one",
      );
    }
    known.set(p.id, p);
  }
  return known;
}

/**
 * Refuses users' plugins that tap a hook point no one declares, the way a bad manifest is
 * refused: `plugin file F: plugin ID: field hooks["x.y"]: no hook point x.y (…)`.
 *
 * @throws {InputError} for the first such handler
 */
export function checkHooks(extra: readonly Plugin[], builtins: Map<string, Plugin>): void {
  const declared = new Set<string>(Object.keys(HOOK_POINTS));
  for (const p of [...builtins.values(), ...extra]) {
    for (const name of Object.keys(p.defines)) declared.add(name);
  }
  for (const p of extra) {
    for (const name of Object.keys(p.hooks)) {
      if (declared.has(name)) continue;
      const where = sourceOf(p) ? `plugin file ${sourceOf(p)}: ` : "";
      throw new InputError(
        `${where}plugin ${p.id}: field hooks[${JSON.stringify(name)}]: no hook point ${name} ` +
          "(neither the kernel nor any plugin declares it; `kdump-lab hooks` lists them)",
      );
    }
  }
}

function unknownId(id: string, known: Map<string, Plugin>): InputError {
  return new InputError(`unknown plugin "${id}" (known: ${[...known.keys()].join(", ")})`);
}

/**
 * Builds a series from a spec: `all` (the twelve patches), `later` (the later fixes), `none`,
 * or a comma list of plugin ids where `all` and `later` expand in place. Unknown ids are input errors. `extra` plugins (a user's
 * files) can be named in the list too.
 *
 * @throws {InputError} for an unknown or repeated id
 */
export function seriesFromSpec(spec: string, extra: readonly Plugin[] = []): Series {
  const known = knownPlugins(extra);
  const ids: string[] = [];
  for (const raw of spec.split(",").map((x) => x.trim()).filter(Boolean)) {
    if (raw === "none") continue;
    if (raw === "all") ids.push(...seriesIds().filter((id) => !ids.includes(id)));
    else if (raw === "later") ids.push(...laterIds().filter((id) => !ids.includes(id)));
    else if (!known.has(raw)) throw unknownId(raw, known);
    else if (ids.includes(raw)) throw new InputError(`plugin "${raw}" named twice`);
    else ids.push(raw);
  }
  return new Series(ids.map((id) => known.get(id)!));
}

/** A plugin to add to a series: at the end, or just before or after a plugin already in it. */
export interface PluginPlacement {
  plugin: Plugin;
  before?: string;
  after?: string;
}

/** A series as a user describes it: a spec, then edits applied in the order listed here. */
export interface SeriesRequest {
  /** `all`, `none` (the default: the 4.13 baseline) or a comma list (see {@link seriesFromSpec}). */
  spec?: string;
  /** 1. Plugins that take the place (and enabled state) of the plugin with id `id`. */
  replace?: readonly { id: string; plugin: Plugin }[];
  /**
   * 2. Users' plugins to add. One the spec already names keeps that place unless its
   * `before`/`after` moves it; the others go where `before`/`after` says, else at the end.
   */
  add?: readonly PluginPlacement[];
  /** 3. These ids first, in this order; the rest after, in their order. */
  order?: readonly string[];
  /** 4. Ids to disable (they stay in the list but do not run). */
  disable?: readonly string[];
}

/** The ids of a series for messages: `a, b, c` or `none`. */
function listed(series: Series): string {
  return series.ids().join(", ") || "none";
}

/** Checks that `id` names a plugin of the series; `what` says what was being done. */
function inSeries(series: Series, id: string, known: Map<string, Plugin>, what: string): string {
  if (series.has(id)) return id;
  if (!known.has(id)) {
    throw new InputError(
      `cannot ${what} "${id}": unknown plugin (known: ${[...known.keys()].join(", ")})`,
    );
  }
  throw new InputError(
    `cannot ${what} "${id}": it is not in the series (series: ${listed(series)})`,
  );
}

/** Runs a Series edit, turning its SeriesError into an InputError. */
function edit(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof SeriesError) throw new InputError(e.message);
    throw e;
  }
}

/**
 * Builds the series a user asked for: {@link seriesFromSpec}, then replace, add, order and
 * disable (in that order). The result resolves (no ordering cycle among before/after hints);
 * unmet dependencies are left for the run to report.
 *
 * @throws {InputError} for an unknown id, an id that is not in the series where it must be,
 *   a plugin added twice, or contradicting before/after hints
 */
export function buildSeries(req: SeriesRequest): Series {
  const added = (req.add ?? []).map((a) => a.plugin);
  const replacing = (req.replace ?? []).map((r) => r.plugin);
  checkHooks([...replacing, ...added], builtinPlugins());
  const known = knownPlugins(added);
  const series = seriesFromSpec(req.spec ?? "none", added);
  for (const r of req.replace ?? []) {
    inSeries(series, r.id, known, "replace");
    edit(() => series.replace(r.id, r.plugin));
  }
  for (const a of req.add ?? []) {
    const anchor = a.before ?? a.after;
    if (a.before !== undefined && a.after !== undefined) {
      throw new InputError(`plugin "${a.plugin.id}": give before or after, not both`);
    }
    if (anchor !== undefined) inSeries(series, anchor, known, `place "${a.plugin.id}" next to`);
    const where = { before: a.before, after: a.after };
    if (series.has(a.plugin.id)) {
      if (anchor !== undefined) edit(() => series.move(a.plugin.id, where));
    } else edit(() => series.insert(a.plugin, where));
  }
  const all = new Map([...known, ...replacing.map((p) => [p.id, p] as const)]);
  const seen = new Set<string>();
  for (const id of req.order ?? []) {
    if (seen.has(id)) throw new InputError(`cannot order by "${id}": named twice`);
    seen.add(id);
    inSeries(series, id, all, "order by");
  }
  if (req.order?.length) edit(() => series.order(req.order!));
  for (const id of req.disable ?? []) {
    inSeries(series, id, all, "disable");
    series.disable(id);
  }
  edit(() => series.resolve());
  return series;
}

/** Where each plugin loaded from a file came from (absolute path). */
const SOURCES = new WeakMap<Plugin, string>();

/** The file a plugin was loaded from by {@link loadPluginFile}, or undefined for others. */
export function sourceOf(plugin: Plugin): string | undefined {
  return SOURCES.get(plugin);
}

/** The message of a thrown value, first line only. */
function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n").map((l) => l.trim()).find(Boolean) ?? "unknown error";
}

/** A ManifestError, recognised by shape (the file may import the runtime by another URL). */
function asManifestError(e: unknown): { plugin: string; field: string; problem: string } | null {
  if (!(e instanceof Error) || e.name !== "ManifestError") return null;
  const m = e as Error & { plugin?: unknown; field?: unknown; problem?: unknown };
  return typeof m.plugin === "string" && typeof m.field === "string" &&
      typeof m.problem === "string"
    ? { plugin: m.plugin, field: m.field, problem: m.problem }
    : null;
}

/**
 * Loads a user's plugin file: a TypeScript (or JavaScript) module whose default export is a
 * `definePlugin({...})` value. It is imported from its absolute file URL, so relative paths
 * are taken from the current directory.
 *
 * @throws {InputError} one line naming the file when it does not exist, does not load, has
 *   no default export, exports something other than a plugin, or its manifest is refused
 *   (then the message also names the plugin and the field)
 */
export async function loadPluginFile(path: string): Promise<Plugin> {
  const name = `plugin file ${path}`;
  const absolute = isAbsolute(path) ? path : resolve(Deno.cwd(), path);
  try {
    const info = await Deno.stat(absolute);
    if (!info.isFile) throw new InputError(`${name}: not a file`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${name}: not found`);
    throw new InputError(`${name}: cannot read it: ${firstLine(e)}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await framed(
      `file ${absolute}`,
      "module load",
      () => import(pathToFileURL(absolute).href),
    );
  } catch (e) {
    const bad = asManifestError(e);
    if (bad) {
      throw new InputError(`${name}: plugin ${bad.plugin}: field ${bad.field}: ${bad.problem}`);
    }
    throw new InputError(`${name}: cannot load it: ${firstLine(e)}`);
  }
  if (!("default" in mod) || mod.default === undefined) {
    throw new InputError(`${name}: no default export (expected export default definePlugin({…}))`);
  }
  const plugin = mod.default;
  if (!isPlugin(plugin)) {
    throw new InputError(
      `${name}: the default export is not a plugin (make it with definePlugin({…}))`,
    );
  }
  SOURCES.set(plugin, absolute);
  return plugin;
}

/**
 * A series' ids in short: the twelve patches in order as `all`, the rest listed after it
 * (`all,bnx2-no-kdump-wait`); no plugin at all is `none`.
 */
export function seriesLabel(ids: readonly string[]): string {
  if (!ids.length) return "none";
  const patches = seriesIds();
  const start = ids.indexOf(patches[0]);
  const whole = start >= 0 && patches.every((id, i) => ids[start + i] === id);
  if (!whole) return ids.join(",");
  return [...ids.slice(0, start), "all", ...ids.slice(start + patches.length)].join(",");
}
