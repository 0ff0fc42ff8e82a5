/**
 * The copy-on-write snapshot of memory contents: what each storage line held at the instant
 * the snapshot began, kept only for the lines written since (the store records a line before
 * its first write). A line that was absent (never written) is recorded by the store's own
 * bit alone; only lines that held data get a copy here.
 *
 * @module
 */
import { LINE_DWORDS, LineArena } from "./arena.ts";
import { PfnIndex } from "./pfn-index.ts";
import { giveBack, take } from "./pool.ts";

/** Lines per 4 KiB page. */
const LINES_PER_PAGE = 16;

/** The lines kept by a snapshot. */
export class Snapshot {
  private readonly index = new PfnIndex(64);
  /** Per snapshot page, 16 entries: line id + 1 in {@link arena} (0: nothing kept). */
  private lines = take(Int32Array, 32 * LINES_PER_PAGE);
  readonly arena = new LineArena();

  /** Keeps a copy of line `k` of page `pfn`: 64 dwords of `src` from `off`. */
  keep(pfn: number, k: number, src: Uint32Array, off: number): void {
    const slot = this.index.add(pfn);
    if ((slot + 1) * LINES_PER_PAGE > this.lines.length) {
      const l = take(Int32Array, this.lines.length * 2);
      l.set(this.lines);
      this.lines = l;
    }
    const id = this.arena.alloc();
    const o = this.arena.offset(id), dst = this.arena.chunk(id);
    for (let j = 0; j < LINE_DWORDS; j++) dst[o + j] = src[off + j];
    this.lines[slot * LINES_PER_PAGE + k] = id + 1;
  }

  /** Gives the snapshot's arrays back to the pool; it must not be used afterwards. */
  dispose(): void {
    this.arena.dispose();
    this.index.dispose();
    giveBack(this.lines);
    this.lines = new Int32Array(0);
  }

  /** The kept line `k` of page `pfn` (an id in {@link arena}), or -1 if none was kept. */
  lineId(pfn: number, k: number): number {
    const slot = this.index.get(pfn);
    return slot < 0 ? -1 : this.lines[slot * LINES_PER_PAGE + k] - 1;
  }
}
