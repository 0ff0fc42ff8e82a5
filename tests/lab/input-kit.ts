/**
 * Shared check for the lab's input errors: bad input is refused with one InputError line.
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
