/**
 * The bounded tables behind the DTE cache and the IOTLB (runtime/hw/iommu/fifo-table.ts):
 * oldest-first eviction, removal, the remembered last lookup, and clear() as a generation
 * bump — against a plain model (an insertion-ordered Map) over random operations (fast-check,
 * fixed seed printed below).
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { FifoTable } from "../../../runtime/hw/iommu/fifo-table.ts";

const SEED = 0xf1f0;
console.log(`iommu/fifo-table.test.ts: fast-check seed ${SEED}`);

Deno.test("FifoTable: a removed or cleared key is not found through the remembered lookup", () => {
  const t = new FifoTable(2);
  const s = t.add(1, 10);
  assert.equal(t.find(1, 10), s);
  t.remove(s);
  assert.equal(t.find(1, 10), -1, "removed");
  const s2 = t.add(2, 20); // reuses the slot
  assert.equal(s2, s);
  assert.equal(t.find(1, 10), -1, "the slot holds another key now");
  assert.equal(t.find(2, 20), s2);
  t.clear();
  assert.equal(t.find(2, 20), -1, "cleared");
  assert.equal(t.size, 0);
  assert.deepEqual(t.slots(), []);
});

type Op = { op: "add" | "remove"; a: number; b: number } | { op: "clear" };

Deno.test("FifoTable: agrees with an insertion-ordered map that evicts its oldest key", () => {
  const key = fc.record({ a: fc.nat(3), b: fc.oneof(fc.nat(6), fc.constant(2 ** 40 + 3)) });
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: key.map((k) => ({ op: "add" as const, ...k })) },
    { weight: 3, arbitrary: key.map((k) => ({ op: "remove" as const, ...k })) },
    { weight: 1, arbitrary: fc.constant({ op: "clear" as const }) },
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 60 }), (cap, ops) => {
      const t = new FifoTable(cap);
      const model = new Map<string, [number, number]>();
      for (const o of ops) {
        if (o.op === "clear") {
          t.clear();
          model.clear();
          continue;
        }
        const id = `${o.a}/${o.b}`;
        const s = t.find(o.a, o.b);
        assert.equal(s >= 0, model.has(id));
        if (o.op === "add" && s < 0) {
          if (model.size >= cap) model.delete(model.keys().next().value!);
          model.set(id, [o.a, o.b]);
          const got = t.add(o.a, o.b);
          assert.equal(t.find(o.a, o.b), got);
        } else if (o.op === "remove" && s >= 0) {
          t.remove(s);
          model.delete(id);
        }
        assert.equal(t.size, model.size);
        assert.deepEqual(t.slots().map((x) => [t.a(x), t.b(x)]), [...model.values()]);
      }
    }),
    { seed: SEED, numRuns: 300 },
  );
});
