/**
 * The kernel model as plugins see it: the hook points and the types their handlers use.
 * Plugins import the kernel model's functions from runtime/kernel directly (the layer
 * below); this module gathers what the plugin runtime itself needs.
 *
 * @module
 */
export type { Kernel } from "../kernel/kernel.ts";
export { KernelPanic } from "../kernel/kernel.ts";
export type {
  CtxOf,
  HookCaller,
  HookKind,
  HookName,
  HookPoint,
  HookPoints,
  KernelCtx,
  NamesOfKind,
  ValueOf,
} from "../kernel/hooks.ts";
export { HOOK_POINTS, hookPoint } from "../kernel/hooks.ts";
