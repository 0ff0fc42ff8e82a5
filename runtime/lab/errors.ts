/**
 * Turning zod validation errors into lines a user can act on:
 * `scenario file x.yaml: machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or
 * size like 256M`. Scenario files, plugin manifests and command options all report bad input
 * this way (one line, the path of the offending value, no stack trace).
 *
 * @module
 */
import type { z } from "npm:zod@^4";

/** One zod issue (what `ZodError.issues` holds). */
export type Issue = z.core.$ZodIssue;

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * A value's path the way one would write it in TypeScript: `machine.devices[1].bar`,
 * `efr["Weird key"]`; the empty path is `(top level)`.
 */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && IDENT.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || "(top level)";
}

/** zod's message for a value that is missing (its key absent): the type it expected in $1. */
const MISSING = /^Invalid input: expected (.+), received undefined$/;

/** Whether `issue` says a value is missing (a required key absent). */
export function isMissingIssue(issue: Issue): boolean {
  return issue.code === "invalid_type" && MISSING.test(issue.message);
}

/** zod's default message with its generic lead-in removed and a missing value named so. */
function plainMessage(message: string): string {
  const missing = MISSING.exec(message);
  if (missing) return `missing (expected ${missing[1]})`;
  const m = /^(?:Invalid input|Invalid option|Too small|Too big): (.*)$/s.exec(message);
  return m ? m[1] : message;
}

/** The issue that best explains a failed union: the branch that got furthest. */
function unionCause(issue: Issue & { code: "invalid_union" }): Issue | undefined {
  const branches = (issue.errors as readonly Issue[][]).filter((b) => b.length > 0);
  if (branches.length === 0) return undefined;
  // Every branch rejected the value's type outright: say which types would do.
  if (branches.every((b) => b.length === 1 && b[0].code === "invalid_type" && !b[0].path.length)) {
    const expected = branches.map((b) => (b[0] as { expected: string }).expected);
    const received = /received (\S+)$/.exec(branches[0][0].message)?.[1];
    return {
      code: "custom",
      path: issue.path,
      input: issue.input,
      message: `expected ${expected.join(" or ")}${received ? `, received ${received}` : ""}`,
    };
  }
  const depth = (b: readonly Issue[]) => Math.max(...b.map((i) => i.path.length));
  const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  const inner = best[0];
  return { ...inner, path: [...issue.path, ...inner.path] } as Issue;
}

/** `path: message` for one issue (unions are explained by their closest branch). */
export function formatIssue(issue: Issue): string {
  if (issue.code === "invalid_union") {
    const options = "options" in issue ? issue.options : undefined;
    if (issue.discriminator !== undefined && options) {
      const list = options.map((o) => JSON.stringify(o)).join("|");
      return `${issuePath(issue.path)}: expected one of ${list}`;
    }
    const cause = unionCause(issue);
    if (cause) return formatIssue(cause);
    if ("matches" in issue) return `${issuePath(issue.path)}: matches more than one form`;
  }
  if ((issue.code === "invalid_key" || issue.code === "invalid_element") && issue.issues[0]) {
    const inner = issue.issues[0];
    return formatIssue({ ...inner, path: [...issue.path, ...inner.path] } as Issue);
  }
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${issuePath(issue.path)}: unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}`;
  }
  return `${issuePath(issue.path)}: ${plainMessage(issue.message)}`;
}

/**
 * One line per problem of a zod error, each `prefix: path: message` (an empty prefix is left
 * out), in the order zod found them, without repeats: what a scenario file reports.
 *
 * @param prefix what was being validated, e.g. `scenario file x.yaml`
 */
export function formatZodProblems(prefix: string, err: { issues: readonly Issue[] }): string[] {
  const lines = err.issues.map((i) => [prefix, formatIssue(i)].filter(Boolean).join(": "));
  return lines.length
    ? [...new Set(lines)]
    : [[prefix, "invalid value"].filter(Boolean).join(": ")];
}

/**
 * One line for a zod error: `prefix: path: message`, from the first issue, followed by
 * `(and N more problems)` when there are others. An empty prefix is left out.
 *
 * @param prefix what was being validated, e.g. `scenario file x.yaml` or `plugin foo`
 */
export function formatZodError(prefix: string, err: { issues: readonly Issue[] }): string {
  const [first, ...rest] = err.issues;
  const text = first ? formatIssue(first) : "invalid value";
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? "s" : ""})` : "";
  return [prefix, text + more].filter(Boolean).join(": ");
}
