/** A whole bisect over the series on the default scenario , and ddmin. */
import { bisect, prefixTester, seriesRevisions } from "../../runtime/lab/bisect.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";

Deno.bench("bisect over the series (default)", { group: "bisect" }, async () => {
  const r = await bisect({
    revisions: seriesRevisions(),
    test: prefixTester({ scenario: DEFAULT_SCENARIO }),
  });
  if (r.status !== "found") throw new Error(`bisect ended ${r.status}`);
});
