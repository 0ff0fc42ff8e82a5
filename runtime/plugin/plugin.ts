/**
 * The plugin contract: `definePlugin({...})` makes a plugin from a manifest (id, title — the
 * patch subject —, dependencies, ordering hints, provided symbols, hook points it defines,
 * and handlers for hook points). The manifest is validated with zod; a bad one is refused
 * with a message naming the plugin and the field.
 *
 * Handler signatures by hook kind:
 * - run-all:   `(ctx) => void`
 * - bail:      `(ctx) => value | undefined`
 * - waterfall: `(value, ctx) => value`
 * - wrap:      `(ctx, next) => value` — `next()` runs what is inside: the wrappers of
 *              earlier plugins, then the kernel's default; not calling it replaces them.
 *
 * Every handler's `ctx` carries the kernel (`ctx.k`), the plugin's own per-kernel state
 * (`ctx.state`), `ctx.symbol(name)` for symbols other plugins provide (a missing one throws,
 * like a patch that would not link), and `ctx.hooks` to call hook points plugins define.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import type {
  CtxOf,
  HookKind,
  HookName,
  HookPoint,
  HookPoints,
  Kernel,
  KernelCtx,
  ValueOf,
} from "./kernel-api.ts";
import { ManifestError } from "./errors.ts";

/**
 * What every handler gets besides the hook point's own context. A context is the handler's
 * for the duration of its call: one passed again by its caller (a loop over entries) may be
 * handed to the handler again, reading the caller's current fields, so keep what is needed
 * later, not the context.
 */
export interface PluginCtx<S = unknown> {
  /** The kernel this plugin instance runs in. */
  k: Kernel;
  /** The id of the plugin whose handler runs. */
  plugin: string;
  /** This plugin's state in this kernel: what its `state()` factory made (undefined without one). */
  state: S;
  /** A symbol another plugin provides; throws if no applied plugin provides it. */
  // deno-lint-ignore no-explicit-any
  symbol<F = (...args: any[]) => any>(name: string): F;
  /** Calls hook points that plugins define (and the kernel's, by name). */
  hooks: PluginHookApi;
}

/** A context passed to a hook point from plugin code: it carries the kernel, `k`. */
export type HookCtx = KernelCtx & { [field: string]: unknown };

/** Calling hook points by name from plugin code. */
export interface PluginHookApi {
  /** Runs every handler of run-all point `name`, in series order. */
  runAll(name: string, ctx: HookCtx): void;
  /** Runs bail point `name`'s handlers until one answers: that answer, or undefined. */
  bail<V>(name: string, ctx: HookCtx): V | undefined;
  /** Passes `value` through waterfall point `name`'s handlers in order: the last one's value. */
  waterfall<V>(name: string, value: V, ctx: HookCtx): V;
  /** Runs `def` (the default action) inside wrap point `name`'s handlers (the last outermost). */
  wrap<V>(name: string, ctx: HookCtx, def: () => V): V;
  /**
   * True if an applied plugin has a handler for hook point `name`, so a loop may skip calling
   * a point nobody taps (the call would do nothing). Throws for a point nobody declares.
   */
  has(name: string): boolean;
}

/** A handler for a hook point of kind `K` with context `C` and value `V`. */
export type Handler<K extends HookKind, C, V, S> = K extends "run-all"
  ? (ctx: C & PluginCtx<S>) => void
  : K extends "bail" ? (ctx: C & PluginCtx<S>) => V | undefined
  : K extends "waterfall" ? (value: V, ctx: C & PluginCtx<S>) => V
  : (ctx: C & PluginCtx<S>, next: () => V) => V;

/** The handler type for a declared hook point. */
export type HandlerFor<P, S> = P extends HookPoint<infer K, unknown, unknown>
  ? Handler<K, CtxOf<P>, ValueOf<P>, S>
  : never;

/** A handler of a hook point that plugins define (its types are the plugin's business). */
// deno-lint-ignore no-explicit-any
export type AnyHandler = (...args: any[]) => any;

/** Handlers by hook point: typed for the kernel's points, untyped for plugin-defined ones. */
export type Hooks<S> =
  & { [N in HookName]?: HandlerFor<HookPoints[N], S> }
  & { [name: string]: AnyHandler | undefined };

/** What a provided symbol's factory gets: the kernel, the provider's state, and the API. */
export interface SymbolEnv<S> {
  /** The kernel the symbol is made for. */
  k: Kernel;
  /** The providing plugin's state in that kernel. */
  state: S;
  /** A symbol another plugin provides; throws if no applied plugin provides it. */
  // deno-lint-ignore no-explicit-any
  symbol<F = (...args: any[]) => any>(name: string): F;
  /** Calls hook points that plugins define (and the kernel's, by name). */
  hooks: PluginHookApi;
}

/** A symbol a plugin provides: made per kernel from the providing plugin's state. */
// deno-lint-ignore no-explicit-any
export type SymbolFactory<S> = (env: SymbolEnv<S>) => (...args: any[]) => any;

