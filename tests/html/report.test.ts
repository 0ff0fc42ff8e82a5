/**
 * The report pages (runtime/html/report.ts, timeline.ts) as strings: self-contained, text
 * escaped, stable ids and classes for the timeline, labelled milestones and stages, and the
 * comparison page's shared time axis.
 */
import assert from "node:assert/strict";
import { renderReportHtml, renderReportsHtml } from "../../runtime/html/mod.ts";
import { escapeHtml, PLOT_MIN, SMALL_FONT, textWidth } from "../../runtime/html/kit.ts";
import { devicesOf, stageSlug, stagesOf } from "../../runtime/html/timeline.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { fakeReport, line } from "../lab/report-kit.ts";
import { assertIdsUnique, assertSelfContained, ids } from "./kit.ts";

const baseline = run(SCENARIOS.default);
const series = run(SCENARIOS.default, { series: seriesFromSpec("all") });
/** The series with the older bnx2 (no kdump wait): its drivers finish probing ~2 ms earlier. */
const olderBnx2 = run(SCENARIOS.default, { series: seriesFromSpec("all,bnx2-no-kdump-wait") });

/** The element opened by the lane of `device` (optionally of run `key`) up to the next lane. */
function laneOf(html: string, device: string, key?: string): string {
  const run = key === undefined ? "" : `data-run="${key}"[^>]*`;
  const start = html.search(new RegExp(`data-device="${device}" ${run}`));
  assert.ok(start >= 0, `a lane for ${device}`);
  const next = html.indexOf('<g class="lane', start);
  return html.slice(start, next < 0 ? undefined : next);
}

/** `[x%, dx]` of every `<text class="…cls…">`, with its text. */
function texts(html: string, cls: string): { f: number; dx: number; y: number; text: string }[] {
  const re = new RegExp(
    `<text class="[^"]*\\b${cls}\\b[^"]*" x="([\\d.]+)%"(?: dx="(-?[\\d.]+)")? y="([\\d.]+)"[^>]*>([^<]*)`,
    "g",
  );
  return [...html.matchAll(re)].map((m) => ({
    f: Number(m[1]) / 100,
    dx: Number(m[2] ?? 0),
    y: Number(m[3]),
    text: m[4],
  }));
}

Deno.test("report page: self-contained, ids unique, deterministic", () => {
  const html = renderReportHtml(baseline);
  assertSelfContained(html);
  assertIdsUnique(html);
  for (const id of ["timeline", "verdict", "cause", "counters"]) assert.ok(ids(html).includes(id));
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
  assert.equal(baseline.faultsSuppressed, 1);
  assert.match(html, /data-counter="faultsSuppressed"><dt>[^<]*<\/dt><dd>1<\/dd>/);
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
});

