/**
 * Label placement for plots whose width follows the window (runtime/html/labels.ts): labels
 * placed at one width neither overlap nor leave the plot at any wider one. Property tests
 * use fast-check with the fixed seed printed below.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import {
  LABEL_GAP,
  type LabelSpec,
  placeLabels,
  type Placement,
  tieredLabels,
} from "../../runtime/html/labels.ts";

const SEED = 20171106;
console.log(`labels.test.ts: fast-check seed ${SEED}`);

/** The `[left, right]` of a placed label at plot width `w`. */
function box(s: LabelSpec, p: Placement, w: number): [number, number] {
  const left = s.f * w + p.offset;
  return [left, left + s.width];
}

/** Asserts the placed labels (level ≥ 0) keep apart on each level and inside `[0, w]`. */
function assertClear(specs: readonly LabelSpec[], ps: readonly Placement[], w: number): void {
  const byLevel = new Map<number, [number, number][]>();
  specs.forEach((s, i) => {
    if (ps[i].level < 0) return;
    const [l, r] = box(s, ps[i], w);
    assert.ok(l >= -1e-9 && r <= w + 1e-9, `label ${i} inside [0, ${w}]: ${l}..${r}`);
    for (const [a, b] of byLevel.get(ps[i].level) ?? []) {
      assert.ok(r + LABEL_GAP <= a + 1e-9 || b + LABEL_GAP <= l + 1e-9, `label ${i} overlaps`);
    }
    byLevel.set(ps[i].level, [...(byLevel.get(ps[i].level) ?? []), [l, r]]);
  });
}

const spec = fc.record({
  f: fc.double({ min: 0, max: 1, noNaN: true }),
  width: fc.integer({ min: 5, max: 200 }),
  anchor: fc.constantFrom<LabelSpec["anchor"]>("start", "middle", "end", "either"),
});

Deno.test("labels placed at one width stay apart and inside at every wider one", () => {
  fc.assert(
    fc.property(
      fc.array(spec, { maxLength: 30 }),
      fc.integer({ min: 1, max: 4 }),
      fc.boolean(),
      fc.double({ min: 1, max: 4, noNaN: true }),
      (specs, levels, leaders, grow) => {
        const w = 520;
        const { placements } = placeLabels(specs, w, { levels, leaders });
        assert.equal(placements.length, specs.length);
        for (const p of placements) assert.ok(p.level < levels);
        assertClear(specs, placements, w);
        assertClear(specs, placements, w * grow);
      },
    ),
    { seed: SEED, numRuns: 300 },
  );
});

Deno.test("with unlimited levels every label is placed; with one, the first always is", () => {
  fc.assert(
    fc.property(fc.array(spec, { minLength: 1, maxLength: 25 }), (specs) => {
      const all = placeLabels(specs, 520, { levels: Infinity, leaders: true }).placements;
      assert.ok(all.every((p) => p.level >= 0));
      const one = placeLabels(specs, 520).placements;
      assert.ok(one[0].level === 0 || specs[0].width > 520);
    }),
    { seed: SEED, numRuns: 200 },
  );
});

Deno.test("tiers: tier 0 holds from the narrow width, tier 0 + 1 from the wide one", () => {
  fc.assert(
    fc.property(fc.array(spec, { maxLength: 30 }), fc.integer({ min: 1, max: 2 }), (specs, lv) => {
      const tiers = tieredLabels(specs, 520, 1000, lv);
      const only = (max: number) =>
        tiers.map((t) =>
          t.tier >= 0 && t.tier <= max ? t.placement : { ...t.placement, level: -1 }
        );
      assertClear(specs, only(0), 520);
      assertClear(specs, only(0), 760);
      assertClear(specs, only(1), 1000);
      assertClear(specs, only(1), 1800);
    }),
    { seed: SEED, numRuns: 200 },
  );
});

Deno.test("a label near the right end hangs to the left of its point; leaders avoid texts", () => {
  const [p] = placeLabels([{ f: 1, width: 50, anchor: "start" }], 500).placements;
  assert.equal(p.anchor, "end");
  assert.ok(p.offset <= -50);
  // three labels close together, right to left: a staircase; no leader crosses a text
  const specs: LabelSpec[] = [0.3, 0.32, 0.34].map((f) => ({ f, width: 60, anchor: "start" }));
  const ps = placeLabels([...specs].reverse(), 520, { levels: Infinity, leaders: true })
    .placements.reverse();
  assert.deepEqual(ps.map((x) => x.level), [2, 1, 0]);
  specs.forEach((s, i) => {
    const x = s.f * 520;
    specs.forEach((o, j) => {
      if (ps[j].level >= ps[i].level) return; // only texts below i's label
      const [a, b] = box(o, ps[j], 520);
      assert.ok(x < a || x > b, `leader ${i} crosses label ${j}`);
    });
  });
});
