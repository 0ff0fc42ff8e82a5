/**
 * Fresh dword arrays for the model's hot paths.
 *
 * In Deno every `new Uint32Array(n)` allocates a backing store of its own (around a
 * microsecond, plus work for the garbage collector); a view carved out of a shared slab
 * costs a few tens of nanoseconds. Each array handed out here is zeroed and never handed out
 * again, so it is as independent as a `new Uint32Array(n)` — only its `.buffer` is shared.
 *
 * @module
 */

/** Bytes per slab. */
const SLAB_BYTES = 64 * 1024;
/** Larger arrays get a backing store of their own. */
const MAX_CARVED_BYTES = SLAB_BYTES / 8;

let slab = new ArrayBuffer(0);
let used = SLAB_BYTES;

/** A fresh, zeroed Uint32Array of `n` dwords. */
export function dwords(n: number): Uint32Array {
  const bytes = n * 4;
  if (bytes > MAX_CARVED_BYTES) return new Uint32Array(n);
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const a = new Uint32Array(slab, used, n);
  used += bytes;
  return a;
}

/** A fresh Uint32Array holding `src[start..end)` (each value taken modulo 2^32, as stores do). */
export function dwordsOf(src: ArrayLike<number>, start = 0, end = src.length): Uint32Array {
  const a = dwords(end - start);
  for (let i = start; i < end; i++) a[i - start] = src[i];
  return a;
}
