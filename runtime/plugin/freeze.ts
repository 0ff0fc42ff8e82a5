/**
 * Deep freezing, for what users' code must not change: the built-in plugins (their handlers,
 * symbols, hook points and lists) and the built-in scenarios.
 *
 * @module
 */

/**
 * Freezes `value` and everything reachable from its own properties (objects, arrays,
 * functions), and returns it. Typed arrays are left alone (they cannot be frozen).
 */
export function deepFreeze<T>(value: T): T {
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return;
    if (seen.has(v) || ArrayBuffer.isView(v)) return;
    seen.add(v);
    for (const key of Reflect.ownKeys(v as object)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d && "value" in d) walk(d.value);
    }
    Object.freeze(v);
  };
  walk(value);
  return value;
}
