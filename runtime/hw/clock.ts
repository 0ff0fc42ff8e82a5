/**
 * The event clock: a discrete-event scheduler in simulated nanoseconds.
 *
 * Events run in (time, priority, sequence) order, so two events at the same instant run
 * in a fixed order whatever the insertion pattern. Kernel code runs "on the CPU" between
 * events: it calls {@link EventClock.advance} to spend time, and device events due in that
 * span run first — which is how a device gets to DMA between two MMIO writes.
 *
 * @module
 */
import { Prng } from "./prng.ts";

/** Handle of a scheduled event. */
export interface Scheduled {
  /** Machine time at which it comes due, ns since power-on. */
  readonly at: number;
  /** What it is, for traces (an owner's events start with the owner's prefix). */
  readonly label: string;
  /** Set (to true) to cancel it: it stays queued but does not run. */
  cancelled: boolean;
}

/**
 * Who scheduled an event (a device, a kernel): its label starts with the owner's prefix, an
 * owner's pending events can be cancelled together ({@link EventClock.cancelOwner}), and an
 * event whose owner says `eventsRun` is false comes due and does nothing (it still counts).
 */
export interface EventOwner {
  readonly eventPrefix: string;
  readonly eventsRun: boolean;
}

/** A scheduled event (its label is made only when someone asks for it). */
class Entry implements Scheduled {
  cancelled = false;

  constructor(
    readonly at: number,
    readonly prio: number,
    readonly seq: number,
    readonly fn: () => void,
    private readonly name: string,
    readonly owner: EventOwner | null,
  ) {}

  get label(): string {
    return this.owner === null ? this.name : `${this.owner.eventPrefix}:${this.name}`;
  }
}

/** Default priorities: lower runs first at equal times. */
export const PRIO = { HW: 10, DEVICE: 20, KERNEL: 30 } as const;

/** A deterministic discrete-event scheduler. */
export class EventClock {
  private heap: Entry[] = [];
  private seq = 0;
  private t = 0;
  /** Events executed so far. */
  executed = 0;
  /** The root random stream. */
  readonly rng: Prng;

  constructor(readonly seed: number) {
    this.rng = new Prng(seed);
  }

  /** Current simulated time in ns. */
  get now(): number {
    return this.t;
  }

  /** Schedules `fn` at absolute time `at` (not before now), for `owner` if given. */
  at(
    at: number,
    fn: () => void,
    label = "",
    prio: number = PRIO.DEVICE,
    owner: EventOwner | null = null,
  ): Scheduled {
    // Whole nanoseconds: reports stay exact.
    const e = new Entry(Math.max(Math.round(at), this.t), prio, this.seq++, fn, label, owner);
    this.push(e);
    return e;
  }

  /** Schedules `fn` after `delay` ns, for `owner` if given. */
  after(
    delay: number,
    fn: () => void,
    label = "",
    prio: number = PRIO.DEVICE,
    owner: EventOwner | null = null,
  ): Scheduled {
    return this.at(this.t + delay, fn, label, prio, owner);
  }

  /** Cancels a scheduled event (it stays in the queue but will not run). */
  cancel(s: Scheduled | undefined): void {
    if (s) s.cancelled = true;
  }

  /** Cancels every pending event of `owner` (a device's reset, a kernel that stops). */
  cancelOwner(owner: EventOwner): void {
    for (const e of this.heap) if (e.owner === owner) e.cancelled = true;
  }

  /** Runs every event due up to and including `until`, then sets the time to `until`. */
  runUntil(until: number): void {
    while (this.heap.length && this.heap[0].at <= until) {
      const e = this.pop()!;
      if (e.cancelled) continue;
      this.t = e.at;
      this.executed++;
      const o = e.owner;
      if (o === null || o.eventsRun) e.fn();
    }
    if (until > this.t) this.t = Math.round(until);
  }

  /** Spends `ns` of CPU time: device events due meanwhile run first. */
  advance(ns: number): void {
    this.runUntil(this.t + ns);
  }

  /** Time of the next pending (not cancelled) event, or Infinity. */
  nextEventAt(): number {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  /** Number of queued events (cancelled ones included until they surface). */
  get pending(): number {
    return this.heap.length;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at !== b.at ? a.at < b.at : a.prio !== b.prio ? a.prio < b.prio : a.seq < b.seq;
  }

  /** Sift-up: parents later than `e` move down until `e` finds its place. */
  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  /** Removes the earliest entry; the last one sifts down from the top. */
  private pop(): Entry | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    const n = h.length;
    if (n) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = l < n && this.less(h[l], last) ? l : -1;
        if (r < n && this.less(h[r], m < 0 ? last : h[l])) m = r;
        if (m < 0) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Nanoseconds helpers. */
export const ns = { us: 1_000, ms: 1_000_000, s: 1_000_000_000 } as const;
