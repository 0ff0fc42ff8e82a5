/**
 * Users' code from the command line: `run --json` with a plugin that calls Deno.exit(0) prints
 * an attributed report, says why on stderr and exits 5 (`--dmesg` too: the log, then the line); a plugin tapping an unknown hook point and a plugin
 * file reading /etc/passwd as it loads are refused (one line, exit 2); `--run` scripts are
 * sandboxed, killed with their process group when bisect is interrupted or they overrun
 * `--timeout`; `bisect replay` runs no script the log names unless `--run` is given again.
 */
import assert from "node:assert/strict";
import { type Report, ReportSchema } from "../../runtime/lab/report.ts";
import { EXIT_USERS_CODE } from "../../runtime/cli/sandbox-options.ts";
import { lab, ROOT } from "./lab-kit.ts";

const FIXTURES = new URL("../fixtures/sandbox/", import.meta.url).pathname;
const fixture = (name: string) => `${FIXTURES}${name}.ts`;

/** Whether a process with this pid exists (Linux /proc). */
async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has ended
  } catch {
    return false;
  }
}

Deno.test("run --json: Deno.exit(0) in a plugin is an attributed plugin-error, printed, and exit 5", async () => {
  const out = await lab(["run", "--series", "all", "--plugin", fixture("exit"), "--json"]);
  assert.equal(out.code, EXIT_USERS_CODE, out.stderr);
  const r: Report = ReportSchema.parse(JSON.parse(out.stdout));
  assert.equal(r.verdict, "plugin-error");
  assert.deepEqual(r.pluginError?.plugin, "quitter");
  assert.deepEqual(r.pluginError?.hook, "iommu.__iommu_attach_device");
  // JSON on stdout; why the exit code is 5, on stderr where a person reads it.
  assert.equal(
    out.stderr.trimEnd(),
    "kdump-lab: run: plugin-error: plugin quitter failed at iommu.__iommu_attach_device: " +
      "called Deno.exit(0): users' code may not end the process (kdump-lab's sandbox)",
  );
});

Deno.test("run --dmesg: a run users' code failed prints the logs up to the failure, says why on stderr, exit 5", async () => {
  const out = await lab(["run", "--series", "all", "--plugin", fixture("exit"), "--dmesg"]);
  assert.equal(out.code, EXIT_USERS_CODE, out.stderr);
  assert.match(out.stdout, /pci 0000:02:00\.0: \[8086:0953\]/);
  assert.doesNotMatch(out.stdout, /verdict/); // the console log only
  assert.match(
    out.stderr,
    /^kdump-lab: run: plugin-error: plugin quitter failed at iommu\.__iommu_attach_device: called Deno\.exit\(0\)/,
  );
  assert.equal(out.stderr.trimEnd().split("\n").length, 1);
});

Deno.test("run --timeout: an endless loop gives plugin-timeout naming the plugin and hook, exit 5", async () => {
  const out = await lab(["run", "--series", "all", "--plugin", fixture("loop"), "--timeout", "2"]);
  assert.equal(out.code, EXIT_USERS_CODE, out.stderr);
  assert.match(out.stdout, /verdict +plugin-timeout/);
  assert.match(
    out.stdout,
    /cause +plugin spin at amd_iommu\.set_dte_entry did not finish within 2 s \(--timeout\)/,
  );
});

Deno.test("matrix --plugin: users' plugin files run sandboxed; each run's line carries the attributed verdict", async () => {
  const out = await lab([
    "matrix",
    "--patches",
    "detect-pre-enabled,helper-functions",
    "--plugin",
    fixture("exit"),
    "--jsonl",
    "--quiet",
  ]);
  assert.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trimEnd().split("\n").slice(1).map((l) => JSON.parse(l));
  assert.equal(lines.length, 4);
  for (const l of lines) {
    assert.equal(l.verdict, "plugin-error");
    assert.match(
      l.cause,
      /^plugin quitter failed at iommu\.__iommu_attach_device: called Deno\.exit\(0\)/,
    );
  }
});

Deno.test("run --timeout: a plugin file that never finishes loading is named, with the module load, exit 2", async () => {
  const out = await lab(["run", "--plugin", fixture("loop-at-load"), "--timeout", "2"]);
  assert.equal(out.code, 2, out.stderr);
  assert.match(
    out.stderr,
    /^kdump-lab: run: plugin file \/.*loop-at-load\.ts at module load did not finish within 2 s \(--timeout\)\n$/,
  );
});

Deno.test("a plugin tapping an unknown hook point is refused like a bad manifest: one path-qualified line, exit 2", async () => {
  for (const args of [["run", "--plugin"], ["plugins", "--plugin"], ["hooks", "--plugin"]]) {
    const out = await lab([...args, fixture("unknown-hook")]);
    assert.equal(out.code, 2, `${args[0]}: ${out.stderr}`);
    assert.equal(out.stderr.trimEnd().split("\n").length, 1, out.stderr);
    assert.match(
      out.stderr,
      /plugin file .*unknown-hook\.ts: plugin typo: field hooks\["amd_iommu\.early_enable_iommu"\]: no hook point/,
    );
  }
});

