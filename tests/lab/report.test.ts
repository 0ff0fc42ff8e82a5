/**
 * makeReport (runtime/lab/report.ts) builds what `ReportSchema.parse` would: for every
 * built-in scenario × seeds 1–3 × series none and all, a plugin error and a skipped run, the
 * schema accepts the report and gives back the same JSON, key for key in the same order.
 */
import assert from "node:assert/strict";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { makeReport, type Report, ReportSchema } from "../../runtime/lab/report.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { definePlugin } from "../../runtime/plugin/mod.ts";

function sameAsParsed(r: Report, what: string): void {
  const parsed = ReportSchema.parse(JSON.parse(JSON.stringify(r)));
  assert.equal(JSON.stringify(r, null, 2), JSON.stringify(parsed, null, 2), what);
}

Deno.test("makeReport: every built-in scenario's report is what the schema makes of it (seeds 1-3, none and all)", () => {
  const all = seriesFromSpec("all");
  let n = 0;
  for (const [name, s] of Object.entries(SCENARIOS)) {
    for (const seed of [1, 2, 3]) {
      for (const series of [undefined, all]) {
        sameAsParsed(run(s, { seed, series }), `${name} seed ${seed} ${series ? "all" : "none"}`);
        n++;
      }
    }
  }
  assert.equal(n, Object.keys(SCENARIOS).length * 6);
});

Deno.test("makeReport: a plugin error and a skipped run too; fields are copies, key order is the schema's", () => {
  const boom = definePlugin({
    id: "boom",
    title: "test: throws in the kdump kernel's init_iommu_one",
    hooks: {
      "amd_iommu.init_iommu_one": ({ k }) => {
        if (k.is_kdump_kernel()) throw new Error("kaboom");
      },
    },
  });
  const failed = run(SCENARIOS.default, { series: seriesFromSpec("all").insert(boom) });
  assert.equal(failed.verdict, "plugin-error");
  sameAsParsed(failed, "plugin error");
  const skipped = run(SCENARIOS.default, {
    series: seriesFromSpec("all").disable("helper-functions"),
  });
  assert.equal(skipped.verdict, "skipped");
  sameAsParsed(skipped, "skipped");
  // Given in another order, with an extra field: the schema's order, the extra left out.
  const fields = { ...skipped, extra: 1 } as Report & { extra: number };
  const reordered = Object.fromEntries(Object.entries(fields).reverse()) as typeof fields;
  const made = makeReport(reordered);
  assert.deepEqual(Object.keys(made), Object.keys(skipped));
  assert.equal(JSON.stringify(made), JSON.stringify(skipped));
  assert.notEqual(made.timeline, skipped.timeline, "arrays are copies");
  const { missing: _, ...withoutMissing } = skipped;
  assert.deepEqual(makeReport(withoutMissing).missing, [], "missing defaults to []");
});
