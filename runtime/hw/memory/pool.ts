/**
 * Typed arrays handed back by a finished run, for the next machine of the same thread.
 *
 * In Deno a new typed array's backing store is costly: fresh memory from the allocator, and
 * external-memory accounting that advances the garbage collector — a default run allocating
 * ~1.4 MB of them spent ~2 ms of its ~8 ms there. A machine takes its big arrays (storage
 * lines, page records, disk media) from here; `run()` gives them back once its report is made
 * (the machine is not used again), and the next machine takes them, zeroed.
 *
 * The pool holds at most {@link POOL_BYTES} bytes; arrays beyond that are left to the collector.
 * Arrays a store outgrows during a run are left to the collector too (a machine of a million
 * pages would otherwise keep every smaller generation of its records alive here).
 *
 * @module
 */

/** The typed-array types the pool keeps. */
type Pooled = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array;
type Ctor<T extends Pooled> = { new (n: number): T; readonly name: string };

/** Most bytes the pool keeps. */
export const POOL_BYTES = 32 * 2 ** 20;

const free = new Map<string, Pooled[]>();
let held = 0;

function key(ctor: { readonly name: string }, length: number): string {
  return `${ctor.name}:${length}`;
}

/**
 * A typed array of `n` elements: one given back earlier, or a new one — zeroed, unless
 * `zeroed` is false (for a taker that writes every element before reading it).
 */
export function take<T extends Pooled>(ctor: Ctor<T>, n: number, zeroed = true): T {
  const list = free.get(key(ctor, n));
  const a = list?.pop() as T | undefined;
  if (a === undefined) return new ctor(n);
  held -= a.byteLength;
  if (zeroed) a.fill(0);
  return a;
}

/**
 * Gives `a` back for a later {@link take} (nothing may use it afterwards). Arrays that are
 * views into a larger buffer are not kept.
 */
export function giveBack(a: Pooled): void {
  if (a.length === 0 || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  if (held + a.byteLength > POOL_BYTES) return;
  const k = key(a.constructor as Ctor<Pooled>, a.length);
  let list = free.get(k);
  if (!list) free.set(k, list = []);
  list.push(a);
  held += a.byteLength;
}

/** Bytes the pool holds now (for tests). */
export function pooledBytes(): number {
  return held;
}
