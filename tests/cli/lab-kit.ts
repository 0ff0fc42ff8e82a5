/**
 * Shared by the CLI tests: run the CLI the way `deno task lab` does (or any program), check
 * what it printed, strip colours, find programs on PATH; and the series order the tests expect.
 */
import assert from "node:assert/strict";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** What a CLI run printed, and its exit code. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to spawn the CLI (see {@link spawnLab}). */
export interface LabOptions {
  /**
   * The colour switches (and any other variables) the child gets on top of this process's
   * environment, from which NO_COLOR and FORCE_COLOR are always dropped. Default
   * `{ NO_COLOR: "1" }`: no colours.
   */
  env?: Record<string, string>;
  /** Text piped to the child's stdin (then closed); without it stdin is null. */
  stdin?: string;
}

/**
 * Spawns `cmd` with `args`, pipes `stdin` to it when given (else stdin is null) and collects
 * its exit code and output; never throws for a bad exit.
 */
async function spawn(
  cmd: string,
  args: string[],
  stdin?: string,
  opts: Pick<Deno.CommandOptions, "cwd" | "env" | "clearEnv"> = {},
): Promise<Output> {
  const child = new Deno.Command(cmd, {
    ...opts,
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Runs `deno run -A runtime/cli/main.ts …args` from the repository root with this process's
 * environment, the colour switches as `opts.env` says.
 */
export function spawnLab(args: string[], opts: LabOptions = {}): Promise<Output> {
  const env = Deno.env.toObject();
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return spawn(Deno.execPath(), ["run", "-A", "runtime/cli/main.ts", ...args], opts.stdin, {
    cwd: ROOT,
    clearEnv: true,
    env: { ...env, ...(opts.env ?? { NO_COLOR: "1" }) },
  });
}

/** Runs the CLI with `args` from the repository root, without colours. */
export function lab(args: string[]): Promise<Output> {
  return spawnLab(args);
}

/** Asserts exit 0 (`what` names the run in the failure); returns `out`. */
export function ok(out: Output, what: string): Output {
  assert.equal(out.code, 0, `${what}: ${out.stderr}`);
  return out;
}

/** Asserts exit 2 with exactly one line on stderr (`what` names the run); returns the line. */
export function errorLine(out: Output, what = ""): string {
  const at = what ? `${what}: ` : "";
  assert.equal(out.code, 2, `${at}${out.stdout}${out.stderr}`);
  const lines = out.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `${at}one line: ${out.stderr}`);
  return lines[0];
}

/** Asserts a usage error: exit 2, nothing on stdout, one stderr line that matches `re`. */
export function usage(out: Output, re: RegExp, what = ""): void {
  const line = errorLine(out, what);
  assert.equal(out.stdout, "", `${what ? `${what}: ` : ""}nothing on stdout`);
  assert.match(line, re, what || undefined);
}

/**
 * The series in order, written out here independently of the lab's list (the tests compare
 * the lab's against it).
 */
export const SERIES = [
  "detect-pre-enabled",
  "helper-functions",
  "revert-suppress-io-page-faults",
  "dte-bit-fields",
  "copy-dev-tables",
  "copy-old-trans-table",
  "sanity-check-old-dte",
  "iommu-is-attach-deferred",
  "amd-use-attach-deferred",
  "dev-table-below-4g",
  "drop-gcr3-root",
  "disable-only-if-off",
];

/** Upstream's later fixes, in upstream order (what `--series later` names). */
export const LATER = [
  "sme-remap-devtab",
  "flush-old-domains",
  "ga-log-warn-running",
  "ga-log-disable-running",
  "snp-reuse-devtab",
  "snp-remap-buffers",
  "snp-skip-enable-buffers",
  "preserve-domain-ids",
];

/** Runs a program with arguments (and optional stdin text); never throws for a bad exit. */
export function exec(cmd: string, args: string[], stdin?: string): Promise<Output> {
  return spawn(cmd, args, stdin);
}

/** `text` without ANSI colour escapes (SGR sequences). */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** The first of `names` found as an executable file on PATH, or undefined. */
export function which(...names: string[]): string | undefined {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const path = `${dir}/${name}`;
      try {
        const st = Deno.statSync(path);
        if (st.isFile && (st.mode === null || (st.mode & 0o111) !== 0)) return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Whether the tests run under CI (`CI=true` or `1`, as `.ci/run` sets it). */
export const IN_CI = /^(true|1)$/i.test(Deno.env.get("CI") ?? "");

/**
 * Whether the tests that need `tool` (found at `path`, or not) are skipped: only outside CI,
 * saying why; under CI they run, and {@link need} fails them when the tool is missing.
 */
export function skipWithout(tool: string, path: string | undefined, what: string): boolean {
  if (path !== undefined || IN_CI) return false;
  console.log(`skipping ${what}: ${tool} is not installed`);
  return true;
}

/** `path`, or a failure naming `tool` (a test that must run under CI found it missing). */
export function need(tool: string, path: string | undefined): string {
  if (path === undefined) {
    throw new Error(`${tool} is not installed; CI must have it (.ci/run installs it)`);
  }
  return path;
}
