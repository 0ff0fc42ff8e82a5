/**
 * The DMA path's reused answer (runtime/hw/iommu/answer.ts): `access` fills in one object per
 * IOMMU, while `translate()` and the bus's records get outcomes of their own that later
 * accesses do not change.
 */
import assert from "node:assert/strict";
import type { DmaRecord } from "../../../runtime/hw/machine.ts";
import {
  allocTable,
  consumeEvents,
  machineUp,
  map4k,
  paging,
  rwDte,
  setControl,
  writeDte,
} from "../kit.ts";

const DEV = 0x0100, DEV2 = 0x0108, DOM = 7;
const IOVA_A = 0x0040_0000, IOVA_B = 0x0040_1000;
const SPA_A = 0x0300_0000, SPA_B = 0x0301_0000;

function setup() {
  const m = machineUp();
  const root = allocTable(m);
  map4k(m, root, 3, IOVA_A, SPA_A);
  map4k(m, root, 3, IOVA_B, SPA_B);
  writeDte(m, DEV, rwDte(DOM, paging(root, 3)));
  return { m, u: m.iommus[0] };
}

Deno.test("access: one answer per IOMMU, filled in again by each access", () => {
  const { u } = setup();
  const a = u.access(DEV, IOVA_A + 0x10, true, undefined, false);
  assert.deepEqual([a.kind, a.spa, a.domid, a.via], ["translated", SPA_A + 0x10, DOM, "walk"]);
  const b = u.access(DEV, IOVA_B + 0x20, false, undefined, false);
  assert.equal(b, a, "the same object");
  assert.deepEqual([b.kind, b.spa, b.domid, b.via], ["translated", SPA_B + 0x20, DOM, "walk"]);
  const c = u.access(DEV, IOVA_A + 0x10, true, undefined, false);
  assert.deepEqual([c.kind, c.spa, c.via], ["translated", SPA_A + 0x10, "iotlb"]);
  const d = u.access(0x0200, IOVA_A, true, undefined, false); // a zero DTE: V=0
  assert.deepEqual([d.kind, d.spa, d.why], ["untranslated", IOVA_A, "dte-invalid"]);
});

Deno.test("translate() and the bus's records keep outcomes that later accesses leave alone", () => {
  const { m, u } = setup();
  const first = u.translate({ devid: DEV, addr: IOVA_A, len: 4, write: true });
  const second = u.translate({ devid: DEV, addr: IOVA_B, len: 4, write: true });
  assert.notEqual(first, second);
  assert.deepEqual(first, { kind: "translated", spa: SPA_A, domid: DOM, via: "walk" });
  assert.deepEqual(second, { kind: "translated", spa: SPA_B, domid: DOM, via: "walk" });
  const recs: DmaRecord[] = [];
  m.observers.push({ dma: (r) => recs.push(r) });
  m.dmaWrite(DEV, IOVA_A + 8, [1]);
  m.dmaWrite(DEV, IOVA_B + 8, [2]);
  m.dmaWrite(0x0200, 0x0050_0000, [3]);
  assert.deepEqual(recs.map((r) => r.outcome), [
    { kind: "translated", spa: SPA_A + 8, domid: DOM, via: "iotlb" },
    { kind: "translated", spa: SPA_B + 8, domid: DOM, via: "iotlb" },
    { kind: "untranslated", spa: 0x0050_0000, why: "dte-invalid" },
  ]);
  assert.equal(m.mem.read32(SPA_A + 8), 1);
  assert.equal(m.mem.read32(SPA_B + 8), 2);
});

Deno.test("an abort whose event interrupt DMAs again still answers the abort", () => {
  const { m, u } = setup();
  writeDte(m, DEV2, { V: 1, TV: 0, DomainID: 9 }); // every access of DEV2 faults
  setControl(m, { EventIntEn: 1 });
  const nested: string[] = [];
  m.cpuInterrupt = (_vector, src) => {
    if (src.iommu !== 0) return;
    const n = u.access(DEV, IOVA_B, true, undefined, false); // the handler's own DMA
    nested.push(`${n.kind} 0x${n.spa.toString(16)}`);
  };
  const a = u.access(DEV2, 0x1000, false, undefined, false);
  assert.deepEqual(nested, [`translated 0x${SPA_B.toString(16)}`], "the handler ran inside");
  assert.equal(a.kind, "abort");
  const o = a.outcome();
  assert.equal(o.kind === "abort" && o.event, "IO_PAGE_FAULT");
  assert.equal(o.kind === "abort" && o.logged, true);
  const ev = consumeEvents(m);
  assert.deepEqual(ev.map((e) => [e.name, e.fields.DeviceID, e.address]), [
    ["IO_PAGE_FAULT", DEV2, 0x1000n],
  ]);
});
