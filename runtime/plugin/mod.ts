/**
 * The plugin runtime: the contract (definePlugin), series, and the hook runner that
 * implements the kernel's hook interface.
 *
 * @module
 */
export { definePlugin, isPlugin } from "./plugin.ts";
export type {
  Handler,
  HandlerFor,
  HookCtx,
  Hooks,
  Plugin,
  PluginCtx,
  PluginHookApi,
  PluginManifest,
  SymbolEnv,
  SymbolFactory,
} from "./plugin.ts";
export { type Missing, type Resolved, Series } from "./series.ts";
export {
  currentFrame,
  framed,
  type FrameSink,
  HookRunner,
  type HookRunnerOptions,
  isAttributed,
  setFrameSink,
  unwrapHookError,
} from "./runner.ts";
export { type Attribute, type Framed, KernelView } from "./kernel-view.ts";
export { deepFreeze } from "./freeze.ts";
export { ManifestError, MissingSymbolError, PluginError, SeriesError } from "./errors.ts";
export { HOOK_POINTS, hookPoint } from "./kernel-api.ts";
export type { HookKind, HookName, HookPoint } from "./kernel-api.ts";
