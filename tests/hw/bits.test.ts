/**
 * The layout engine (runtime/hw/bits.ts): fields declared as (word, low bit, width) compile
 * to accessors on 32-bit dwords; masks, JSON views and printers are derived from them.
 */
import assert from "node:assert/strict";
import {
  f,
  hex,
  hi32,
  joinQword,
  Layout,
  lo32,
  onesFrom,
  rsvd,
  splitNumber,
  splitQword,
} from "../../runtime/hw/bits.ts";

/** A test structure with fields inside a dword, across the dword boundary, and 64 bits wide. */
const T = new Layout("T", 24, [
  f("A", 0, 0, 1),
  f("B", 0, 4, 8),
  rsvd("R0", 0, 12, 4),
  f("Cross", 0, 28, 8, "straddles dwords 0 and 1"),
  f("Wide", 0, 36, 28, "bits 63:36", { addrShift: 36 }),
  f("Q1", 1, 0, 64, "a whole qword"),
  f("P0", 2, 0, 3),
  f("P1", 2, 8, 5),
  rsvd("R1", 2, 60, 4),
], [{ name: "Comp", parts: [{ field: "P0", at: 12 }, { field: "P1", at: 15 }], address: true }]);

Deno.test("bits: a field inside one dword reads and writes only its own bits", () => {
  const w = new Uint32Array(T.dwords);
  w.fill(0xffff_ffff);
  T.set(w, "B", 0x5a);
  assert.equal(w[0], 0xffff_f5af);
  assert.equal(T.get(w, "B"), 0x5a);
  T.set(w, "B", 0x1ff); // truncated to 8 bits
  assert.equal(T.get(w, "B"), 0xff);
  assert.equal(w[0], 0xffff_ffff);
});

Deno.test("bits: a field straddling two dwords is split low part first", () => {
  const w = new Uint32Array(T.dwords);
  T.set(w, "Cross", 0xa5);
  // bits 31:28 of dword 0 hold 0x5, bits 3:0 of dword 1 hold 0xa
  assert.deepEqual([w[0], w[1]], [0x5000_0000, 0x0000_000a]);
  assert.equal(T.get(w, "Cross"), 0xa5);
  assert.equal(T.field("Cross").bit, 28);
});

Deno.test("bits: a 64-bit field is exact through big(), and to 2^53 through get()", () => {
  const w = new Uint32Array(T.dwords);
  T.set(w, "Q1", 2 ** 53 - 1);
  assert.deepEqual([w[2], w[3]], [0xffff_ffff, 0x001f_ffff]);
  assert.equal(T.get(w, "Q1"), 2 ** 53 - 1);
  w[2] = 0xffff_ffff;
  w[3] = 0xffff_ffff;
  assert.equal(T.field("Q1").big(w), 0xffff_ffff_ffff_ffffn);
  assert.equal(T.toJSON(w).Q1, "0xffffffffffffffff");
  // a 32-bit aligned piece must not come back negative
  const d = new Uint32Array(T.dwords);
  d[3] = 0x8000_0000;
  assert.equal(T.field("Q1").big(d), 0x8000_0000_0000_0000n);
});

Deno.test("bits: offsets address a structure inside a larger array", () => {
  const w = new Uint32Array(T.dwords * 3);
  T.set(w, "P1", 0x1f, T.dwords * 2);
  assert.equal(w[T.dwords * 2 + 4], 0x1f00);
  assert.equal(T.get(w, "P1", T.dwords * 2), 0x1f);
  assert.equal(T.get(w, "P1", 0), 0);
});

Deno.test("bits: encode/decode round-trip every field", () => {
  const values = {
    A: 1,
    B: 0xc3,
    Cross: 0x81,
    Wide: 0xabc_def1,
    Q1: 0x1234_5678_9abc,
    P0: 5,
    P1: 17,
  };
  const w = T.encode(values);
  const d = T.decode(w);
  for (const [k, v] of Object.entries(values)) assert.equal(d[k], v, k);
  assert.equal(d.R0, 0);
  assert.equal(d.R1, 0);
});

Deno.test("bits: composites split over and reassemble from their parts", () => {
  const w = T.encode({ Comp: 0xf_7000 });
  // address bits 14:12 (7) land in P0, bits 19:15 (0x1e) in P1
  assert.equal(T.get(w, "P0"), 7);
  assert.equal(T.get(w, "P1"), 0x1e);
  assert.equal(w[4], 0x1e07);
  assert.equal(T.value(w, "Comp"), 0xf_7000);
  const j = T.toJSON(w);
  assert.equal(j.Comp, "0xf7000");
  assert.equal("P0" in j || "P1" in j, false, "parts are hidden behind the composite");
});

