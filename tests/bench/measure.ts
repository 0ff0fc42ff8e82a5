/**
 * Helpers of the benchmarks: medians of repeated measurements, and one printed line per
 * figure. Deno's own table gives the average and percentiles; the targets are
 * medians, so the benches print those too. Nothing here asserts a time.
 */

/** Median of `xs` (not modified). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` `times` times (after `warmup` unmeasured calls); the median in ms. */
export function medianMs(fn: () => void, times: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < times; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return median(t);
}

/** Prints one figure line: `figure: <text>`. */
export function figure(name: string, text: string): void {
  console.log(`figure: ${name}: ${text}`);
}

/** `n` with a unit: 12.3 ms, 4.5 µs, 67 ns. */
export function ms(n: number): string {
  if (n >= 100) return `${n.toFixed(0)} ms`;
  if (n >= 1) return `${n.toFixed(2)} ms`;
  if (n >= 1e-3) return `${(n * 1e3).toFixed(2)} µs`;
  return `${(n * 1e6).toFixed(1)} ns`;
}
