/**
 * Shared by the CLI tests of `--html`, `schema` and `completions`: run the CLI the way
 * `deno task lab` does, and find programs on PATH.
 */

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** What a CLI run printed, and its exit code. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A runtime/cli/main.ts …args` from the repository root. */
export async function lab(args: string[]): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "runtime/cli/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a program with arguments (and optional stdin text); never throws for a bad exit. */
export async function exec(cmd: string, args: string[], stdin?: string): Promise<Output> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
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
