/**
 * A user's plugin and script in a folder of their own, outside this checkout and with no
 * deno.json: they import the entry points (mod.ts, plugin.ts, hw.ts) by path, `deno check`
 * them and run them, and `kdump-lab run --plugin` loads the plugin.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../runtime/lab/run.ts";
import { seriesFromSpec } from "../runtime/lab/plugins.ts";
import { SCENARIOS } from "../runtime/lab/scenarios/mod.ts";

const ROOT = new URL("..", import.meta.url);
const entry = (f: string) => new URL(f, ROOT).href;

const PLUGIN = `import { definePlugin } from "${entry("plugin.ts")}";
import { DTE } from "${entry("hw.ts")}";

/** Counts the DTEs the kdump kernel writes and logs the first one's mode. */
export default definePlugin({
  id: "count-dtes",
  title: "count the DTEs the kdump kernel writes",
  state: () => ({ n: 0 }),
  hooks: {
    "amd_iommu.set_dte_entry": (ctx, next) => {
      next();
      if (ctx.k.is_kdump_kernel() && ctx.state.n++ === 0) {
        ctx.k.pr_info(\`count-dtes: first \${DTE.name}[\${ctx.devid}] mode \${ctx.domain.mode}\`);
      }
    },
  },
});
`;

const SCRIPT = `import { run, SCENARIOS, seriesFromSpec } from "${entry("mod.ts")}";
import plugin from "./count-dtes.ts";

const series = seriesFromSpec("all", [plugin]).insert(plugin);
const report = run(SCENARIOS.default, { series });
console.log(JSON.stringify({
  verdict: report.verdict,
  lines: report.dmesg.filter((l) => l.text.startsWith("count-dtes:")).map((l) => l.text),
}));
`;

async function deno(args: string[], cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("outside the checkout: a plugin and a script import the entry points by path, check and run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-user-" });
  try {
    await Deno.writeTextFile(join(dir, "count-dtes.ts"), PLUGIN);
    await Deno.writeTextFile(join(dir, "script.ts"), SCRIPT);
    for (const name of ["deno.json", "deno.jsonc", "package.json"]) {
      await assert.rejects(Deno.stat(join(dir, name)), Deno.errors.NotFound);
    }
    const check = await deno(["check", "count-dtes.ts", "script.ts"], dir);
    assert.equal(check.code, 0, check.stderr);
    const ran = await deno(["run", "-A", "script.ts"], dir);
    assert.equal(ran.code, 0, ran.stderr);
    const got = JSON.parse(ran.stdout);
    // The same run in this process, with the plugin loaded from the user's folder.
    const plugin = (await import(join(dir, "count-dtes.ts"))).default;
    const report = run(SCENARIOS.default, {
      series: seriesFromSpec("all", [plugin]).insert(plugin),
    });
    assert.equal(got.verdict, report.verdict);
    assert.equal(got.lines.length, 1, ran.stdout);
    assert.match(got.lines[0], /^count-dtes: first DTE\[\d+\] mode \d$/);
    // The CLI loads the same file with --plugin.
    const cli = await deno(
      [
        "run",
        "-A",
        new URL("runtime/cli/main.ts", ROOT).pathname,
        "run",
        "--series",
        "all",
        "--plugin",
        "./count-dtes.ts",
        "--dmesg",
      ],
      dir,
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.includes(got.lines[0]), cli.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
