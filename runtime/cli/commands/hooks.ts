/**
 * `kdump-lab hooks`: every hook point — the kernel model's and those plugins define — with
 * its kind, what it is, what v4.13 does there, its context's fields and their types, and
 * which plugins tap it. `--json` prints the
 * list as objects.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { ansis } from "../colors.ts";
import { type HookInfo, KERNEL } from "../../lab/hooks-info.ts";
import { print } from "../io.ts";
import { listPluginOption } from "../series-options.ts";
import { describeSandboxed } from "../../lab/sandbox-describe.ts";
import { limitsFromOptions, sandboxOptions } from "../sandbox-options.ts";
import { wrapIndented } from "../text.ts";

const WIDTH = 100;
const LABEL = 12;

/** One hook point as a block of lines: name, kind, origin, then doc, default and tappers. */
function renderHook(h: HookInfo, width = WIDTH): string[] {
  const origin = h.definedBy === KERNEL ? "kernel" : `defined by ${h.definedBy}`;
  const field = (label: string, text: string) =>
    wrapIndented(text, width, 2 + LABEL).map((l, i) =>
      i === 0 ? `  ${ansis.dim(label.padEnd(LABEL))}${l.slice(2 + LABEL)}` : l
    );
  return [
    `${ansis.bold.cyan(h.name)}  ${ansis.yellow(h.kind)}  ${ansis.dim(origin)}`,
    ...field("what", h.doc),
    ...field("4.13", h.default413),
    ...h.context.flatMap((c, i) =>
      field(i === 0 ? "context" : "", `${c.name}: ${c.type} — ${c.doc}`)
    ),
    ...field("tapped by", h.tappedBy.length ? h.tappedBy.join(", ") : "—"),
  ];
}

/** Registers the `hooks` command on `program`. */
export function registerHooks(program: CommandUnknownOpts): void {
  const sandbox = sandboxOptions();
  program
    .command("hooks")
    .description(
      "list every hook point (the kernel's and the plugin-defined ones) with its kind, " +
        "documentation, 4.13 default and the plugins that tap it",
    )
    .addOption(listPluginOption())
    .addOption(sandbox[0])
    .addOption(sandbox[1])
    .addOption(sandbox[2])
    .option("--json", "print [{ name, kind, doc, default413, context, definedBy, tappedBy }]")
    .action(async (opts) => {
      // Users' files load in a sandbox host: loading a module runs its code.
      const list = (await describeSandboxed(opts.plugin, limitsFromOptions(opts))).hooks;
      if (opts.json) return print(JSON.stringify(list, null, 2));
      print(...list.flatMap((h, i) => [...(i ? [""] : []), ...renderHook(h)]));
    });
}