Deno.test("bits: reservedMask and reservedBitsSet come from the reserved declarations", () => {
  assert.deepEqual([...T.reservedMask], [0x0000_f000, 0, 0, 0, 0, 0xf000_0000]);
  const w = new Uint32Array(T.dwords);
  assert.equal(T.reservedBitsSet(w), false);
  w[5] = 0x1000_0000;
  assert.equal(T.reservedBitsSet(w), true);
  assert.equal(T.reservedBitsSet(w, 0, 0, 4), false, "range excludes dword 5");
  const m = T.maskWhere((x) => x.name === "A" || x.name === "Cross");
  assert.deepEqual([m[0], m[1]], [0xf000_0001, 0x0000_000f]);
});

Deno.test("bits: toJSON hides reserved fields, prints addresses shifted, small fields as numbers", () => {
  const w = T.encode({ A: 1, B: 3, Wide: 0x1 });
  w[0] |= 0x0000_f000; // reserved R0 set: still not a JSON key
  const j = T.toJSON(w);
  assert.deepEqual(Object.keys(j), ["A", "B", "Cross", "Wide", "Q1", "Comp"]);
  assert.equal(j.A, 1);
  assert.equal(j.B, 3);
  assert.equal(j.Wide, "0x1000000000", "Wide stores address >> 36");
});

Deno.test("bits: describe shows set reserved bits and bit ranges; qwords prints high half first", () => {
  const w = T.encode({ B: 12 });
  w[0] |= 0x2000;
  const rows = T.describe(w);
  const r0 = rows.find((r) => r.name === "R0");
  assert.ok(r0);
  assert.equal(r0.meaning, "reserved bits set");
  assert.equal(r0.bits, "q0[15:12]");
  assert.equal(rows.find((r) => r.name === "B")!.value, "0xc");
  assert.equal(rows.find((r) => r.name === "A")!.bits, "q0[0]");
  assert.equal(rows.find((r) => r.name === "R1"), undefined, "clear reserved fields are hidden");
  assert.deepEqual(T.qwords(w).slice(0, 1), ["00000000000020c0"]);
});

Deno.test("bits: bad declarations are refused", () => {
  assert.throws(() => new Layout("X", 8, [f("Z", 0, 0, 0)]), /width 0/);
  assert.throws(() => new Layout("X", 8, [f("Z", 0, 60, 8)]), /leave the 64-bit word/);
  assert.throws(() => new Layout("X", 8, [f("Z", 0, 0, 4), f("Y", 0, 3, 2)]), /overlaps bit 3/);
  assert.throws(() => new Layout("X", 8, [f("Z", 0, 0, 4), f("Z", 0, 8, 2)]), /duplicate/);
  assert.throws(() => new Layout("X", 8, [f("Z", 1, 0, 4)]), /beyond 8B/);
  assert.throws(
    () => new Layout("X", 8, [f("Z", 0, 0, 4)], [{ name: "C", parts: [{ field: "Q", at: 0 }] }]),
    /no field Q/,
  );
  assert.throws(() => T.field("Nope" as never), /no field Nope/);
});

Deno.test("bits: qword helpers split and join exactly", () => {
  assert.deepEqual(splitQword(0x0123_4567_89ab_cdefn), [0x89ab_cdef, 0x0123_4567]);
  assert.deepEqual(splitNumber(0x1_2345_6789), [0x2345_6789, 1]);
  assert.equal(joinQword(0xffff_ffff, 0x1f_ffff), 2 ** 53 - 1);
  assert.equal(joinQword(-1, 0), 0xffff_ffff, "signed input is taken as unsigned");
  assert.equal(hex(255, 4), "0x00ff");
  assert.equal(hex(0x10n), "0x10");
});

Deno.test("bits: onesFrom counts the run of 1 bits from a bit upwards, across the dword boundary", () => {
  assert.equal(onesFrom(0x0000_0fff, 0, 12), 0, "bit 12 clear");
  assert.equal(onesFrom(0x0000_7000, 0, 12), 3);
  assert.equal(onesFrom(0xffff_f000, 0x0000_0003, 12), 22, "bits 12..33");
  assert.equal(onesFrom(0xffff_f000, 0xffff_ffff, 12), 52, "up to bit 63");
  assert.equal(onesFrom(0xffff_f000, 0xffff_ffff, 12, 52), 40, "stops before bit `to`");
});

Deno.test("bits: lo32 and hi32 are splitNumber's halves, without the array", () => {
  const values = [0, 1, 0xffff_ffff, 2 ** 32, 2 ** 32 + 5, 0x4_5678_9abc, 2 ** 52 - 1, 2 ** 53 - 1];
  for (let i = 0; i < 200; i++) values.push(Math.floor((i * 0x9e37_79b9 * 4099) % 2 ** 52));
  for (const v of values) {
    assert.deepEqual([lo32(v), hi32(v)], splitNumber(v), `0x${v.toString(16)}`);
  }
});
