/**
 * The options that set the sandbox users' code runs in (plugin files, `--replace` files,
 * `--run` scripts): `--timeout SECONDS`, `--max-memory MIB` and `--allow-plugin-perms LIST`.
 *
 * @module
 */
import { InvalidArgumentError, Option } from "npm:@commander-js/extra-typings@^14";
import {
  DEFAULT_LIMITS,
  type Permission,
  PERMISSIONS,
  type SandboxLimits,
} from "../lab/sandbox.ts";

/**
 * Exit status of `run` when users' code failed the run: verdict `plugin-error`,
 * `plugin-timeout` or `plugin-oom` (the report is printed first).
 */
export const EXIT_USERS_CODE = 5;

/**
 * Parses `--timeout SECONDS`: a number of seconds above 0, at most a day.
 *
 * @throws {InvalidArgumentError} otherwise
 */
export function parseTimeout(value: string): number {
  const n = Number(value.trim());
  if (!value.trim() || !Number.isFinite(n) || n <= 0 || n > 86_400) {
    throw new InvalidArgumentError("expected seconds above 0, at most 86400 (e.g. 60 or 2.5)");
  }
  return n;
}

/**
 * Parses `--max-memory MIB`: a whole number of MiB from 64 to 1,048,576.
 *
 * @throws {InvalidArgumentError} otherwise
 */
export function parseMaxMemory(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 64 || n > 1_048_576) {
    throw new InvalidArgumentError("expected a whole number of MiB from 64 to 1048576");
  }
  return n;
}

/**
 * Parses `--allow-plugin-perms LIST`: a comma list of Deno permissions (read, write, net, env,
 * run, ffi, sys), or `all`.
 *
 * @throws {InvalidArgumentError} for an empty list or an unknown permission
 */
export function parsePermissions(value: string): Permission[] {
  const items = value.split(",").map((s) => s.trim());
  if (items.length === 1 && items[0] === "all") return [...PERMISSIONS];
  const out: Permission[] = [];
  for (const item of items) {
    if (!(PERMISSIONS as readonly string[]).includes(item)) {
      throw new InvalidArgumentError(
        `unknown permission "${item}" (expected a comma list of ${PERMISSIONS.join(", ")}, or all)`,
      );
    }
    if (!out.includes(item as Permission)) out.push(item as Permission);
  }
  return out;
}

/** The three options, to add to a command that runs users' code. */
export function sandboxOptions() {
  return [
    new Option(
      "--timeout <seconds>",
      `wall-clock limit of users' code: each run (and loading the plugin files, and each --run ` +
        `script) may take this long (default ${DEFAULT_LIMITS.timeoutS})`,
    ).argParser(parseTimeout),
    new Option(
      "--max-memory <mib>",
      `memory cap of users' code in MiB (default ${DEFAULT_LIMITS.maxMemoryMb})`,
    ).argParser(parseMaxMemory),
    new Option(
      "--allow-plugin-perms <list>",
      "grant users' code these Deno permissions (comma list of read, write, net, env, run, " +
        "ffi, sys, or all); without it, it may only read its own files",
    ).argParser(parsePermissions),
  ] as const;
}

/** The limits the options give (defaults for what they leave out). */
export function limitsFromOptions(
  opts: { timeout?: number; maxMemory?: number; allowPluginPerms?: Permission[] },
): SandboxLimits {
  return {
    timeoutS: opts.timeout ?? DEFAULT_LIMITS.timeoutS,
    maxMemoryMb: opts.maxMemory ?? DEFAULT_LIMITS.maxMemoryMb,
    allow: opts.allowPluginPerms ?? [...DEFAULT_LIMITS.allow],
  };
}
