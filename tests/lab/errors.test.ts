/**
 * formatZodError (runtime/lab/errors.ts): a zod error becomes ONE line with the path of the
 * offending value, for real ScenarioSchema failures and for the awkward issue kinds (unions,
 * discriminators, unknown keys, record keys).
 */
import assert from "node:assert/strict";
import { z } from "npm:zod@^4";
import {
  formatIssue,
  formatZodError,
  formatZodProblems,
  issuePath,
} from "../../runtime/lab/errors.ts";
import { scenarioSchema } from "../../runtime/lab/scenario.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

/** The default scenario with one change, as the one-line error for it. */
function scenarioError(change: (s: Loose) => void, prefix = "scenario file x.yaml"): string {
  const s = structuredClone(DEFAULT_SCENARIO) as Loose;
  change(s);
  const r = scenarioSchema.safeParse(s);
  assert.equal(r.success, false, "the change must make the scenario invalid");
  return formatZodError(prefix, r.error!);
}

Deno.test("issuePath: dots for names, brackets for indices and odd keys", () => {
  assert.equal(issuePath(["machine", "devices", 1, "bar"]), "machine.devices[1].bar");
  assert.equal(issuePath([0, "a"]), "[0].a");
  assert.equal(issuePath(["efr", "Weird key"]), 'efr["Weird key"]');
  assert.equal(issuePath([]), "(top level)");
});

Deno.test("formatZodError: a bad size in a scenario names the path and the value", () => {
  assert.equal(
    scenarioError((s) => (s.machine.devices[1].bar = "0xZZ")),
    'scenario file x.yaml: machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or ' +
      "size like 256M",
  );
  assert.equal(
    scenarioError((s) => (s.machine.sharedGroups[0][1] = "zz"), ""),
    'machine.sharedGroups[0][1]: "zz" is not a PCI address like 01:00.0',
  );
});

Deno.test("formatZodError: zod's generic lead-ins are dropped; missing values say so", () => {
  assert.equal(
    scenarioError((s) => delete s.description, "f"),
    "f: description: missing (expected string)",
  );
  assert.equal(
    scenarioError((s) => (s.machine = 3), "f"),
    "f: machine: expected object, received number",
  );
  assert.equal(
    scenarioError((s) => (s.second.mode = "reboot"), "f"),
    'f: second.mode: expected one of "kdump"|"kexec"',
  );
  assert.equal(
    scenarioError((s) => (s.machine.devices[0].driver.rxRingSize = 5000), "f"),
    "f: machine.devices[0].driver.rxRingSize: expected number to be <=4096",
  );
  assert.equal(
    scenarioError((s) => {
      s.machine.devices = [];
      s.machine.sharedGroups = [];
    }, "f"),
    "f: machine.devices: expected array to have >=1 items",
  );
});

Deno.test("formatZodError: unions, discriminators and unknown keys", () => {
  // Num is number | string: a boolean fails both branches.
  assert.equal(
    scenarioError((s) => (s.machine.devices[2].bar = true), "f"),
    "f: machine.devices[2].bar: expected number or string, received boolean",
  );
  assert.equal(
    scenarioError((s) => (s.machine.devices[1].kind = "gpu"), "f"),
    'f: machine.devices[1].kind: expected one of "nic"|"disk"|"svm"',
  );
  assert.equal(
    scenarioError((s) => (s.machine.devices[2].speed = 1), "f"),
    'f: machine.devices[2]: unknown key "speed"',
  );
  // A union whose branches are objects: the branch that got furthest explains the failure.
  const U = z.union([z.object({ a: z.object({ b: z.number() }) }), z.object({ c: z.string() })]);
  assert.equal(
    formatZodError("u", U.safeParse({ a: { b: "x" } }).error!),
    "u: a.b: expected number, received string",
  );
  // Record keys are validated through nested issues.
  const R = z.object({
    efr: z.record(z.string().regex(/^[A-Z]/, "starts upper-case"), z.number()),
  });
  assert.equal(
    formatIssue(R.safeParse({ efr: { lower: 1 } }).error!.issues[0]),
    "efr.lower: starts upper-case",
  );
});

Deno.test("formatZodError: one line, the first problem, and how many more there are", () => {
  const msg = scenarioError((s) => {
    s.machine.devices[1].bar = "0xZZ";
    s.second.mode = "x";
    s.seed = -1;
  }, "f");
  assert.equal(msg.includes("\n"), false);
  assert.match(msg, /^f: seed: expected number to be >=0 \(and 2 more problems\)$/);
  const one = z.object({ a: z.number(), b: z.number() }).safeParse({ a: 1, b: "x" }).error!;
  assert.equal(formatZodError("", one), "b: expected number, received string");
  const top = z.object({}).safeParse(null).error!;
  assert.equal(formatZodError("p", top), "p: (top level): expected object, received null");
});

Deno.test("formatZodProblems: one line per problem, each with the prefix and its path", () => {
  const s = structuredClone(DEFAULT_SCENARIO) as Loose;
  s.machine.devices[1].bar = "0xZZ";
  s.second.mode = "x";
  s.seed = -1;
  assert.deepEqual(formatZodProblems("f", scenarioSchema.safeParse(s).error!), [
    "f: seed: expected number to be >=0",
    'f: machine.devices[1].bar: "0xZZ" is not a number, 0x… hex value or size like 256M',
    'f: second.mode: expected one of "kdump"|"kexec"',
  ]);
  const top = z.object({}).safeParse(null).error!;
  assert.deepEqual(formatZodProblems("", top), ["(top level): expected object, received null"]);
});
