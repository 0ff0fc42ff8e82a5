/**
 * Plugin listings in a sandbox host: `plugins --plugin FILE` and `hooks --plugin FILE` load
 * users' files, and loading a module runs its code — so they are loaded in a sandbox host,
 * which answers with the descriptions as plain data.
 *
 * @module
 */
import { hookCatalog, type HookInfo } from "./hooks-info.ts";
import { InputError } from "./input.ts";
import { describePlugins, type PluginInfo } from "./plugin-info.ts";
import { builtinPlugins, checkHooks, loadPluginFile } from "./plugins.ts";
import { resolve } from "node:path";
import { DEFAULT_LIMITS, type SandboxLimits, SandboxWorker } from "./sandbox.ts";

/** A message to a describing host: the files to load. */
export type ToDescribe = { type: "init"; files: string[] };

/** Its answer: the plugin and hook listings with the files' plugins, or an error. */
export type FromDescribe =
  | { type: "described"; plugins: PluginInfo[]; hooks: HookInfo[] }
  | { type: "error"; input: boolean; message: string };

/** Loads the files, in order, and describes the plugins and hook points with them. */
export async function describeFiles(
  files: readonly string[],
): Promise<{ plugins: PluginInfo[]; hooks: HookInfo[] }> {
  const extra = [];
  for (const f of files) extra.push(await loadPluginFile(f));
  checkHooks(extra, builtinPlugins());
  return { plugins: describePlugins(extra), hooks: hookCatalog(extra) };
}

/** The message handler of a describing host. */
export function serveDescribe(
  post: (m: FromDescribe) => void,
): (msg: ToDescribe) => Promise<void> {
  return async (msg) => {
    try {
      post({ type: "described", ...await describeFiles(msg.files) });
    } catch (err) {
      post({
        type: "error",
        input: err instanceof InputError,
        message: err instanceof Error ? err.message : String(err),
      });
    }
  };
}

/**
 * The plugin and hook listings with users' files, loaded in a sandbox host (loading a module
 * runs its code); without files, in this process.
 *
 * @throws {InputError} for a file that does not load or is refused, or that breaks a limit
 *   while loading
 */
export async function describeSandboxed(
  files: readonly string[],
  limits: SandboxLimits = DEFAULT_LIMITS,
): Promise<{ plugins: PluginInfo[]; hooks: HookInfo[] }> {
  if (files.length === 0) return describeFiles([]);
  const absolute = files.map((f) => resolve(Deno.cwd(), f));
  const host = new SandboxWorker("describe", { files: absolute, limits });
  try {
    return await new Promise((done, fail) => {
      host.onmessage = (e: MessageEvent) => {
        const m = e.data as FromDescribe | { type: "fault"; fault: { message: string } };
        if (m.type === "described") done({ plugins: m.plugins, hooks: m.hooks });
        else if (m.type === "fault") fail(new InputError(m.fault.message));
        else fail(m.input ? new InputError(m.message) : new Error(m.message));
      };
      const msg: ToDescribe = { type: "init", files: [...files] };
      host.postMessage(msg);
    });
  } finally {
    host.terminate();
  }
}
