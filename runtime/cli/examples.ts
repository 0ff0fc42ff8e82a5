/**
 * Examples for every command's `--help`, by command path: real command lines (each one is
 * checked by tests/cli/help.test.ts against the command's options). Commands whose help
 * text carries its own examples (`run`, `matrix`, `decode …`) are not listed here.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";

/** Example command lines by command path (`bisect`, `matrix merge`, `schema report`). */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  "demo": [
    "kdump-lab demo",
    "kdump-lab demo --scenario two-iommus-one-off --html demo.html",
    "kdump-lab demo --seeds 1000 --seed 7",
  ],
  "scenarios": ["kdump-lab scenarios", "kdump-lab scenarios --json"],
  "plugins": ["kdump-lab plugins", "kdump-lab plugins --plugin ./examples/old-domain-ids.ts"],
  "hooks": [
    "kdump-lab hooks",
    "kdump-lab hooks --json",
    "kdump-lab hooks --plugin ./examples/old-domain-ids.ts",
  ],
  "table": [
    "kdump-lab table",
    "kdump-lab table --markdown",
    "kdump-lab table --json --seed 7",
    "kdump-lab table --seeds 100 --update-readme README.md",
  ],
  "matrix merge": [
    "kdump-lab matrix merge a.jsonl b.jsonl --out matrix.jsonl",
    "kdump-lab matrix merge a.jsonl b.jsonl --json",
  ],
  "schema": ["kdump-lab schema report", "kdump-lab schema scenario > scenario.schema.json"],
  "schema report": ["kdump-lab schema report"],
  "schema scenario": ["kdump-lab schema scenario > scenario.schema.json"],
  "completions": [
    "kdump-lab completions bash > ~/.local/share/bash-completion/completions/kdump-lab",
    "kdump-lab completions fish --json",
  ],
  "bisect": [
    "kdump-lab bisect",
    "kdump-lab bisect --log bisect.log",
    "kdump-lab bisect --seeds 100 --judge 'clean>=99%'",
    "kdump-lab bisect replay bisect.log",
    "kdump-lab bisect --term-old slow --term-new quick --run ./pred.ts",
    "kdump-lab bisect --scenario no-dma-api-driver --json --quiet",
  ],
  "minimize": [
    "kdump-lab minimize",
    "kdump-lab minimize --json --verbose",
    "kdump-lab minimize --seeds 50 --judge dump-ok+no-fault",
    "kdump-lab minimize --scenario two-iommus-one-off --run ./pred.ts",
  ],
  "ablate": [
    "kdump-lab ablate",
    "kdump-lab ablate --scenario torn-devtab-write --html ablate.html",
    "kdump-lab ablate --json --quiet",
    "kdump-lab ablate --seeds 100 --scenario two-iommus-one-off",
  ],
};

/** `Examples:` and the lines, as commander prints help text after the options. */
export function examplesText(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}`;
}

/** The path of a command below the program: `matrix merge`. */
function pathOf(cmd: CommandUnknownOpts): string {
  const names: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Adds the examples of {@link EXAMPLES} to the help of every command of `program` listed there. */
export function addExamples(program: CommandUnknownOpts): void {
  const visit = (cmd: CommandUnknownOpts) => {
    const lines = EXAMPLES[pathOf(cmd)];
    if (lines) cmd.addHelpText("after", examplesText(lines));
    for (const sub of cmd.commands as CommandUnknownOpts[]) visit(sub);
  };
  for (const sub of program.commands as CommandUnknownOpts[]) visit(sub);
}
