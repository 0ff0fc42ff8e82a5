/**
 * The plugins the lab knows by id — the twelve patches of the series and the driver
 * plugins — and series specs as users write them: `all`, `none`, or a comma list of ids in
 * which `all` stands for the whole series (`all,bnx2-reset`).
 *
 * @module
 */
import { DRIVER_PLUGINS } from "../../plugins/drivers/mod.ts";
import { SERIES } from "../../plugins/series/mod.ts";
import { type Plugin, Series } from "../plugin/mod.ts";
import { InputError } from "./input.ts";

/** Every built-in plugin by id, series first. */
export function builtinPlugins(): Map<string, Plugin> {
  return new Map([...SERIES, ...Object.values(DRIVER_PLUGINS)].map((p) => [p.id, p]));
}

/** Ids of the series, in order. */
export function seriesIds(): string[] {
  return SERIES.map((p) => p.id);
}

/**
 * Builds a series from a spec: `all` (the twelve patches), `none`, or a comma list of plugin
 * ids where `all` expands in place. Unknown ids are input errors. `extra` plugins (a user's
 * files) can be named in the list too.
 */
export function seriesFromSpec(spec: string, extra: readonly Plugin[] = []): Series {
  const known = builtinPlugins();
  for (const p of extra) known.set(p.id, p);
  const ids: string[] = [];
  for (const raw of spec.split(",").map((x) => x.trim()).filter(Boolean)) {
    if (raw === "none") continue;
    if (raw === "all") ids.push(...seriesIds().filter((id) => !ids.includes(id)));
    else if (!known.has(raw)) {
      throw new InputError(`unknown plugin "${raw}" (known: ${[...known.keys()].join(", ")})`);
    } else if (ids.includes(raw)) throw new InputError(`plugin "${raw}" named twice`);
    else ids.push(raw);
  }
  return new Series(ids.map((id) => known.get(id)!));
}
