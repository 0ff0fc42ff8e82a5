/**
 * A whole bisect over the series on the default scenario: one seed per
 * bisect. The printed line gives the median over seeds 1–10 (the target: ≤ 15 ms per
 * seed).
 */
import { bisect, prefixTester, seriesRevisions } from "../../runtime/lab/bisect.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { figure, median, ms } from "./measure.ts";

/** One bisect; with the scenario's own seed it must find the first good patch. */
async function once(seed?: number): Promise<void> {
  const r = await bisect({
    revisions: seriesRevisions(),
    test: prefixTester({ scenario: DEFAULT_SCENARIO, seed }),
  });
  // Other seeds may end otherwise (both ends agree, say): the time is measured all the same.
  if (seed === undefined && r.status !== "found") throw new Error(`bisect ended ${r.status}`);
}

const times: number[] = [];
for (let round = 0; round < 2; round++) {
  for (let seed = 1; seed <= 10; seed++) {
    const s = performance.now();
    await once(seed);
    if (round) times.push(performance.now() - s);
  }
}
figure("bisect over the series, per seed (median over seeds 1-10)", ms(median(times)));

// An async function, not an arrow returning a Promise: Deno's bench awaits only functions
// declared async (it tells them apart by their kind, not by what they return), so the arrow
// timed the bisect's first synchronous stretch alone (~8 ms against ~35 ms awaited).
Deno.bench("bisect over the series (default)", { group: "bisect" }, async () => {
  await once();
});