Deno.test("plugins --plugin: a file that reads /etc/passwd as it loads is refused; nothing of the file is printed", async () => {
  const out = await lab(["plugins", "--plugin", fixture("read-at-load"), "--json"]);
  assert.equal(out.code, 2, out.stderr);
  assert.match(out.stderr, /read-at-load\.ts: cannot load it: .*read access to "\/etc\/passwd"/);
  assert.ok(!out.stdout.includes("root:") && !out.stderr.includes("root:"));
  // Granted, it loads (the grant is the user's choice).
  const granted = await lab([
    "plugins",
    "--plugin",
    fixture("read-at-load"),
    "--allow-plugin-perms",
    "read",
    "--json",
  ]);
  assert.equal(granted.code, 0, granted.stderr);
});

Deno.test("--allow-plugin-perms, --timeout, --max-memory: bad values are usage errors", async () => {
  for (
    const [args, pattern] of [
      [["--allow-plugin-perms", "nett"], /unknown permission "nett"/],
      [["--timeout", "0"], /expected seconds above 0/],
      [["--max-memory", "12"], /expected a whole number of MiB from 64/],
    ] as const
  ) {
    const out = await lab(["run", ...args]);
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, pattern);
  }
});

/** Spawns `lab bisect …` and resolves the pid its --run script reports on stderr. */
async function bisectWithSpinningScript(extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "runtime/cli/main.ts", "bisect", "--run", fixture("spin-script"), ...extra],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let pid: number | undefined;
  while (pid === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const m = /spin-script pid (\d+)/.exec(text);
    if (m) pid = Number(m[1]);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { child, pid, rest };
}

Deno.test("bisect interrupted (SIGTERM, SIGINT): the --run script's process group is gone", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const { child, pid, rest } = await bisectWithSpinningScript();
    assert.ok(pid !== undefined, "the script started");
    assert.ok(await alive(pid!), "the script spins while bisect waits for it");
    child.kill(signal);
    const status = await child.status;
    await rest;
    assert.notEqual(status.code, 0, signal);
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = !(await alive(pid!));
      if (!gone) await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.ok(gone, `the script (pid ${pid}) is killed with bisect (${signal})`);
  }
});

Deno.test("bisect --run --timeout: a script that never answers is killed and the search aborts (exit 2)", async () => {
  const { child, pid, rest } = await bisectWithSpinningScript(["--timeout", "2"]);
  const status = await child.status;
  const stderr = await rest;
  assert.equal(status.code, 2, stderr);
  assert.match(stderr, /--run .*spin-script\.ts did not finish within 2 s \(--timeout\)/);
  assert.equal(await alive(pid!), false);
});

Deno.test("bisect replay: a log's --run script is not run unless --run is given again", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = `${dir}/b.log`;
    const made = await lab(["bisect", "--run", fixture("loud-script"), "--log", log]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /LOUD SCRIPT RAN/);
    const text = await Deno.readTextFile(log);
    assert.match(text, /"run":".*loud-script\.ts"/);
    // The log's first step only (the newest end): the replay has steps left to run.
    const lines = text.split("\n");
    const firstStep = lines.findIndex((l) =>
      l.startsWith("git bisect ") && !l.startsWith("git bisect start")
    );
    assert.ok(firstStep > 0, text);
    const partial = `${dir}/part.log`;
    await Deno.writeTextFile(partial, lines.slice(0, firstStep + 1).join("\n") + "\n");

    const refused = await lab(["bisect", "replay", partial]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.ok(!refused.stderr.includes("LOUD SCRIPT RAN"), "the script did not run");
    assert.match(
      refused.stderr,
      /a replay runs only when asked: give --run .*loud-script\.ts again/,
    );

    const asked = await lab(["bisect", "replay", partial, "--run", fixture("loud-script")]);
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stderr, /LOUD SCRIPT RAN/);
    assert.match(asked.stdout, /disable-only-if-off is the first fixed commit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bisect, minimize and ablate --plugin: users' files load and run in sandbox hosts, never in the CLI's process", async () => {
  // Loading a file that reads /etc/passwd is refused in the host (the CLI itself may read it).
  for (const cmd of ["bisect", "minimize", "ablate"]) {
    const out = await lab([cmd, "--plugin", fixture("read-at-load"), "--quiet"]);
    assert.equal(out.code, 2, `${cmd}: ${out.stderr}`);
    assert.match(out.stderr, /read-at-load\.ts: cannot load it: .*read access to "\/etc\/passwd"/);
    assert.ok(!out.stdout.includes("root:") && !out.stderr.includes("root:"), cmd);
  }
  // Deno.exit(0) inside a step's run is the plugin's attributed error (in this process it
  // would have ended the search with exit 0): every row of ablate says so.
  const ab = await lab(["ablate", "--plugin", fixture("exit"), "--json", "--quiet"]);
  assert.equal(ab.code, 0, ab.stderr);
  const rows = JSON.parse(ab.stdout) as { id: string; verdict: string; series: string[] }[];
  assert.equal(rows.length, 13);
  for (const r of rows.filter((r) => r.verdict !== "skipped")) {
    assert.equal(r.verdict, "plugin-error", r.id);
    assert.ok(r.series.includes("quitter"), `${r.id}: ${r.series}`);
  }
  const min = await lab(["minimize", "--plugin", fixture("exit"), "--quiet"]);
  assert.equal(min.code, 2, min.stderr);
  assert.match(
    min.stderr,
    /nothing to minimize: .*plugin quitter failed at iommu\.__iommu_attach_device: called Deno\.exit\(0\)/,
  );
});
