/** The ablation page (runtime/html/ablate.ts): a table shaded against the reference run. */
import assert from "node:assert/strict";
import { renderAblateHtml } from "../../runtime/html/mod.ts";
import { assertIdsUnique, assertSelfContained } from "./kit.ts";

const reference = {
  id: "none",
  verdict: "dump-ok",
  title: "the whole series",
  ioPageFaults: 0,
  strays: 0,
  badPages: 0,
  lines: ["Copied DEV table from previous kernel."],
};
const rows = [
  {
    id: "copy-dev-tables",
    verdict: "dump-corrupt",
    title: "iommu/amd: Add function copy_dev_tables()",
    ioPageFaults: 1,
    strays: 12,
    badPages: 12,
    changes: ["stray DMA writes 0 → 12", "bad dump pages 0 → 12"],
  },
  {
    id: "helper-functions",
    verdict: "skipped",
    ioPageFaults: 0,
    strays: 0,
    badPages: 0,
    changes: ["would not build: needed by copy-old-trans-table"],
  },
  { id: "dev-table-below-4g", verdict: "dump-ok", ioPageFaults: 0, strays: 0, badPages: 0 },
  { id: "nested", verdict: "hang", counters: { strays: 18 } },
];

Deno.test("ablate page: verdict and counter columns, shaded against the reference", () => {
  const html = renderAblateHtml({ rows, reference, scenario: "default" });
  assertSelfContained(html);
  assertIdsUnique(html);
  assert.match(html, /<table id="ablate" class="ablate">/);
  assert.match(html, /data-id="none" data-column="verdict" data-verdict="dump-ok"/);
  assert.match(html, /data-id="copy-dev-tables" data-column="verdict" data-verdict="dump-corrupt"/);
  for (const c of ["ioPageFaults", "strays", "badPages", "counters.strays"]) {
    assert.ok(html.includes(`data-column="${c}"`), c);
  }
  // more strays than the reference: red, the column's largest difference: full colour
  assert.match(
    html,
    /data-id="copy-dev-tables" data-column="strays" data-value="12" style="background:#d62728" title="without copy-dev-tables: strays = 12 \(\+12 vs the reference\)">12</,
  );
  assert.match(
    html,
    /data-id="dev-table-below-4g" data-column="strays" data-value="0" style="background:#ffffff"/,
  );
  assert.match(html, /<code>none \(reference\)<\/code>/);
  const onlyRows = renderAblateHtml({ rows, counters: ["strays"] });
  assert.ok(!onlyRows.includes('data-column="badPages"'));
  // camelCase headings may break between words
  assert.match(html, /<th title="ioPageFaults">io<wbr>Page<wbr>Faults<\/th>/);
});

Deno.test("ablate page: a skipped row did not run — no values; title and changes under the id", () => {
  const html = renderAblateHtml({ rows, reference });
  const skipped = html.slice(html.indexOf('<tr data-id="helper-functions">'));
  const row = skipped.slice(0, skipped.indexOf("</tr>"));
  assert.doesNotMatch(row, /data-value=/, "no counter value for a run that did not happen");
  assert.match(row, /title="without helper-functions: skipped, not run">—</);
  assert.match(row, /<div class="sub">would not build: needed by copy-old-trans-table<\/div>/);
  assert.match(
    html,
    /<code>copy-dev-tables<\/code><div class="sub">iommu\/amd: Add function copy_dev_tables\(\)<\/div><div class="changes">stray DMA writes 0 → 12; bad dump pages 0 → 12<\/div>/,
  );
  assert.match(html, /<li data-key="skipped">.*skipped \(1\)<\/li>/);
});
