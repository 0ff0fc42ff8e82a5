/**
 * The HTML views (runtime/html/) as strings: self-contained (nothing fetched), text
 * escaped, stable ids and classes for the timeline, the piecewise time axis, and the matrix
 * and ablation heatmaps from plain data.
 */
import assert from "node:assert/strict";
import {
  type MatrixCell,
  renderAblateHtml,
  renderMatrixHtml,
  renderReportHtml,
  renderReportsHtml,
} from "../../runtime/html/mod.ts";
import { escapeHtml } from "../../runtime/html/kit.ts";
import { intervalWeight, piecewiseScale } from "../../runtime/html/scale.ts";
import { devicesOf, stageSlug, stagesOf } from "../../runtime/html/timeline.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { fakeReport, line } from "../lab/report-kit.ts";

const baseline = run(SCENARIOS.default);
const series = run(SCENARIOS.default, { series: seriesFromSpec("all,bnx2-reset") });

/** Asserts the page loads nothing: no URL, no src/href, no @import or url(). */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /https?:\/\//i, "no http(s) URL anywhere");
  assert.doesNotMatch(html, /\s(?:src|href|xlink:href)\s*=/i, "no src or href attribute");
  assert.doesNotMatch(html, /<link\b|@import|url\(/i, "no stylesheet link, @import or url()");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<meta charset="utf-8">/);
}

/** Every `id="…"` of the page. */
function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
}

/** The element opened by the first match of `open` up to its lane's end (the next lane). */
function laneOf(html: string, device: string): string {
  const start = html.indexOf(`data-device="${device}"`);
  assert.ok(start >= 0, `a lane for ${device}`);
  const next = html.indexOf('<g class="lane', start);
  return html.slice(start, next < 0 ? undefined : next);
}

Deno.test("report page: self-contained, ids unique, deterministic", () => {
  const html = renderReportHtml(baseline);
  assertSelfContained(html);
  const all = ids(html);
  assert.deepEqual(all, [...new Set(all)], "ids are unique");
  for (const id of ["timeline", "verdict", "cause", "counters"]) assert.ok(all.includes(id), id);
  assert.equal(renderReportHtml(run(SCENARIOS.default)), html, "same report, same bytes");
});

Deno.test("report page: header carries verdict, cause and counters", () => {
  const html = renderReportHtml(baseline);
  assert.match(html, /<span id="verdict" class="verdict verdict-dump-corrupt"[^>]*>dump-corrupt</);
  assert.ok(html.includes(escapeHtml(baseline.cause)));
  assert.match(
    html,
    new RegExp(`data-counter="strayWrites"><dt>[^<]*</dt><dd>${baseline.strayWriteCount}</dd>`),
  );
  assert.match(html, /data-counter="faultsSuppressed"><dt>[^<]*<\/dt><dd>32<\/dd>/);
  assert.match(html, /series: none \(the 4\.13 baseline\)/);
});

Deno.test("timeline: kernel and stage bands, the panic, kexec gap and kdump stages", () => {
  const html = renderReportHtml(baseline);
  assert.match(html, /<svg id="timeline" class="timeline"/);
  assert.match(html, /<rect class="band kernel kernel1" data-kernel="kernel1"/);
  assert.match(html, /<rect class="band kernel between" data-kernel="between"/);
  assert.match(html, /<rect class="band kernel kernel2" data-kernel="kernel2"/);
  assert.match(html, /<rect class="band stage kernel1" data-stage="panic"/);
  for (const stage of ["start_kernel", "iommu-enable", "drivers", "running"]) {
    assert.match(html, new RegExp(`class="band stage kernel1" data-stage="${stage}"`), stage);
  }
  for (const stage of ["iommu-prepare", "iommu-enable", "kdump-save-vmcore", "kdump-complete"]) {
    assert.match(html, new RegExp(`class="band stage kernel2" data-stage="${stage}"`), stage);
  }
  for (const m of Object.keys(baseline.timing)) {
    assert.ok(html.includes(`data-milestone="${m}"`), m);
  }
});