Deno.test("timeline: the plot is positioned in percentages, its text in pixels (no viewBox)", () => {
  const html = renderReportHtml(baseline);
  const svg = /<svg id="timeline"[^>]*>/.exec(html)![0];
  assert.doesNotMatch(svg, /viewBox/, "the plot is not scaled");
  assert.doesNotMatch(svg, /\swidth=/, "its width is the CSS's (100% of the plot column)");
  assert.match(html, /<svg class="tl-gutter" width="\d+"/, "lane names in a fixed-width gutter");
  const bands = [...html.matchAll(/<rect class="band stage[^>]* x="([\d.]+)%"/g)];
  assert.equal(bands.length, stagesOf(baseline).length);
  for (const [, x] of bands) assert.ok(Number(x) >= 0 && Number(x) <= 100);
  // a mark is centred on its time: x = its time's position, shifted back half its width
  assert.match(
    html,
    /<rect class="mark stray" x="[\d.]+%" y="[\d.]+" width="3" height="[\d.]+" transform="translate\(-1\.5\)"/,
  );
});

Deno.test("timeline: every milestone is a dashed line with its name written above the lanes", () => {
  const html = renderReportHtml(baseline);
  const labels = texts(html, "milestone-label");
  assert.equal(labels.length, Object.keys(baseline.timing).length);
  for (const [name, t] of Object.entries(baseline.timing)) {
    assert.ok(html.includes(`<line class="milestone hover" data-milestone="${name}"`), name);
    const label = new RegExp(
      `<text class="milestone-label[^"]*" x="([\\d.]+)%"[^>]*data-milestone="${name}">` +
        `${name.split(".").at(-1)}<title>[^<]*${(t / 1e6).toFixed(3)} ms`,
    );
    assert.match(html, label, `the label of ${name}, with its time in the title`);
  }
  // placed for the narrowest plot: no two labels on one row overlap there, none leaves it
  const rows = new Map<number, [number, number][]>();
  for (const l of labels) {
    const left = l.f * PLOT_MIN + l.dx, right = left + textWidth(l.text, SMALL_FONT);
    assert.ok(left >= 0 && right <= PLOT_MIN + 0.01, `${l.text} inside the plot`);
    for (const [a, b] of rows.get(l.y) ?? []) {
      assert.ok(right <= a || b <= left, `${l.text} overlaps a label on its row`);
    }
    rows.set(l.y, [...(rows.get(l.y) ?? []), [left, right]]);
  }
});

Deno.test("timeline: stage names under the stage rows, three rows, none overlapping at the narrowest plot", () => {
  const html = renderReportHtml(baseline);
  const names = texts(html, "stage-name");
  for (const n of ["iommu-enable", "iommu-prepare", "drivers", "panic", "start_kernel"]) {
    assert.ok(names.some((x) => x.text === n), `stage ${n} is named`);
  }
  const shown = texts(html.replace(/<g class="hover wide"[\s\S]*?<\/g>/g, ""), "stage-name");
  assert.ok(shown.length >= 8, `${shown.length} names shown at every width`);
  const rows = new Set(shown.map((n) => n.y));
  assert.ok(rows.size <= 3);
  for (const y of rows) {
    const row = shown.filter((n) => n.y === y)
      .map((n) => [n.f * PLOT_MIN + n.dx, n.f * PLOT_MIN + n.dx + textWidth(n.text, SMALL_FONT)])
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < row.length; i++) assert.ok(row[i - 1][1] <= row[i][0], `row ${y}`);
  }
});

Deno.test("timeline: device lanes with stray and fault marks; IOMMU lanes with register ticks", () => {
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
  const regs = html.slice(
    html.indexOf('data-lane="iommu-regs"'),
    html.indexOf('data-lane="iommu-cmds"'),
  );
  assert.match(regs, /class="mark mmio"/);
  assert.match(regs, /control\[31:0\] &lt;= 0x/);
  assert.match(
    html,
    /data-lane="iommu-cmds"[^>]*><rect class="lane-bg"[^>]*\/><rect class="mark command"/,
  );

  const fixed = renderReportHtml(series);
  assert.doesNotMatch(fixed, /class="mark stray"/, "the series: no stray write");
  assert.doesNotMatch(fixed, /class="mark fault/);
  assert.match(fixed, /id="verdict" class="verdict verdict-dump-ok"/);
});

Deno.test("timeline: dmesg lines in titles with their console timestamps", () => {
  const html = renderReportHtml(baseline);
  const titles = [...html.matchAll(/<rect class="mark dmesg[^"]*"[^>]*><title>([^<]*)<\/title>/g)]
    .map((m) => m[1]).join("\n");
  assert.match(titles, /first kernel \[ {4}0\.441078\] AMD-Vi: Found IOMMU at 0000:00:00\.2/);
  assert.match(titles, /second kernel \[ {4}0\.000335\] do_IRQ: 0\.67 No irq handler for vector/);
  assert.match(titles, /Kernel panic - not syncing: Fatal exception/);
  assert.match(html, /<rect class="mark dmesg emerg"/);
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
  assert.doesNotMatch(html, /class="milestone(-label)? /, "no milestone drawn");
});

Deno.test("two reports compared: headers side by side, one timeline, a row per run in each lane", () => {
  const html = renderReportsHtml([
    { key: "baseline", label: "4.13 baseline", tag: "4.13", report: baseline },
    { key: "series", label: "series", tag: "series", report: series },
  ]);
  assertSelfContained(html);
  assertIdsUnique(html);
  for (const id of ["timeline", "verdict-baseline", "verdict-series", "counters-series"]) {
    assert.ok(ids(html).includes(id), id);
  }
  assert.equal((html.match(/<svg id="timeline"/g) ?? []).length, 1, "one timeline");
  assert.match(
    html,
    /<div class="runs"><section class="run" data-key="baseline"[\s\S]*<section class="run" data-key="series"/,
  );
  assert.match(html, /id="verdict-baseline" class="verdict verdict-dump-corrupt"/);
  assert.match(html, /id="verdict-series" class="verdict verdict-dump-ok"/);
  // each lane: the baseline's row, then the series' row right under it
  for (const lane of ["dmesg", "iommu-regs", "iommu-cmds"]) {
    const rows = [...html.matchAll(new RegExp(`data-lane="${lane}" data-run="(\\w+)"`, "g"))];
    assert.deepEqual(rows.map((m) => m[1]), ["baseline", "series"], lane);
  }
  assert.match(laneOf(html, "01:00.1", "baseline"), /class="mark stray"/);
  assert.doesNotMatch(laneOf(html, "01:00.1", "series"), /class="mark stray"/);
  // the rows are tagged in the gutter, and every mark's title names its run
  assert.match(html, /<text class="run-tag hover"[^>]*>4\.13</);
  assert.match(html, /<text class="run-tag hover"[^>]*>series</);
  assert.match(html, /<rect class="mark stray"[^>]*><title>\[4\.13\]/);
});

Deno.test("two reports compared: one time scale, so the same time is at the same x in both", () => {
  const html = renderReportsHtml([
    { key: "baseline", label: "a", report: baseline },
    { key: "series", label: "b", report: olderBnx2 },
  ]);
  // both panic at nearly the same time: their panic bands start at nearly the same x
  const panics = [...html.matchAll(/data-stage="panic"[^>]* x="([\d.]+)%"/g)].map((m) =>
    Number(m[1])
  );
  assert.equal(panics.length, 2);
  assert.ok(Math.abs(panics[0] - panics[1]) < 0.2, `${panics}`);
  // a milestone the runs reach 2 ms apart has a line per run; one they share has one line
  const probed = [
    ...html.matchAll(
      /<line class="milestone hover" data-milestone="kernel2\.driversProbed" data-run="(\w+)"/g,
    ),
  ];
  assert.deepEqual(probed.map((m) => m[1]), ["baseline", "series"]);
  assert.ok(
    Math.abs(olderBnx2.timing["kernel2.driversProbed"] - baseline.timing["kernel2.driversProbed"]) >
      1e6,
  );
  assert.equal((html.match(/data-milestone="panic"/g) ?? []).length, 2, "one line, one label");
  assert.equal(
    (html.match(/<text class="milestone-label[^>]*data-milestone="kernel2\.driversProbed"/g) ??
      []).length,
    1,
    "one label per milestone",
  );
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
  const faults = baseline.timeline.filter((e) => e.kind === "dma-fault");
  assert.ok(faults.length > 0 && faults.every((e) => e.fault !== undefined));
  const html = renderReportHtml(baseline);
  for (const cls of new Set(faults.map((e) => e.fault))) {
    assert.match(html, new RegExp(`<rect class="mark fault ${cls}"`), `${cls}`);
  }
});
