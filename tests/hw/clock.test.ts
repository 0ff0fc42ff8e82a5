/**
 * The event clock (runtime/hw/clock.ts) and the seeded PRNG (runtime/hw/prng.ts).
 * Simulated time only: nothing here reads a wall clock.
 */
import assert from "node:assert/strict";
import { EventClock, ns, PRIO } from "../../runtime/hw/clock.ts";
import { Prng } from "../../runtime/hw/prng.ts";

Deno.test("clock: events run in (time, priority, sequence) order", () => {
  const c = new EventClock(1);
  const ran: string[] = [];
  const log = (s: string) => () => ran.push(`${s}@${c.now}`);
  c.at(300, log("k300"), "", PRIO.KERNEL);
  c.at(100, log("dev100a"), "", PRIO.DEVICE);
  c.at(100, log("kernel100"), "", PRIO.KERNEL);
  c.at(100, log("hw100"), "", PRIO.HW);
  c.at(100, log("dev100b"), "", PRIO.DEVICE);
  c.at(50, log("dev50"), "", PRIO.DEVICE);
  c.runUntil(1000);
  assert.deepEqual(ran, [
    "dev50@50",
    "hw100@100",
    "dev100a@100",
    "dev100b@100",
    "kernel100@100",
    "k300@300",
  ]);
  assert.equal(c.now, 1000);
  assert.equal(c.executed, 6);
});

Deno.test("clock: the order does not depend on insertion pattern (heap property)", () => {
  const order = (keys: number[]) => {
    const c = new EventClock(1);
    const out: number[] = [];
    for (const k of keys) c.at(k % 7, () => out.push(k), "", PRIO.DEVICE + (k % 3));
    c.runUntil(10);
    return out;
  };
  const keys = Array.from({ length: 200 }, (_, i) => (i * 37) % 200);
  const got = order(keys);
  const want = [...keys].sort((a, b) =>
    a % 7 - b % 7 || a % 3 - b % 3 || keys.indexOf(a) - keys.indexOf(b)
  );
  assert.deepEqual(got, want);
});

Deno.test("clock: cancel() keeps an event from running", () => {
  const c = new EventClock(1);
  const ran: string[] = [];
  const a = c.after(10, () => ran.push("a"), "a");
  c.after(20, () => ran.push("b"), "b");
  c.cancel(a);
  c.cancel(undefined); // harmless
  assert.equal(c.nextEventAt(), 20, "cancelled events are skipped by nextEventAt");
  c.advance(100);
  assert.deepEqual(ran, ["b"]);
  assert.equal(a.cancelled, true);
  assert.equal(c.executed, 1);
  assert.equal(c.nextEventAt(), Infinity);
});

Deno.test("clock: advance() runs the events due in the span, in simulated time", () => {
  const c = new EventClock(1);
  const seen: number[] = [];
  c.after(5 * ns.us, () => seen.push(c.now));
  c.after(15 * ns.us, () => seen.push(c.now));
  c.advance(10 * ns.us);
  assert.deepEqual(seen, [5000]);
  assert.equal(c.now, 10_000);
  c.advance(5 * ns.us); // exactly due at the end of the span: runs
  assert.deepEqual(seen, [5000, 15_000]);
  assert.equal(c.now, 15_000);
});

Deno.test("clock: events scheduled by events, and in the past, run at now or later", () => {
  const c = new EventClock(1);
  const seen: string[] = [];
  c.after(10, () => {
    seen.push(`outer@${c.now}`);
    c.after(0, () => seen.push(`inner@${c.now}`));
    c.at(3, () => seen.push(`past@${c.now}`)); // clamped to now
  });
  c.runUntil(10);
  assert.deepEqual(seen, ["outer@10", "inner@10", "past@10"]);
  assert.equal(c.pending, 0);
});

Deno.test("clock: runUntil never moves time backwards", () => {
  const c = new EventClock(1);
  c.runUntil(500);
  c.runUntil(100);
  assert.equal(c.now, 500);
  const s = c.at(200, () => {});
  assert.equal(s.at, 500);
});

Deno.test("prng: the same seed gives the same stream", () => {
  const a = new Prng(42), b = new Prng(42), c = new Prng(43);
  const sa = Array.from({ length: 50 }, () => a.nextU32());
  const sb = Array.from({ length: 50 }, () => b.nextU32());
  const sc = Array.from({ length: 50 }, () => c.nextU32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  assert.ok(sa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  assert.ok(new Set(sa).size > 45, "not degenerate");
});

Deno.test("prng: forks are independent of each other and of the parent's consumption", () => {
  const p1 = new Prng(7), p2 = new Prng(7);
  for (let i = 0; i < 100; i++) p2.nextU32(); // p2's parent stream has moved on
  const nic1 = p1.fork("nic"), nic2 = p2.fork("nic");
  const disk = p1.fork("disk");
  const s1 = Array.from({ length: 20 }, () => nic1.nextU32());
  // drawing from another fork does not shift this one
  for (let i = 0; i < 20; i++) disk.nextU32();
  const s2 = Array.from({ length: 20 }, () => nic2.nextU32());
  assert.deepEqual(s1, s2);
  const d = Array.from({ length: 20 }, () => p1.fork("disk").nextU32());
  assert.notDeepEqual(d.slice(0, 1), s1.slice(0, 1));
  assert.equal(nic1.label, "root/nic");
  assert.equal(nic1.fork("q").label, "root/nic/q");
});

Deno.test("prng: int() stays in range and exp() has the requested mean", () => {
  const r = new Prng(3);
  let sum = 0;
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const v = r.int(2, 5);
    assert.ok(v >= 2 && v <= 5 && Number.isInteger(v));
    seen.add(v);
    sum += r.exp(100);
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
  }
  assert.deepEqual([...seen].sort(), [2, 3, 4, 5]);
  const mean = sum / 5000;
  assert.ok(mean > 90 && mean < 110, `mean ${mean}`);
});

Deno.test("clock: the root PRNG comes from the clock's seed", () => {
  const a = new EventClock(99).rng.fork("x").nextU32();
  const b = new EventClock(99).rng.fork("x").nextU32();
  const c = new EventClock(100).rng.fork("x").nextU32();
  assert.equal(a, b);
  assert.notEqual(a, c);
});

Deno.test("clock: an owner's events are labelled with its prefix, cancelled together, and do nothing while it says so", () => {
  const c = new EventClock(1);
  const ran: string[] = [];
  const dev = { eventPrefix: "nic@100", eventsRun: true };
  const other = { eventPrefix: "disk@200", eventsRun: true };
  const a = c.after(10, () => ran.push("a"), "wire", PRIO.DEVICE, dev);
  c.after(20, () => ran.push("b"), "stats", PRIO.DEVICE, dev);
  c.after(30, () => ran.push("c"), "fetch", PRIO.DEVICE, other);
  const plain = c.after(40, () => ran.push("d"), "plain");
  assert.equal(a.label, "nic@100:wire");
  assert.equal(plain.label, "plain");
  c.advance(15); // a runs
  c.cancelOwner(dev); // b is dropped, c is not
  other.eventsRun = false; // c comes due and does nothing; it counts as run
  c.advance(100);
  assert.deepEqual(ran, ["a", "d"]);
  assert.equal(c.executed, 3, "a, c (doing nothing) and d");
});