Deno.test("timeline: device lanes with stray and fault marks; IOMMU lane with register ticks", () => {
  const html = renderReportHtml(baseline);
  assert.deepEqual(devicesOf(baseline), ["01:00.0", "01:00.1"]);
  const nic1 = laneOf(html, "01:00.1");
  assert.match(nic1, /class="mark stray"/);
  assert.match(nic1, /class="mark fault master-abort"/);
  assert.ok(
    /<title>3 entries:\n[^<]*write 0xbf28b000 → 0xbf28b000 \(iommu-off\) hit kernel1:slab/.test(
      nic1,
    ),
    "merged stray marks list their writes",
  );
  const strayCount = [...nic1.matchAll(/class="mark stray"[^>]*data-count="(\d+)"/g)]
    .reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(strayCount, baseline.strayWrites.length, "every stray write has a mark");
  const nic0 = laneOf(html, "01:00.0");
  assert.match(nic0, /class="mark fault suppressed"/);
  assert.doesNotMatch(nic0, /class="mark stray"/);
  const iommu = html.slice(html.indexOf('data-lane="iommu"'), html.indexOf('data-lane="device"'));
  assert.match(iommu, /class="mark mmio"/);
  assert.match(iommu, /control\[31:0\] &lt;= 0x/);
  assert.match(iommu, /class="mark command"/);

  const fixed = renderReportHtml(series);
  assert.doesNotMatch(fixed, /class="mark stray"/, "the series + bnx2-reset: no stray write");
  assert.doesNotMatch(fixed, /class="mark fault/);
  assert.match(fixed, /id="verdict" class="verdict verdict-dump-ok"/);
});

Deno.test("timeline: dmesg lines in titles with their console timestamps", () => {
  const html = renderReportHtml(baseline);
  const titles = [...html.matchAll(/<rect class="mark dmesg[^"]*"[^>]*><title>([^<]*)<\/title>/g)]
    .map((m) => m[1]).join("\n");
  assert.match(titles, /first kernel \[ {4}0\.431069\] AMD-Vi: Found IOMMU at 0000:00:00\.2/);
  assert.match(titles, /second kernel \[ {4}0\.000350\] do_IRQ: 0\.50 No irq handler for vector/);
  assert.match(titles, /Kernel panic - not syncing: Fatal exception/);
  assert.match(html, /<rect class="mark dmesg emerg"/);
  // every dmesg line is in some title
  for (const d of baseline.dmesg) assert.ok(titles.includes(escapeHtml(d.text)), d.text);
});

Deno.test("escaping: report text cannot inject markup", () => {
  const evil = `<script>alert("x")</script> & 'q'`;
  const r = fakeReport({
    scenario: "evil<b>",
    cause: evil,
    dmesg: [line("kernel1", 1_000, evil)],
    timeline: [
      { t: 0, kind: "stage", kernel: "kernel1", text: "kernel1: start_kernel" },
      { t: 2_000, kind: "stray", kernel: "kernel1", text: evil, device: `01:00.0"><x` },
      { t: 5_000_000, kind: "stage", kernel: "kernel1", text: "panic" },
    ],
  });
  const html = renderReportHtml(r);
  assert.doesNotMatch(html, /<script>alert/);
  assert.doesNotMatch(html, /<b>|"><x/);
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
  assert.ok(html.includes('data-device="01:00.0&quot;&gt;&lt;x"'));
  assert.equal((html.match(/<script>/g) ?? []).length, 1, "only the page's own script");
  assert.equal(escapeHtml(`a<b>&"'`), "a&lt;b&gt;&amp;&quot;&#39;");
});

Deno.test("a skipped report (no timeline, no timing) still renders", () => {
  const r = fakeReport({ verdict: "skipped", timeline: [], timing: {}, dmesg: [] });
  const html = renderReportHtml(r);
  assertSelfContained(html);
  assert.match(html, /<svg id="timeline"/);
  assert.match(html, /verdict-skipped/);
});

Deno.test("two reports stacked: one section each, ids suffixed and unique", () => {
  const html = renderReportsHtml([
    { key: "baseline", label: "4.13 baseline", report: baseline },
    { key: "series", label: "series", report: series },
  ]);
  assertSelfContained(html);
  const all = ids(html);
  assert.deepEqual(all, [...new Set(all)]);
  for (const id of ["timeline-baseline", "timeline-series", "verdict-baseline", "verdict-series"]) {
    assert.ok(all.includes(id), id);
  }
  assert.equal((html.match(/<section class="report"/g) ?? []).length, 2);
  assert.match(html, /id="verdict-baseline" class="verdict verdict-dump-corrupt"/);
  assert.match(html, /id="verdict-series" class="verdict verdict-dump-ok"/);
});

Deno.test("stages are read off the timeline; fault marks carry the recorded fault class", () => {
  const stages = stagesOf(baseline);
  assert.equal(stages[0].slug, "start_kernel");
  const panic = stages.find((s) => s.slug === "panic")!;
  assert.equal(panic.t, baseline.timing.panic);
  assert.equal(panic.end, baseline.timing.kernel2Start, "the panic band spans the kexec gap");
  for (let i = 1; i < stages.length; i++) assert.equal(stages[i - 1].end, stages[i].t);
  assert.equal(stageSlug("kdump: save vmcore"), "kdump-save-vmcore");
  assert.equal(stageSlug("kernel2: iommu-enable"), "iommu-enable");
  // The recorder gives every faulted DMA its class; the marks carry it.
  const faults = baseline.timeline.filter((e) => e.kind === "dma-fault");
  assert.ok(faults.length > 0 && faults.every((e) => e.fault !== undefined));
  const html = renderReportHtml(baseline);
  for (const cls of new Set(faults.map((e) => e.fault))) {
    assert.match(html, new RegExp(`<rect class="mark fault ${cls}"`), `${cls}`);
  }
});

Deno.test("piecewise scale: monotonic, ends fixed, widths by 1 + log10(1 + ms)", () => {
  const s = piecewiseScale([0, 1e6, 1e6, 101e6, 1501e6], 100, 1100);
  assert.deepEqual(s.breaks, [0, 1e6, 101e6, 1501e6]);
  assert.equal(s.x(-5), 100);
  assert.equal(s.x(0), 100);
  assert.equal(s.x(1501e6), 1100);
  assert.equal(s.x(9e9), 1100);
  let last = -Infinity;
  for (let t = 0; t <= 1501e6; t += 7e6) {
    assert.ok(s.x(t) >= last);
    last = s.x(t);
  }
  const w = [1e6, 100e6, 1400e6].map(intervalWeight);
  const total = w[0] + w[1] + w[2];
  assert.ok(Math.abs(s.x(1e6) - (100 + (1000 * w[0]) / total)) < 1e-9);
  assert.ok(Math.abs(s.x(51e6) - (s.x(1e6) + s.x(101e6)) / 2) < 1e-9, "linear inside a piece");
  assert.equal(piecewiseScale([], 0, 10).x(0), 0);
});

/** 16 cells of a 4-patch matrix: dump-ok iff patches a and b are both in. */
function matrixCells(): (MatrixCell & { strays: number })[] {
  const patches = ["a", "b", "c", "d"];
  return Array.from({ length: 16 }, (_, mask) => {
    const ids = patches.filter((_, i) => mask & (1 << i));
    const verdict = ids.includes("a") && ids.includes("b") ? "dump-ok" : "dump-corrupt";
    return { index: mask, mask, ids, verdict, strays: verdict === "dump-ok" ? 0 : 12 };
  });
}

Deno.test("matrix heatmap: a cell per subset by mask, coloured by verdict; patch × verdict", () => {
  const cells = matrixCells();
  const html = renderMatrixHtml({ cells, patches: ["a", "b", "c", "d"], scenario: "default" });
  assertSelfContained(html);
  assert.match(html, /<svg id="matrix-grid"[^>]*data-bits="4"/);
  const grid = [
    ...html.matchAll(/<rect class="cell"[^>]*data-mask="(\d+)" data-verdict="([^"]+)"/g),
  ];
  assert.equal(grid.length, 16);
  assert.deepEqual(grid.map((m) => Number(m[1])), [...Array(16).keys()]);
  assert.match(
    html,
    /data-mask="3" data-verdict="dump-ok"><title>#3 mask 0x3: dump-ok\napplied: a, b\nstrays: 0/,
  );
  // 4 bits: 4 columns (bits 0-1) × 4 rows (bits 2-3); mask 6 = row 1, column 2
  const m6 = /<rect class="cell" x="(\d+)" y="(\d+)" width="(\d+)"[^>]*data-mask="6"/.exec(html)!;
  const m0 = /<rect class="cell" x="(\d+)" y="(\d+)"[^>]*data-mask="0"/.exec(html)!;
  const size = Number(m6[3]);
  assert.equal(Number(m6[1]) - Number(m0[1]), 2 * size);
  assert.equal(Number(m6[2]) - Number(m0[2]), size);
  // patch × verdict: with "a", 4 of 8 subsets are dump-ok
  assert.match(html, /data-patch="a" data-verdict="dump-ok" data-count="4"/);
  assert.match(html, /data-patch="c" data-verdict="dump-ok" data-count="2"/);
  assert.match(html, /<li data-key="dump-ok">.*dump-ok \(4\)<\/li>/);
  assert.match(html, /<li data-key="dump-corrupt">.*dump-corrupt \(12\)<\/li>/);
});

Deno.test("matrix heatmap: the caption names the patches of each axis; placed by index on request", () => {
  const html = renderMatrixHtml({ cells: matrixCells(), patches: ["a", "b", "c", "d"] });
  assert.match(html, /bits 0–1 of the mask \(a, b\); row = bits 2–3 \(c, d\)/);
  const shifted = matrixCells().map((c) => ({ ...c, mask: c.mask << 3 }));
  const byIndex = renderMatrixHtml({ cells: shifted, by: "index", patches: ["a", "b", "c", "d"] });
  assert.match(byIndex, /data-bits="4"/);
  assert.match(byIndex, /bits 0–1 of the index/);
});

Deno.test("ablate heatmap: verdict and counter columns, shaded against the reference", () => {
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
    { id: "copy-dev-tables", verdict: "dump-corrupt", ioPageFaults: 1, strays: 12, badPages: 12 },
    { id: "helper-functions", verdict: "skipped", ioPageFaults: 0, strays: 0, badPages: 0 },
    { id: "nested", verdict: "hang", counters: { strays: 18 } },
  ];
  const html = renderAblateHtml({ rows, reference, scenario: "default" });
  assertSelfContained(html);
  assert.match(html, /<svg id="ablate"/);
  assert.match(html, /data-id="none" data-column="verdict" data-verdict="dump-ok"/);
  assert.match(html, /data-id="copy-dev-tables" data-column="verdict" data-verdict="dump-corrupt"/);
  for (const c of ["ioPageFaults", "strays", "badPages", "counters.strays"]) {
    assert.ok(html.includes(`data-column="${c}"`), c);
  }
  // more strays than the reference: red, the column's largest difference: full colour
  assert.match(
    html,
    /fill="#d62728" data-id="copy-dev-tables" data-column="strays" data-value="12"/,
  );
  assert.match(
    html,
    /fill="#ffffff" data-id="helper-functions" data-column="strays" data-value="0"/,
  );
  assert.match(html, /without copy-dev-tables: strays = 12 \(\+12 vs the reference\)/);
  assert.match(html, /none \(reference\)/);
  const onlyRows = renderAblateHtml({ rows, counters: ["strays"] });
  assert.ok(!onlyRows.includes('data-column="badPages"'));
});
