/**
 * `kdump-lab completions bash|zsh|fish`: the scripts name every command of the program (walked
 * from createProgram(), so a new command shows up by itself) and its options, are valid shell
 * (`bash -n`, `zsh -n`, `fish --no-execute`), and complete what they should: bash and fish are
 * driven for real (bash's completion function with COMP_WORDS set, fish's `complete -C`). A
 * shell that is not installed skips its test outside CI, saying why; under CI (`CI=true`, which
 * `.ci/run` sets after installing zsh and fish) the test runs and fails without it.
 */
import assert from "node:assert/strict";
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { builtinPlugins } from "../../runtime/lab/plugins.ts";
import { scenarioNames } from "../../runtime/lab/scenarios/mod.ts";
import { valueKind } from "../../runtime/cli/completion-model.ts";
import { createProgram } from "../../runtime/cli/main.ts";
import { exec, lab, need, skipWithout, usage, which } from "./lab-kit.ts";

const BASH = which("bash");
const ZSH = which("zsh");
const FISH = which("fish");

/** Every command path of the program: `run`, `decode dte`, … */
function commandPaths(cmd: CommandUnknownOpts, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [path, ...commandPaths(c, path)];
  });
}

const scripts = Object.fromEntries(
  await Promise.all(["bash", "zsh", "fish"].map(async (shell) => {
    const r = await lab(["completions", shell]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    return [shell, r.stdout] as const;
  })),
);

/** Writes `text` to a temporary file; returns its path. */
async function temp(text: string, suffix: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-completion-", suffix });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("every script names every command, the key options, plugin ids and scenarios", async () => {
  const paths = commandPaths(await createProgram());
  assert.ok(paths.some((p) => p.join(" ") === "decode dte"));
  assert.ok(paths.some((p) => p.join(" ") === "schema report"));
  for (const [shell, text] of Object.entries(scripts)) {
    for (const path of paths) {
      assert.ok(text.includes(`kdump-lab/${path.join("/")}`), `${shell}: ${path.join(" ")}`);
    }
    for (
      const opt of ["series", "disable", "scenario", "scenario-file", "plugin", "html", "seed"]
    ) {
      const flag = shell === "fish" ? `-l ${opt} ` : `--${opt}`;
      assert.ok(text.includes(flag), `${shell}: --${opt}`);
    }
    for (const id of builtinPlugins().keys()) assert.ok(text.includes(id), `${shell}: ${id}`);
    for (const name of scenarioNames()) assert.ok(text.includes(name), `${shell}: ${name}`);
  }
  assert.match(scripts.bash, /complete -o default -F _kdump_lab kdump-lab/);
  assert.match(scripts.zsh, /^#compdef kdump-lab/);
  assert.match(scripts.fish, /^complete -c kdump-lab -f$/m);
});

Deno.test("option values by kind: plugin ids, comma lists, scenarios, files, choices", () => {
  assert.deepEqual(valueKind("--series"), { kind: "series-spec" });
  assert.deepEqual(valueKind("--disable"), { kind: "plugin" });
  assert.deepEqual(valueKind("--with"), { kind: "plugin-list" });
  assert.deepEqual(valueKind("--scenario"), { kind: "scenario" });
  for (const f of ["--plugin", "--scenario-file", "--html"]) {
    assert.deepEqual(valueKind(f), { kind: "file" }, f);
  }
  assert.deepEqual(valueKind("--log", undefined, "--log <file>"), { kind: "file" });
  assert.deepEqual(valueKind("--seed", undefined, "--seed <n>"), { kind: "none" });
  assert.deepEqual(valueKind("--x", ["a", "b"]), { kind: "choices", choices: ["a", "b"] });
});

Deno.test({
  name: "bash: syntax checks, and the completion function completes",
  ignore: skipWithout("bash", BASH, "the bash completion checks"),
  fn: async () => {
    const file = await temp(scripts.bash, ".bash");
    try {
      const check = await exec(need("bash", BASH), ["-n", file]);
      assert.equal(check.code, 0, check.stderr);
      const driver = `source ${file}
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _kdump_lab
  echo "\${COMPREPLY[*]}"; }
t kdump-lab ''
t kdump-lab run --se
t kdump-lab run --series all,bnx2
t kdump-lab run --scenario de
t kdump-lab run --seed 3 --disable copy-d
t kdump-lab decode dte --j
t kdump-lab completions ''
t kdump-lab schema ''
t kdump-lab run --html ${file.replace(/\.bash$/, "")}
`;
      const r = await exec(need("bash", BASH), ["--norc", "-c", driver]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n");
      for (const c of ["run", "demo", "decode", "schema", "completions"]) {
        assert.ok(lines[0].split(" ").includes(c), `root: ${c} in ${lines[0]}`);
      }
      assert.equal(lines[1], "--seed --series --seeds");
      assert.equal(lines[2], "all,bnx2-no-kdump-wait");
      assert.equal(lines[3], "default");
      assert.equal(lines[4], "copy-dev-tables", "--seed's value is skipped");
      assert.equal(lines[5], "--json");
      assert.equal(lines[6], "bash zsh fish");
      assert.equal(lines[7], "report scenario help");
      assert.equal(lines[8], file, "files after --html");
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name: "zsh: syntax checks, and its tables answer (skipped without zsh, outside CI)",
  ignore: skipWithout("zsh", ZSH, "the zsh completion checks"),
  fn: async () => {
    const file = await temp(scripts.zsh, ".zsh");
    try {
      const check = await exec(need("zsh", ZSH), ["-n", file]);
      assert.equal(check.code, 0, check.stderr);
      const r = await exec(need("zsh", ZSH), [
        "-fc",
        `compdef() { print "compdef $*" }; source ${file}
_kdump_lab_kind kdump-lab/run --series
_kdump_lab_valued kdump-lab/demo
_kdump_lab_subs kdump-lab | head -n 1`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        "compdef _kdump_lab kdump-lab\nseries-spec\n--scenario --scenario-file --seed --seeds --workers --html\n" +
          "run:run a scenario through a panic and its kdump kernel; print the outcome\n",
      );
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test({
  name: "fish: syntax checks, and complete -C completes (skipped without fish, outside CI)",
  ignore: skipWithout("fish", FISH, "the fish completion checks"),
  fn: async () => {
    const file = await temp(scripts.fish, ".fish");
    try {
      const check = await exec(need("fish", FISH), ["--no-execute", file]);
      assert.equal(check.code, 0, check.stderr);
      const ask = async (line: string) => {
        const r = await exec(need("fish", FISH), [
          "--no-config",
          "-c",
          `source ${file}; complete -C '${line}'`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]);
      };
      assert.deepEqual(await ask("kdump-lab run --seri"), ["--series"]);
      assert.deepEqual(await ask("kdump-lab run --series all,bnx2"), ["all,bnx2-no-kdump-wait"]);
      assert.deepEqual(await ask("kdump-lab demo --scenario kexec"), ["kexec-iommu-on"]);
      assert.deepEqual(await ask("kdump-lab completions "), ["bash", "fish", "zsh"]);
      assert.ok((await ask("kdump-lab ")).includes("schema"));
      assert.deepEqual(await ask("kdump-lab decode dte --js"), ["--json"]);
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("completions with an unknown shell: one line, exit 2", async () => {
  const r = await lab(["completions", "powershell"]);
  usage(r, /^kdump-lab: completions: .*powershell.*bash, zsh, fish/);
});
