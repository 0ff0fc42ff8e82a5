/**
 * What the tools that measure this tree against another revision share: their command line
 * (a revision and options), git in the checkout, a temporary detached worktree of a revision
 * (removed when done), and Deno run in a tree with that tree's own config.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout these tools belong to. */
export const TREE: string = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs git in `cwd` (default the checkout) and returns its output; throws with git's message. */
export async function git(args: string[], cwd: string = TREE): Promise<string> {
  const r = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(r.stdout).trim();
  if (!r.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  return text;
}

/** The commit `rev` names, or undefined (with git's first line of complaint in `why`). */
export async function resolveCommit(rev: string): Promise<{ commit?: string; why?: string }> {
  try {
    return { commit: await git(["rev-parse", "--verify", `${rev}^{commit}`]) };
  } catch (e) {
    return { why: (e as Error).message.split("\n")[0] };
  }
}

/**
 * Runs `fn` with a detached worktree of `commit` in a temporary directory (and that directory,
 * for the caller's own files); both are removed afterwards, whatever `fn` did.
 */
export async function withWorktree<T>(
  commit: string,
  prefix: string,
  fn: (tree: string, tmp: string) => Promise<T>,
): Promise<T> {
  const tmp = await Deno.makeTempDir({ prefix });
  const tree = join(tmp, "tree");
  try {
    await git(["worktree", "add", "--detach", tree, commit]);
    return await fn(tree, tmp);
  } finally {
    await git(["worktree", "remove", "--force", tree]).catch(() => {});
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Reads a tool's command line: options that each take a value, handed to `options[name]`, and
 * flags without one, handed to `flags[name]` (either may throw to refuse it). Returns the
 * other arguments, in order. Throws one line for an unknown option or a missing value.
 */
export function parseToolArgs(
  argv: readonly string[],
  options: Record<string, (value: string) => void>,
  flags: Record<string, () => void> = {},
): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-")) {
      rest.push(arg);
      continue;
    }
    if (Object.hasOwn(flags, arg)) {
      flags[arg]();
      continue;
    }
    const take = Object.hasOwn(options, arg) ? options[arg] : undefined;
    if (!take) throw new Error(`unknown option ${arg}`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${arg} needs a value`);
    take(v);
  }
  return rest;
}

/**
 * A tool's command line as `parse` reads it, or undefined after printing `tool: <why>` on
 * stderr when `parse` refuses it (the tool then exits 2).
 */
export function argsOrRefuse<A>(tool: string, parse: () => A): A | undefined {
  try {
    return parse();
  } catch (e) {
    console.error(`${tool}: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * Reads a tool's command line: at most one revision (default HEAD) and options that each take
 * a value, handed to `options[name]` (which may throw to refuse it). Throws one line for an
 * unknown option, a missing value or a second revision.
 */
export function parseRevArgs(
  argv: readonly string[],
  options: Record<string, (value: string) => void>,
): string {
  const [rev, extra] = parseToolArgs(argv, options);
  if (extra !== undefined) throw new Error(`unexpected argument ${extra}`);
  return rev ?? "HEAD";
}

/**
 * Runs Deno with `args` in the tree at `root`, with that tree's own config, and returns what it
 * printed; throws `<what> failed` with the last lines of its stderr when it fails.
 */
export async function denoIn(root: string, args: string[], what: string): Promise<string> {
  const [sub, ...rest] = args;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [sub, "-A", "--config", join(root, "deno.json"), ...rest],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${what} failed in ${root}:\n${err}`);
  }
  return new TextDecoder().decode(r.stdout);
}
