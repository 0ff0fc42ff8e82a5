/**
 * Storage lines of 256 bytes (64 dwords) kept in large typed arrays: a line is a number, its
 * data sits in chunk `id >>> CHUNK_SHIFT` at dword offset `(id & CHUNK_MASK) << 6`. No object
 * per line; freed lines are reused (zeroed when handed out again).
 *
 * @module
 */

import { giveBack, take } from "./pool.ts";

/** Dwords per line. */
export const LINE_DWORDS = 64;
/** log2 of the lines per chunk. */
export const CHUNK_SHIFT = 8;
/** Line number → index within its chunk. */
export const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

/** An arena of 256-byte lines. */
export class LineArena {
  /** Chunks of 256 lines (64 KiB each). */
  readonly chunks: Uint32Array[] = [];
  private next = 0;
  private free = new Int32Array(64); // (small: not pooled)
  private freeCount = 0;

  /** A zeroed line. */
  alloc(): number {
    if (this.freeCount) {
      const id = this.free[--this.freeCount];
      this.chunks[id >>> CHUNK_SHIFT].fill(0, (id & CHUNK_MASK) << 6, ((id & CHUNK_MASK) + 1) << 6);
      return id;
    }
    const id = this.next++;
    if ((id >>> CHUNK_SHIFT) === this.chunks.length) {
      this.chunks.push(take(Uint32Array, LINE_DWORDS << CHUNK_SHIFT));
    }
    return id;
  }

  /** Returns a line for reuse. */
  release(id: number): void {
    if (this.freeCount === this.free.length) {
      const f = new Int32Array(this.free.length * 2);
      f.set(this.free);
      this.free = f;
    }
    this.free[this.freeCount++] = id;
  }

  /** The chunk holding line `id`. */
  chunk(id: number): Uint32Array {
    return this.chunks[id >>> CHUNK_SHIFT];
  }

  /** Dword offset of line `id` in its chunk. */
  offset(id: number): number {
    return (id & CHUNK_MASK) << 6;
  }

  /** Lines in use. */
  get used(): number {
    return this.next - this.freeCount;
  }

  /** Gives the chunks back to the pool (pool.ts): the arena is empty afterwards. */
  dispose(): void {
    for (const c of this.chunks) giveBack(c);
    this.chunks.length = 0;
    this.next = 0;
    this.freeCount = 0;
  }
}