/** What a plugin file declares. */
export interface PluginManifest<S = unknown> {
  /** Kebab-case id, e.g. `copy-dev-tables`. */
  id: string;
  /** The patch subject (or a one-line title for driver/user plugins). */
  title: string;
  /** One paragraph: what it changes. */
  description?: string;
  /** Plugins that must be applied too (a patch that would not build without them). */
  requires?: string[];
  /** Symbols (functions) this plugin provides to others, by name. */
  provides?: Record<string, SymbolFactory<S>>;
  /** Run before these plugins at every hook point they share. */
  before?: string[];
  /** Run after these plugins at every hook point they share. */
  after?: string[];
  /** New hook points this plugin defines for later plugins. */
  defines?: Record<string, HookPoint>;
  /** Handlers by hook point name. */
  hooks?: Hooks<S>;
  /** Per-kernel state factory (called once per kernel the plugin runs in). */
  state?: () => S;
}

/**
 * A validated plugin. `Plugin` without an argument is any plugin, whatever its state type, so
 * `new Series([myPlugin])` and `series.replace(id, myPlugin)` need no cast.
 */
// deno-lint-ignore no-explicit-any
export interface Plugin<S = any> extends PluginManifest<S> {
  /** Plugins that must be applied too (empty when the manifest names none). */
  readonly requires: string[];
  /** Run before these plugins at every hook point they share (possibly empty). */
  readonly before: string[];
  /** Run after these plugins at every hook point they share (possibly empty). */
  readonly after: string[];
  /** Symbols this plugin provides, by name (possibly none). */
  readonly provides: Record<string, SymbolFactory<S>>;
  /** Hook points this plugin defines, by name (possibly none). */
  readonly defines: Record<string, HookPoint>;
  /** Handlers by hook point name (possibly none). */
  readonly hooks: Hooks<S>;
  /** Marks values made by definePlugin. */
  readonly kind: "kdump-lab-plugin";
}

const ID = z.string().regex(
  /^[a-z0-9][a-z0-9-]*$/,
  "must be kebab-case: lower-case letters, digits, dashes",
);
const fn = z.custom<AnyHandler>((v) => typeof v === "function", "must be a function");
const hookPointSchema = z.object({
  kind: z.enum(["run-all", "bail", "waterfall", "wrap"]),
  doc: z.string().min(1),
  default413: z.string(),
  /** A zod schema of the values handlers return (checked by the runtime), optional. */
  value: z.custom(
    (v) => typeof (v as { safeParse?: unknown })?.safeParse === "function",
    "must be a zod schema",
  ).optional(),
});

/** The manifest schema (functions are checked for being functions). */
const ManifestSchema = z.object({
  id: ID,
  title: z.string().min(1, "must not be empty"),
  description: z.string().optional(),
  requires: z.array(ID).default([]),
  provides: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a C identifier"), fn)
    .default({}),
  before: z.array(ID).default([]),
  after: z.array(ID).default([]),
  defines: z.record(
    z.string().regex(
      /^[a-z0-9_]+(\.[a-z0-9_]+)+$/,
      "must be dotted, like amd_iommu.copy_device_table.entry",
    ),
    hookPointSchema,
  ).default({}),
  hooks: z.record(z.string().min(1), fn).default({}),
  state: fn.optional(),
}).strict();

/**
 * Makes a plugin from its manifest. Throws a {@link ManifestError} naming the plugin and
 * the field when the manifest is invalid.
 */
export function definePlugin<S = undefined>(manifest: PluginManifest<S>): Plugin<S> {
  const parsed = ManifestSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const id = typeof (manifest as { id?: unknown })?.id === "string"
      ? (manifest as { id: string }).id
      : "<no id>";
    const path = issue.path.map(String);
    // An unknown key is the field at fault; a bad record key carries its reason one level down.
    if (issue.code === "unrecognized_keys") path.push(issue.keys.join(", "));
    const problem = issue.code === "invalid_key" && issue.issues[0]
      ? issue.issues[0].message
      : issue.message;
    throw new ManifestError(id, path.length ? path.join(".") : "(manifest)", problem);
  }
  const m = parsed.data;
  for (const field of ["requires", "before", "after"] as const) {
    if (m[field].includes(m.id)) {
      throw new ManifestError(m.id, field, "a plugin cannot refer to itself");
    }
  }
  return {
    ...manifest,
    requires: m.requires,
    before: m.before,
    after: m.after,
    provides: (manifest.provides ?? {}) as Record<string, SymbolFactory<S>>,
    defines: (manifest.defines ?? {}) as Record<string, HookPoint>,
    hooks: (manifest.hooks ?? {}) as Hooks<S>,
    kind: "kdump-lab-plugin",
  };
}

/**
 * True for values made by {@link definePlugin}, recognised by shape (kind marker, string id,
 * hooks object) rather than identity: a plugin file may import the runtime by another URL.
 */
export function isPlugin(v: unknown): v is Plugin {
  const p = v as Partial<Plugin> | null;
  return typeof p === "object" && p !== null && p.kind === "kdump-lab-plugin" &&
    typeof p.id === "string" && typeof p.hooks === "object" && p.hooks !== null;
}
