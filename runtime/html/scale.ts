/**
 * The time axis of the HTML timeline: piecewise linear.
 *
 * A run's phases differ in length by orders of magnitude — the first kernel's boot and uptime
 * (~0.6 s), the kexec gap (40 ms), the crash kernel's IOMMU enable (~1 ms, where stray DMA
 * happens), the wait for the kdump service (1.5 s), the dump itself (~10 ms). A linear axis
 * would squeeze the interesting millisecond into a pixel; a log axis would distort every
 * interval. So the axis is cut at breakpoints — every stage start and every `timing`
 * milestone (of every run drawn on it) — and each interval between two breakpoints gets a
 * width proportional to
 *
 *     min(1, ms / 0.1) + log10(1 + ms)
 *
 * (a 1 ms interval gets 1.3 units, 40 ms 2.6, 1.5 s 4.2; one of 10 µs, where two runs' stages
 * begin a hair apart, 0.1). Inside an interval time is linear, so the order and spacing of
 * marks within a stage stay true. The page draws each breakpoint as a thin line.
 *
 * @module
 */

/** A piecewise-linear map from simulated ns to positions in `[x0, x1]`. */
export interface TimeScale {
  /** Position of a time; times outside the breakpoints are clamped to the ends. */
  x(t: number): number;
  /** The breakpoints, ascending, without duplicates (simulated ns). */
  readonly breaks: readonly number[];
  /** Left and right ends. */
  readonly x0: number;
  readonly x1: number;
}

/** Below this length (ns) an interval's width shrinks linearly to nothing. */
const SHORT_NS = 100_000;

/** Width weight of an interval of `lengthNs`: min(1, ms / 0.1) + log10(1 + ms). */
export function intervalWeight(lengthNs: number): number {
  return Math.min(1, lengthNs / SHORT_NS) + Math.log10(1 + lengthNs / 1e6);
}

/**
 * The scale for `times` (breakpoints; duplicates and order do not matter) over `[x0, x1]`
 * (pixels, or 0 … 1 for fractions of a plot). With fewer than two distinct times the whole
 * range maps to one linear interval of 1 ms starting at the single time (or 0).
 */
export function piecewiseScale(times: readonly number[], x0: number, x1: number): TimeScale {
  let breaks = [...new Set(times.filter(Number.isFinite))].sort((a, b) => a - b);
  if (breaks.length === 0) breaks = [0, 1e6];
  else if (breaks.length === 1) breaks = [breaks[0], breaks[0] + 1e6];
  const weights = breaks.slice(1).map((b, i) => intervalWeight(b - breaks[i]));
  const total = weights.reduce((a, b) => a + b, 0);
  const xs = [x0];
  for (const w of weights) xs.push(xs[xs.length - 1] + (w / total) * (x1 - x0));
  const x = (t: number): number => {
    if (t <= breaks[0]) return x0;
    if (t >= breaks[breaks.length - 1]) return x1;
    let lo = 0, hi = breaks.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (breaks[mid] <= t) lo = mid;
      else hi = mid;
    }
    return xs[lo] + ((t - breaks[lo]) / (breaks[hi] - breaks[lo])) * (xs[hi] - xs[lo]);
  };
  return { x, breaks, x0, x1 };
}
