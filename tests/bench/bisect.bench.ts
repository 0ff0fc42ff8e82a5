/** A whole bisect over the series on the default scenario (with bnx2-reset), and ddmin. */
import { bisect, prefixTester, seriesRevisions } from "../../runtime/lab/bisect.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";

Deno.bench("bisect over the series (default, --with bnx2-reset)", { group: "bisect" }, async () => {
  const r = await bisect({
    revisions: seriesRevisions(),
    test: prefixTester({ scenario: DEFAULT_SCENARIO, with: ["bnx2-reset"] }),
  });
  if (r.status !== "found") throw new Error(`bisect ended ${r.status}`);
});
