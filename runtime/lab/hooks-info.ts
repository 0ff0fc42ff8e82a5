/**
 * The catalogue of hook points for `kdump-lab hooks`: the kernel's (HOOK_POINTS) and the ones
 * plugins define (`defines`), each with its kind, documentation, 4.13 default, who defines it
 * and which plugins tap it.
 *
 * @module
 */
import { HOOK_POINTS, type HookKind, type HookPoint, type Plugin } from "../plugin/mod.ts";
import { builtinPlugins } from "./plugins.ts";

/** Who defines a hook point: the kernel model, or a plugin by id. */
export const KERNEL = "kernel";

/** One hook point as `kdump-lab hooks` shows it. */
export interface HookInfo {
  /** Dotted name, after the kernel function it models: `amd_iommu.early_enable_iommus`. */
  name: string;
  kind: HookKind;
  /** What the point is. */
  doc: string;
  /** What v4.13 does there (the default when nobody taps it). */
  default413: string;
  /**
   * The context's fields, `k` (the kernel) first, as the hook point declares them; only `k`
   * when a plugin-defined point does not describe its context.
   */
  context: { name: string; type: string; doc: string }[];
  /** `kernel`, or the id of the plugin that defines the point. */
  definedBy: string;
  /** Ids of the plugins that tap it, in series order. */
  tappedBy: string[];
}

/** The kernel, in every context. */
const K_FIELD = { name: "k", type: "Kernel", doc: "the kernel whose code is running" };

/** A hook point's context fields, `k` first. */
function contextOf(p: HookPoint): HookInfo["context"] {
  return [K_FIELD, ...Object.entries(p.fields ?? {}).map(([name, f]) => ({ name, ...f }))];
}

/** The plugins a catalogue covers: the built-ins in series order, then `extra`. */
export function catalogPlugins(extra: readonly Plugin[] = []): Plugin[] {
  const builtins = builtinPlugins();
  return [...builtins.values(), ...extra.filter((p) => builtins.get(p.id) !== p)];
}

/**
 * Every hook point: the kernel's in declaration order, then those the plugins define, in
 * plugin order. `extra` plugins (users' files) are included after the built-ins.
 */
export function hookCatalog(extra: readonly Plugin[] = []): HookInfo[] {
  const plugins = catalogPlugins(extra);
  const tappers = (name: string) =>
    plugins.filter((p) => typeof p.hooks[name] === "function").map((p) => p.id);
  const out: HookInfo[] = Object.entries(HOOK_POINTS).map(([name, p]) => ({
    name,
    kind: p.kind,
    doc: p.doc,
    default413: p.default413,
    context: contextOf(p),
    definedBy: KERNEL,
    tappedBy: tappers(name),
  }));
  const seen = new Set(out.map((h) => h.name));
  for (const pl of plugins) {
    for (const [name, p] of Object.entries(pl.defines)) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({
        name,
        kind: p.kind,
        doc: p.doc,
        default413: p.default413,
        context: contextOf(p),
        definedBy: pl.id,
        tappedBy: tappers(name),
      });
    }
  }
  return out;
}

/** Kind of each hook point in the catalogue, by name. */
export function hookKinds(extra: readonly Plugin[] = []): Map<string, HookKind> {
  return new Map(hookCatalog(extra).map((h) => [h.name, h.kind]));
}
