/**
 * How a matrix's runs are dealt to its workers: each worker owns a contiguous share of the
 * run indices and takes chunks from the front of it; a worker whose share is done takes from
 * the back of the share with the most left. Contiguous shares keep runs whose patch sets
 * differ in a few bits (offsets of 8, 64, 1,024 …) with one worker, which runs them in order:
 * a run that can reuse an earlier one's line (runtime/lab/reuse.ts) mostly finds it in its own
 * worker's memory, where interleaved chunks would have had the other worker simulate it at the
 * same time.
 *
 * @module
 */

/** Items split into `n` contiguous shares. */
export class Shares {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  /** Splits `items` (in order) into `n` shares of near-equal size (n ≥ 1). */
  constructor(private readonly items: readonly number[], n: number) {
    for (let k = 0; k < n; k++) {
      this.lo.push(Math.floor((items.length * k) / n));
      this.hi.push(Math.floor((items.length * (k + 1)) / n));
    }
  }

  /** Items not yet taken. */
  get left(): number {
    let n = 0;
    for (let k = 0; k < this.lo.length; k++) n += this.hi[k] - this.lo[k];
    return n;
  }

  /**
   * Up to `size` items for the worker whose share is `home`: the front of its share, else the
   * back of the share with the most left (none when nothing is left).
   */
  take(home: number, size: number): number[] {
    let k = home;
    if (this.hi[k] - this.lo[k] === 0) {
      let most = 0;
      for (let j = 0; j < this.lo.length; j++) {
        if (this.hi[j] - this.lo[j] > most) [most, k] = [this.hi[j] - this.lo[j], j];
      }
      if (most === 0) return [];
      const from = Math.max(this.lo[k], this.hi[k] - size);
      const out = this.items.slice(from, this.hi[k]);
      this.hi[k] = from;
      return out;
    }
    const to = Math.min(this.hi[k], this.lo[k] + size);
    const out = this.items.slice(this.lo[k], to);
    this.lo[k] = to;
    return out;
  }
}
