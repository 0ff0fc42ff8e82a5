/** Colour decisions: NO_COLOR, FORCE_COLOR, a terminal — and not the CI variable. */
import assert from "node:assert/strict";
import { colorLevel } from "../../runtime/cli/colors.ts";

const env = (vars: Record<string, string>) => ({ get: (n: string) => vars[n] });

Deno.test("colours: only on a terminal unless forced; NO_COLOR wins; CI does not turn them on", () => {
  assert.equal(colorLevel(env({}), true), 3);
  assert.equal(colorLevel(env({}), false), 0);
  assert.equal(colorLevel(env({ CI: "true" }), false), 0, "piped output in CI stays plain");
  assert.equal(colorLevel(env({ FORCE_COLOR: "1" }), false), 3);
  assert.equal(
    colorLevel(env({ FORCE_COLOR: "0" }), true),
    3,
    "FORCE_COLOR=0 does not force; the terminal decides",
  );
  assert.equal(colorLevel(env({ NO_COLOR: "1", FORCE_COLOR: "1" }), true), 0);
  assert.equal(colorLevel(env({ NO_COLOR: "" }), true), 3, "an empty NO_COLOR is ignored");
});
