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
