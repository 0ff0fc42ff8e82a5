/**
 * `kdump-lab plugins`: the plugins the lab knows, in groups — the twelve patches, upstream's
 * later fixes, the driver plugins, then any `--plugin` files — with title, dependencies, the hook points each
 * defines and the ones it taps (with their kinds). `--json` prints the list as objects.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { ansis } from "../colors.ts";
import type { HookRef, PluginInfo } from "../../lab/plugin-info.ts";
import { print } from "../io.ts";
import { listPluginOption } from "../series-options.ts";
import { describeSandboxed } from "../../lab/sandbox-describe.ts";
import { limitsFromOptions, sandboxOptions } from "../sandbox-options.ts";

const LABEL = 10;

/** The groups `plugins` lists, in order, with their headings. */
const GROUPS: readonly [PluginInfo["source"], string][] = [
  ["series", 'The series (Linux 4.14, "Fix kdump faults"): --series all'],
  ["later", "Upstream's later kdump fixes, in upstream order: --series later"],
  ["driver", "Driver plugins"],
  ["file", "Plugin files"],
];
const none = ansis.dim("—");
const refs = (list: readonly HookRef[]) =>
  list.length ? list.map((h) => `${h.name} ${ansis.dim(`(${h.kind})`)}`).join(", ") : none;

/** One plugin as a block of lines: heading, title, then labelled fields. */
function renderPlugin(p: PluginInfo, index: number): string[] {
  const row = (label: string, value: string) => `  ${ansis.dim(label.padEnd(LABEL))}${value}`;
  const where = p.source === "file" ? `file ${p.file}` : p.source;
  const out = [
    `${ansis.dim(String(index + 1).padStart(2))} ${ansis.bold.cyan(p.id)}  ${ansis.dim(where)}`,
    `   ${p.title}`,
    row("requires", p.requires.length ? p.requires.join(", ") : none),
  ];
  if (p.before.length) out.push(row("before", p.before.join(", ")));
  if (p.after.length) out.push(row("after", p.after.join(", ")));
  if (p.provides.length) out.push(row("provides", p.provides.join(", ")));
  if (p.defines.length) out.push(row("defines", refs(p.defines)));
  out.push(row("taps", refs(p.hooks)));
  return out;
}

/** Registers the `plugins` command on `program`. */
export function registerPlugins(program: CommandUnknownOpts): void {
  const sandbox = sandboxOptions();
  program
    .command("plugins")
    .description(
      "list the plugins (the 12 patches, the later upstream fixes, driver plugins, --plugin files) " +
        "with their dependencies and hook points",
    )
    .addOption(listPluginOption())
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .option(
      "--json",
      "print [{ id, title, source, requires, before, after, provides, defines, hooks }]",
    )
    .action(async (opts) => {
      // Users' files load in a sandbox host: loading a module runs its code.
      const list = (await describeSandboxed(opts.plugin, limitsFromOptions(opts))).plugins;
      if (opts.json) return print(JSON.stringify(list, null, 2));
      // The groups apart, each under a heading: the series, the later fixes, drivers, files.
      const out: string[] = [];
      for (const [source, heading] of GROUPS) {
        const mine = list.filter((p) => p.source === source);
        if (!mine.length) continue;
        if (out.length) out.push("");
        out.push(ansis.bold(heading));
        for (const p of mine) out.push("", ...renderPlugin(p, list.indexOf(p)));
      }
      print(...out);
    });
}
