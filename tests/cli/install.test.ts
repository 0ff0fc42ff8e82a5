/**
 * The README's install command on a machine with only Node and npm: a fresh HOME, a PATH of
 * node, npm, npx and core utilities (no deno), npm's global prefix inside that HOME. After
 * the command, `kdump-lab --version` prints deno.json's version and `kdump-lab run --json`
 * prints the same report as run() in this process. Needs the npm registry (as CI has).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { ROOT } from "./lab-kit.ts";

const TOOLS = [
  "node",
  "npm",
  "npx",
  "sh",
  "env",
  "cat",
  "ls",
  "mkdir",
  "rm",
  "ln",
  "chmod",
  "cp",
  "mv",
  "tar",
  "gzip",
  "uname",
  "dirname",
  "basename",
  "readlink",
  "grep",
  "sed",
];

/** The absolute path of `cmd` on this process's PATH, or undefined. */
function which(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const p = join(dir, cmd);
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs `cmd args` with `env` only (nothing inherited); returns code and output. */
async function exec(cmd: string, args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(cmd, {
    args,
    env,
    clearEnv: true,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "install: the README's npm command puts a working kdump-lab on a PATH without deno",
  ignore: which("npm") === undefined,
  fn: async () => {
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const m = /^npm install -g --install-links (\S+)/m.exec(readme);
    assert.ok(m, "the README has the install command");
    const command = m[0].replace(m[1], ROOT.replace(/\/$/, "")).split(" ");

    const tmp = await Deno.makeTempDir({ prefix: "kdump-lab-install-" });
    try {
      const bin = join(tmp, "only-node");
      await Deno.mkdir(bin);
      for (const t of TOOLS) {
        const p = which(t);
        if (p) await Deno.symlink(p, join(bin, t));
      }
      const home = join(tmp, "home");
      const work = join(tmp, "work");
      await Deno.mkdir(home);
      await Deno.mkdir(work);
      const prefix = join(home, ".npm-global");
      // Only what reaches the registry (proxies, CA certificates) comes from this process.
      const env: Record<string, string> = {
        HOME: home,
        PATH: `${join(prefix, "bin")}:${bin}`,
        NPM_CONFIG_PREFIX: prefix,
        NPM_CONFIG_UPDATE_NOTIFIER: "false",
        NO_COLOR: "1",
      };
      for (const [k, v] of Object.entries(Deno.env.toObject())) {
        if (/^(https?_proxy|no_proxy|ssl_cert_(file|dir)|node_extra_ca_certs)$/i.test(k)) {
          env[k] = v;
        }
      }
      const noDeno = await exec("sh", ["-c", "command -v deno"], env, work);
      assert.notEqual(noDeno.code, 0, `deno is on the test PATH: ${noDeno.stdout}`);

      const install = await exec(join(bin, "npm"), command.slice(1), env, work);
      assert.equal(install.code, 0, `${command.join(" ")}\n${install.stderr}`);

      const version = await exec("sh", ["-c", "kdump-lab --version"], env, work);
      assert.equal(version.code, 0, version.stderr);
      const { version: expected } = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
      assert.equal(version.stdout.trim(), expected);
      const pkg = JSON.parse(await Deno.readTextFile(join(ROOT, "package.json")));
      assert.equal(pkg.version, expected, "package.json's version is deno.json's");

      const report = await exec("sh", ["-c", "kdump-lab run --json"], env, work);
      assert.equal(report.code, 0, report.stderr);
      assert.equal(report.stdout.trim(), JSON.stringify(run(SCENARIOS.default, {}), null, 2));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
