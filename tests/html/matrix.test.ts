/**
 * The matrix page (runtime/html/matrix.ts): the sets that ran, grouped by outcome, each
 * group a picture of patches × sets with shares; the skipped sets counted by reason; the
 * counts in the heading are what ran and what was skipped.
 */
import assert from "node:assert/strict";
import { type MatrixCell, renderMatrixHtml } from "../../runtime/html/mod.ts";
import { outcomeGroups } from "../../runtime/html/matrix.ts";
import { assertIdsUnique, assertSelfContained } from "./kit.ts";

const PATCHES = ["a", "b", "c", "d"];

/**
 * The 16 subsets of 4 patches, "d requires c": sets with d but not c are skipped; the rest
 * dump-ok iff a and b are both in, else dump-corrupt with 12 or 18 bad pages (18 with c).
 */
function matrixCells(): (MatrixCell & { strays: number })[] {
  return Array.from({ length: 16 }, (_, mask) => {
    const ids = PATCHES.filter((_, i) => mask & (1 << i));
    if (ids.includes("d") && !ids.includes("c")) {
      return {
        index: mask,
        mask,
        ids,
        verdict: "skipped",
        cause: "would not build: d requires c",
        strays: 0,
      };
    }
    const ok = ids.includes("a") && ids.includes("b");
    const bad = ids.includes("c") ? 18 : 12;
    return {
      index: mask,
      mask,
      ids,
      verdict: ok ? "dump-ok" : "dump-corrupt",
      cause: ok ? "all pages match" : `${bad} page(s) of the dump differ`,
      strays: ok ? 0 : bad,
    };
  });
}

/** The `<figure class="outcome">` of a verdict and its set count. */
function figure(html: string, verdict: string, sets: number): string {
  const start = html.indexOf(
    `<figure class="outcome" data-verdict="${verdict}" data-sets="${sets}"`,
  );
  assert.ok(start >= 0, `a ${verdict} figure of ${sets} sets`);
  return html.slice(start, html.indexOf("</figure>", start));
}

Deno.test("matrix page: self-contained, deterministic; the heading counts what ran and what was skipped", () => {
  const input = {
    cells: matrixCells(),
    patches: PATCHES,
    scenario: "default",
    with: ["x"],
    seed: 3,
  };
  const html = renderMatrixHtml(input);
  assertSelfContained(html);
  assertIdsUnique(html);
  assert.equal(renderMatrixHtml(input), html, "same input, same bytes");
  assert.match(html, /<section class="matrix" data-sets="16" data-ran="12" data-skipped="4">/);
  assert.match(html, /<h2>Matrix on default: 16 patch sets, 12 ran, 4 skipped<\/h2>/);
  assert.match(html, /applied in every run: x; seed 3/);
  assert.match(html, /<li data-key="dump-ok">.*dump-ok \(3\)<\/li>/);
  assert.match(html, /<li data-key="dump-corrupt">.*dump-corrupt \(9\)<\/li>/);
  assert.match(html, /<li data-key="skipped">.*skipped \(4\)<\/li>/);
  assert.doesNotMatch(html, /data-verdict="skipped"/, "no skipped set is drawn");
});

Deno.test("matrix page: a figure per outcome (verdict, cause), a column per set, a share per patch", () => {
  const html = renderMatrixHtml({ cells: matrixCells(), patches: PATCHES });
  const groups = outcomeGroups(matrixCells());
  assert.deepEqual(
    groups.map((g) => [g.verdict, g.cause, g.cells.map((c) => c.mask)]),
    [
      ["dump-ok", "all pages match", [3, 7, 15]],
      ["dump-corrupt", "18 page(s) of the dump differ", [4, 5, 6, 12, 13, 14]],
      ["dump-corrupt", "12 page(s) of the dump differ", [0, 1, 2]],
    ],
    "by verdict, then the larger cause first; fewest patches first",
  );
  const ok = figure(html, "dump-ok", 3);
  const sets = [
    ...ok.matchAll(/<rect class="cell set"[^>]*data-mask="(\d+)" data-verdict="dump-ok"/g),
  ]
    .map((m) => Number(m[1]));
  assert.deepEqual(sets, [3, 7, 15], "a column per set, in the group's order");
  assert.match(
    ok,
    /data-mask="3" data-verdict="dump-ok"><title>#3 mask 0x3: dump-ok\napplied: a, b\ncause: all pages match\nstrays: 0/,
  );
  // shares: a and b in all of them, c in 2 of 3, d in 1
  assert.match(ok, /data-patch="a" data-count="3">all</);
  assert.match(ok, /data-patch="c" data-count="2">2\/3</);
  assert.match(ok, /data-patch="d" data-count="1">1\/3</);
  assert.equal((ok.match(/class="dot on"/g) ?? []).length, 2 + 3 + 4, "a bar per applied patch");
  assert.match(ok, /smallest: a, b \(2\)/);
  // the 12-page group never applies c; its smallest set is the baseline
  const twelve = figure(html, "dump-corrupt", 3);
  assert.match(twelve, /12 page\(s\) of the dump differ/);
  assert.match(twelve, /data-patch="c" data-count="0">none</);
  assert.match(twelve, /smallest: none \(the 4\.13 baseline\)/);
});

Deno.test("matrix page: the skipped sets are counted by reason, not drawn", () => {
  const cells = [
    ...matrixCells(),
    { index: 16, mask: 16, ids: ["e"], verdict: "skipped", cause: "would not build: e requires a" },
  ];
  const html = renderMatrixHtml({ cells, patches: PATCHES });
  assert.match(html, /<h3>5 sets were skipped: they would not build<\/h3>/);
  assert.match(html, /<tr data-reason="d requires c" data-count="4">/);
  assert.match(html, /<tr data-reason="e requires a" data-count="1">/);
  assert.ok(
    html.indexOf('data-reason="d requires c"') < html.indexOf('data-reason="e requires a"'),
  );
});

Deno.test("matrix page: a large group draws its first sets in blocks that fit 800 px and counts the rest", () => {
  const patches = Array.from({ length: 10 }, (_, i) => `patch-${i}`);
  const cells: MatrixCell[] = Array.from({ length: 1024 }, (_, mask) => ({
    index: mask,
    mask,
    ids: patches.filter((_, i) => mask & (1 << i)),
    verdict: "hang",
  }));
  const html = renderMatrixHtml({ cells, patches });
  assert.equal((html.match(/<rect class="cell set"/g) ?? []).length, 147);
  assert.match(html, /The first 147 of 1024 sets are drawn \(fewest patches first\)/);
  for (const m of html.matchAll(/<svg class="sets" width="(\d+)"/g)) assert.ok(Number(m[1]) <= 760);
});

Deno.test("matrix page: beyond six causes per verdict the smaller ones are merged", () => {
  const cells: MatrixCell[] = Array.from({ length: 9 }, (_, i) => ({
    index: i,
    mask: i,
    ids: [],
    verdict: "hang",
    cause: `cause ${i % 8}`,
  }));
  const groups = outcomeGroups(cells);
  assert.equal(groups.length, 6);
  assert.deepEqual(groups[0].cells.map((c) => c.index), [0, 8]);
  assert.equal(groups[5].cause, "3 other causes");
  assert.equal(groups.reduce((n, g) => n + g.cells.length, 0), 9);
});
