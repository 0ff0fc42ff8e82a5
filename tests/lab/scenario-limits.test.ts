/** scenario-limits.ts: grouped() writes numbers as toLocaleString("en-US") does. */
import assert from "node:assert/strict";
import { grouped, LIMITS } from "../../runtime/lab/scenario-limits.ts";

Deno.test("grouped: thousands separators as toLocaleString('en-US') writes them (every limit, and more)", () => {
  const values = Object.values(LIMITS).map((l) => l.value);
  values.push(0, 7, 999, 1000, -1234567, 2 ** 53 - 1, 1.5, 12345.678, NaN);
  for (let i = 0; i < 300; i++) values.push(Math.floor((i * 2654435761) % 1e12) - (i % 2) * 5e11);
  for (const v of values) assert.equal(grouped(v), v.toLocaleString("en-US"), String(v));
});
