/**
 * Every command's `--help` ends with examples, and each example is a command line the program
 * accepts: its command path exists and every `--option` it uses is one of that command's.
 * The long commands have both `--quiet` and `--verbose`, and every command that builds a
 * series takes the same series options.
 */
import assert from "node:assert/strict";
import { createProgram } from "../../runtime/cli/main.ts";

/** What these tests read of a commander command (plain types keep type checking fast). */
interface Cmd {
  name(): string;
  readonly commands: readonly Cmd[];
  readonly options: readonly { long?: string; short?: string }[];
  configureOutput(o: { writeOut(s: string): void; writeErr(s: string): void }): unknown;
  outputHelp(): void;
}

/** Every command below the program, with its path (`matrix merge`). */
async function commands(): Promise<{ path: string; cmd: Cmd }[]> {
  const out: { path: string; cmd: Cmd }[] = [];
  const visit = (cmd: Cmd, prefix: string) => {
    const path = prefix ? `${prefix} ${cmd.name()}` : cmd.name();
    out.push({ path, cmd });
    for (const sub of cmd.commands) visit(sub, path);
  };
  for (const c of ((await createProgram()) as unknown as Cmd).commands) visit(c, "");
  return out;
}

/** The full help text of `cmd`, as `--help` prints it (help text added after included). */
function helpOf(cmd: Cmd): string {
  let text = "";
  cmd.configureOutput({ writeOut: (s) => text += s, writeErr: (s) => text += s });
  cmd.outputHelp();
  return text;
}

const all = await commands();

Deno.test("help: every command shows examples, each a command line it accepts", () => {
  assert.ok(all.length >= 20, `${all.length} commands`);
  const byPath = new Map(all.map((c) => [c.path, c.cmd]));
  for (const { path, cmd } of all) {
    const help = helpOf(cmd);
    const i = help.indexOf("\nExamples");
    assert.ok(i >= 0, `${path}: no examples in --help`);
    const lines = help.slice(i).split("\n").filter((l) => /^\s+kdump-lab /.test(l));
    assert.ok(lines.length > 0, `${path}: no example lines`);
    for (const line of lines) {
      const words: string[] = [];
      for (const m of line.trim().replace(/\s+#.*$/, "").matchAll(/'[^']*'|\S+/g)) {
        words.push(m[0]);
      }
      // The longest command path the line starts with.
      const ks = words.map((_, k) => k + 1).filter((k) => byPath.has(words.slice(1, k).join(" ")));
      const n: number = ks.length ? ks[ks.length - 1] : 0;
      assert.ok(n > 0, `${path}: "${line.trim()}" names no command`);
      const target: Cmd = byPath.get(words.slice(1, n).join(" "))!;
      const flags = new Set<string>();
      for (const o of target.options) {
        if (o.long) flags.add(o.long);
        if (o.short) flags.add(o.short);
      }
      for (const w of words.slice(n)) {
        if (w === "|" || w === ">") break; // what follows is another program or a file
        if (!w.startsWith("--")) continue;
        assert.ok(flags.has(w), `${path}: "${line.trim()}" uses ${w}, not an option of it`);
      }
    }
  }
});

Deno.test("help: the long commands take both --quiet and --verbose", () => {
  for (const path of ["bisect", "minimize", "ablate", "matrix"]) {
    const cmd = all.find((c) => c.path === path)!.cmd;
    const longs = cmd.options.map((o) => o.long);
    for (const f of ["--quiet", "--verbose"]) assert.ok(longs.includes(f), `${path} ${f}`);
  }
});
