/**
 * Shared checks for the lab's input errors: bad input is refused with an InputError, one line
 * per problem.
 */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";

/**
 * The message of the InputError `fn` throws (sync or async). Fails when it throws something
 * else, nothing, or a message of more than one line.
 */
export async function inputError(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    assert.equal(e.message.includes("\n"), false, "one line");
    return e.message;
  }
  assert.fail("expected an InputError, nothing was thrown");
}

/**
 * The problems of the InputError `fn` throws (sync or async), one line each. Fails when it
 * throws something else, nothing, or a problem of more than one line.
 */
export async function inputErrors(fn: () => unknown): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${e}`);
    for (const p of e.problems) assert.equal(p.includes("\n"), false, "one line per problem");
    assert.equal(e.message, e.problems.join("\n"));
    return [...e.problems];
  }
  assert.fail("expected an InputError, nothing was thrown");
}
