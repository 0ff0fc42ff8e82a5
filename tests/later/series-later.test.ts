/**
 * `--series later` and `all,later`: the later fixes are patches like the twelve — bisect steps
 * through them after the series (prefix 13 is sme-remap-devtab), matrix toggles them, and a
 * search's patch list comes from the spec without loading anything.
 */
import assert from "node:assert/strict";
import { specPatchIds } from "../../runtime/lab/probe.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { lab, LATER, ok } from "../cli/lab-kit.ts";

/** The later fixes, in upstream order. */
Deno.test("specPatchIds: the patches a spec names, in upstream order, without --with and --disable", () => {
  assert.deepEqual(specPatchIds("all"), seriesIds());
  assert.deepEqual(specPatchIds("all,later"), [...seriesIds(), ...LATER]);
  assert.deepEqual(specPatchIds("later,detect-pre-enabled"), ["detect-pre-enabled", ...LATER]);
  assert.deepEqual(
    specPatchIds("all,later,bnx2-no-kdump-wait", [], ["helper-functions"]).length,
    11 + LATER.length,
  );
  assert.deepEqual(specPatchIds("all,later", ["flush-old-domains"]), [
    ...seriesIds(),
    ...LATER.filter((id) => id !== "flush-old-domains"),
  ]);
});

Deno.test("bisect --series all,flush-old-domains --seeds 5: thirteen commits, the later fix the newest; the answer is the series' own", async () => {
  const res = JSON.parse(
    ok(
      await lab([
        "bisect",
        "--series",
        "all,flush-old-domains",
        "--seeds",
        "5",
        "--json",
        "--quiet",
      ]),
      "bisect",
    ).stdout,
  );
  const newest = res.steps.find((s: { prefix: number }) => s.prefix === 13);
  assert.equal(newest.id, "flush-old-domains");
  assert.equal(newest.verdict, "dump-ok:5/5");
  assert.equal(res.first, "disable-only-if-off");
});

Deno.test("bisect --scenario snp-host --series all,later --run dump-completes: the first commit that gets a vmcore onto the disk is snp-reuse-devtab", async () => {
  const script = new URL("../fixtures/later/dump-completes.ts", import.meta.url).pathname;
  const res = JSON.parse(
    ok(
      await lab([
        "bisect",
        "--scenario",
        "snp-host",
        "--series",
        "all,later",
        "--seeds",
        "3",
        "--run",
        script,
        "--json",
        "--quiet",
      ]),
      "bisect",
    ).stdout,
  );
  // 20 commits: the twelve, then the later fixes in upstream order; every one before the
  // reuse hangs or panics (no vmcore).
  assert.equal(
    res.steps.find((s: { prefix: number }) => s.prefix === 20).id,
    "preserve-domain-ids",
  );
  assert.equal(res.first, "snp-reuse-devtab");
  assert.equal(res.firstPrefix, 17);
});

Deno.test("matrix toggles a later fix: each run is run() with that set, seeds 1-3", async () => {
  const chain = [
    "detect-pre-enabled",
    "helper-functions",
    "dte-bit-fields",
    "copy-dev-tables",
    "copy-old-trans-table",
  ];
  const out = ok(
    await lab([
      "matrix",
      "--patches",
      "disable-only-if-off,flush-old-domains",
      "--with",
      chain.join(","),
      "--seeds",
      "3",
      "--jsonl",
      "--quiet",
    ]),
    "matrix",
  );
  const lines = out.stdout.trimEnd().split("\n").slice(1).map((l) => JSON.parse(l));
  assert.equal(lines.length, 12);
  assert.ok(lines.some((l) => l.ids.includes("flush-old-domains")));
  for (const l of lines) {
    const r = run(SCENARIOS.default, {
      series: seriesFromSpec([...chain, ...l.ids].join(",")),
      seed: l.seed,
    });
    assert.equal(l.verdict, r.verdict, `${l.ids} seed ${l.seed}`);
    assert.equal(l.strayWriteCount, r.strayWriteCount);
  }
});
