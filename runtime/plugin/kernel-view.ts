/**
 * The kernel as users' plugins see it: the kernel model's API, without the instrumentation the
 * lab judges runs by. A plugin that is not one of the lab's own gets its hook contexts (and
 * everything reached from them: `ctx.k`, `ctx.k.amd`, an IOMMU, a domain …) through a
 * membrane of Proxies:
 *
 * - the machine object (`k.machine`, and any other path to it) is closed: touching it throws;
 * - physical memory (`k.mem`, `k.alloc.mem`, …; with SME the kernel's encrypted view of it)
 *   offers only what a kernel does with memory —
 *   read, write, copy, zero, ask what is RAM — not the owner tags (`setOwner`, `ownerOf`) nor
 *   the snapshot taken at the panic (`beginSnapshot`, `originalPage…`), nor the memory map's
 *   editing (`addRegion`, `mapMmio`);
 * - every method called through the view runs on the real object (its arguments and `this`
 *   are unwrapped), so the kernel model works at its own speed inside; what it returns is
 *   wrapped again, and the same object always gets the same wrapper (identity holds);
 * - a function the plugin hands to the kernel (a callback, an interrupt handler) is wrapped
 *   so that an error it throws later, outside any hook point, is still the plugin's.
 *
 * Typed arrays and ArrayBuffers pass as they are (they are data). Built-in plugins see the
 * kernel itself (they are the project's code, and the hot paths stay fast).
 *
 * @module
 */
import { Machine } from "../hw/machine.ts";
import { PhysMem } from "../hw/memory.ts";
import type { KernelMemory } from "../kernel/kernel.ts";
import { EncryptedDirectMap } from "../kernel/sme.ts";

/**
 * What physical memory offers users' plugins: the kernel's reads and writes, nothing else —
 * the methods of {@link KernelMemory} (`k.mem`'s type), which this list must name, every one.
 */
const MEMORY_METHODS = [
  "read32",
  "write32",
  "readQword",
  "readDwords",
  "writeDwords",
  "orStrided",
  "zero",
  "copy",
  "isRam",
  "regionAt",
  "memoryMap",
  "pageIsBlank",
] as const satisfies readonly (keyof KernelMemory)[];
/** Compiles only while the list names every method of KernelMemory. */
const _everyMethod: Exclude<keyof KernelMemory, (typeof MEMORY_METHODS)[number]> extends never
  ? true
  : never = true;
void _everyMethod;
const MEMORY_API: ReadonlySet<PropertyKey> = new Set([...MEMORY_METHODS, "constructor"]);

/** How an error thrown by a plugin's function called from kernel code is attributed. */
export type Attribute = (hook: string, e: unknown) => unknown;

/** Runs a plugin's function called from kernel code as that plugin's running frame. */
export type Framed = <T>(hook: string, fn: () => T) => T;

function closed(what: string): never {
  throw new Error(`${what} is the lab's instrumentation, not part of the kernel API`);
}

/** A membrane for one plugin: kernel objects go out wrapped, plugin values come in unwrapped. */
export class KernelView {
  private readonly wrapped = new WeakMap<object, object>();
  private readonly real = new WeakMap<object, object>();
  /** The plugin's functions passed to the kernel, and what the kernel got for them. */
  private readonly inbound = new WeakMap<object, object>();

  constructor(
    private readonly attribute: Attribute,
    private readonly framed: Framed = (_hook, fn) => fn(),
  ) {}

  /** A value as the plugin sees it. */
  out<T>(v: T): T {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
    const o = v as unknown as object;
    const known = this.wrapped.get(o);
    if (known !== undefined) return known as T;
    if (this.real.has(o) || ArrayBuffer.isView(o) || o instanceof ArrayBuffer) return v;
    const original = this.inbound.get(o);
    if (original !== undefined) return original as T;
    const p = this.proxy(o);
    this.wrapped.set(o, p);
    this.real.set(p, o);
    return p as T;
  }

  /** A value as the kernel gets it from the plugin. */
  in<T>(v: T): T {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
    const o = v as unknown as object;
    const r = this.real.get(o);
    if (r !== undefined) return r as T;
    if (typeof o !== "function") return v;
    // A plugin's function (a callback the kernel calls later): its errors stay the plugin's.
    const fn = o as (...a: unknown[]) => unknown;
    let made = this.wrapped.get(o);
    if (made === undefined) {
      const outArg = (a: unknown) => this.out(a);
      const inValue = (a: unknown) => this.in(a);
      const attribute = this.attribute, framed = this.framed;
      const hook = `a function it gave the kernel (${fn.name || "anonymous"})`;
      made = function (this: unknown, ...args: unknown[]) {
        try {
          return framed(hook, () => inValue(fn.apply(outArg(this), args.map(outArg))));
        } catch (e) {
          throw attribute(hook, e);
        }
      };
      this.inbound.set(made, o);
      this.wrapped.set(o, made);
    }
    return made as T;
  }

  private proxy(target: object): object {
    if (target instanceof Machine) return this.closedProxy(target, "the machine object");
    const memory = target instanceof PhysMem || target instanceof EncryptedDirectMap;
    const sealed = !Object.isExtensible(target);
    const view = { out: (v: unknown) => this.out(v), in: (v: unknown) => this.in(v) };
    const handler: ProxyHandler<object> = {
      get(t, key) {
        if (memory && !MEMORY_API.has(key)) {
          closed(`physical memory's ${String(key)}`);
        }
        const value = Reflect.get(t, key);
        if (sealed) {
          const d = Object.getOwnPropertyDescriptor(t, key);
          if (d && !d.configurable && !d.writable && "value" in d) return value; // invariant
        }
        return view.out(value);
      },
      set(t, key, value) {
        if (memory) closed(`physical memory's ${String(key)}`);
        return Reflect.set(t, key, view.in(value));
      },
      defineProperty(t, key, d) {
        if (memory) closed(`physical memory's ${String(key)}`);
        return Reflect.defineProperty(t, key, "value" in d ? { ...d, value: view.in(d.value) } : d);
      },
      deleteProperty(t, key) {
        if (memory) closed(`physical memory's ${String(key)}`);
        return Reflect.deleteProperty(t, key);
      },
      getOwnPropertyDescriptor(t, key) {
        const d = Reflect.getOwnPropertyDescriptor(t, key);
        if (d === undefined || !("value" in d) || (!d.configurable && !d.writable)) return d;
        return { ...d, value: view.out(d.value) };
      },
      setPrototypeOf() {
        return false;
      },
      apply(t, self, args) {
        return view.out(
          Reflect.apply(
            t as (...a: unknown[]) => unknown,
            view.in(self),
            args.map((a) => view.in(a)),
          ),
        );
      },
      construct(t, args) {
        return view.out(
          Reflect.construct(t as new (...a: unknown[]) => object, args.map((a) => view.in(a))),
        ) as object;
      },
    };
    return new Proxy(target, handler);
  }

  /** A wrapper that refuses everything: a path to instrumentation. */
  private closedProxy(target: object, what: string): object {
    const refuse = () => closed(what);
    return new Proxy(target, {
      get: refuse,
      set: refuse,
      has: refuse,
      ownKeys: refuse,
      getOwnPropertyDescriptor: refuse,
      defineProperty: refuse,
      deleteProperty: refuse,
      getPrototypeOf: refuse,
      setPrototypeOf: refuse,
    });
  }
}
