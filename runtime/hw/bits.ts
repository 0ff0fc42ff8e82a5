/**
 * Field layouts declared once, as data.
 *
 * A hardware structure (DTE, PTE, IRTE, event entry, command, MMIO register) is a list of
 * fields, each given by the 64-bit word it lives in, its low bit inside that word and its
 * width — the same way the AMD spec tables and the kernel's bit names describe them.
 * Everything else is derived from that declaration: fast getters and setters on 32-bit
 * word arrays (the model's hot paths), exact encoders and decoders, reserved-bit masks,
 * JSON views and pretty-printers (the decoder CLI and reports).
 *
 * Storage is always an array of 32-bit dwords, little-endian: qword N is dwords 2N (low
 * half) and 2N+1 (high half). Values are JS numbers; a field wider than 53 bits is exact
 * through the `big`/`hex` accessors only.
 *
 * @module
 */
import { dwords } from "./dwords.ts";

/** Anything indexable as 32-bit unsigned dwords (a Uint32Array, a slice of memory). */
export type Dwords = { [i: number]: number; readonly length: number };

/** One field as declared: name, 64-bit word, low bit inside the word, width in bits. */
export interface FieldSpec {
  /** Spec name (e.g. `IntTabLen`); also the JSON key. */
  readonly name: string;
  /** 64-bit word index (q0, q1, ...). For 32-bit structures use 0. */
  readonly q: number;
  /** Low bit inside the 64-bit word. */
  readonly lo: number;
  /** Width in bits (1..64). */
  readonly width: number;
  /** What the field means, in one line. */
  readonly doc?: string;
  /** The Linux constant name(s), for kernel developers grepping. */
  readonly linux?: string;
  /** Reserved bits: must be zero; excluded from JSON and decoders' field lists. */
  readonly reserved?: boolean;
  /** The field stores `address >> addrShift`; views print the byte address. */
  readonly addrShift?: number;
  /** Meanings of enumerated values. */
  readonly values?: Readonly<Record<number, string>>;
  /** Part of a composite (e.g. GCR3 root pointer pieces): hidden from JSON on its own. */
  readonly partOf?: string;
  /** Register access type (MMIO registers only): read-only, read-write, write-1-to-clear. */
  readonly access?: "ro" | "rw" | "rw1c";
}

/** A value assembled from several fields, e.g. the GCR3 table root pointer (A, B, C parts). */
export interface CompositeSpec {
  /** The value's name, e.g. `GCR3TableRootPtr`. */
  readonly name: string;
  /** What the value is, for decoded views. */
  readonly doc?: string;
  /** Each part contributes `field value << at`. */
  readonly parts: readonly { readonly field: string; readonly at: number }[];
  /** Print as a byte address. */
  readonly address?: boolean;
}

/** A compiled field: the declaration plus derived fast accessors. */
export interface Field extends FieldSpec {
  /** Absolute low bit in the structure. */
  readonly bit: number;
  /** Read the field from `w` starting at dword offset `off` (number; exact up to 2^53). */
  get(w: Dwords, off?: number): number;
  /** Write the field (value truncated to the width). */
  set(w: Dwords, value: number, off?: number): void;
  /** Exact value as a bigint. */
  big(w: Dwords, off?: number): bigint;
}

const TWO32 = 0x1_0000_0000;

function maskOf(bits: number): number {
  return bits >= 32 ? 0xffff_ffff : ((1 << bits) >>> 0) - 1;
}

/** Compiles one field declaration into accessors. */
function compileField(spec: FieldSpec): Field {
  if (spec.width < 1 || spec.width > 64) throw new Error(`field ${spec.name}: width ${spec.width}`);
  if (spec.lo < 0 || spec.lo + spec.width > 64) {
    throw new Error(`field ${spec.name}: bits ${spec.lo}+${spec.width} leave the 64-bit word`);
  }
  const bit = spec.q * 64 + spec.lo;
  const d0 = bit >>> 5;
  const s0 = bit & 31;
  const width = spec.width;
  // Pieces: dword index, shift inside dword, bit count, position k of the piece in the value
  // (and, precomputed for the accessors, the piece's mask and its weight 2^k).
  const pieces: { d: number; s: number; n: number; k: number; mask: number; weight: number }[] = [];
  for (let done = 0; done < width;) {
    const b = bit + done;
    const d = b >>> 5;
    const s = b & 31;
    const n = Math.min(32 - s, width - done);
    pieces.push({ d, s, n, k: done, mask: maskOf(n), weight: 2 ** done });
    done += n;
  }

  let get: (w: Dwords, off?: number) => number;
  let set: (w: Dwords, value: number, off?: number) => void;
  if (pieces.length === 1) {
    const m = maskOf(width);
    if (width === 32) {
      get = (w, off = 0) => w[off + d0] >>> 0;
      set = (w, v, off = 0) => {
        w[off + d0] = v >>> 0;
      };
    } else {
      const fm = (m << s0) >>> 0;
      get = (w, off = 0) => (w[off + d0] >>> s0) & m;
      set = (w, v, off = 0) => {
        w[off + d0] = ((w[off + d0] & ~fm) | ((v & m) << s0)) >>> 0;
      };
    }
  } else {
    get = (w, off = 0) => {
      let v = 0;
      for (const p of pieces) v += (((w[off + p.d] >>> p.s) & p.mask) >>> 0) * p.weight;
      return v;
    };
    set = (w, v, off = 0) => {
      for (const p of pieces) {
        const part = Math.floor(v / 2 ** p.k) % 2 ** p.n;
        const pm = (maskOf(p.n) << p.s) >>> 0;
        w[off + p.d] = ((w[off + p.d] & ~pm) | ((part << p.s) & pm)) >>> 0;
      }
    };
  }
  const big = (w: Dwords, off = 0): bigint => {
    let v = 0n;
    for (const p of pieces) {
      v |= BigInt(((w[off + p.d] >>> p.s) & maskOf(p.n)) >>> 0) << BigInt(p.k);
    }
    return v;
  };
  return { ...spec, bit, get, set, big };
}

/**
 * Where a field that sits inside one dword is, for reading it inline on a hot path
 * (`(w[d] >>> s) & m`): [dword index d, shift s, mask m], derived from its declaration.
 */
export function placed(f: Field): [number, number, number] {
  const d = f.bit >>> 5, s = f.bit & 31;
  if (s + f.width > 32) throw new Error(`${f.name} spans two dwords`);
  return [d, s, f.width === 32 ? 0xffff_ffff : (1 << f.width) - 1];
}

/** A compiled layout: fields, composites and everything derived from them. */
export class Layout<N extends string = string> {
  /** Size of the structure in 32-bit dwords. */
  readonly dwords: number;
  /** All fields (reserved ones included), in declaration order. */
  readonly fields: readonly Field[];
  /** Composite values (assembled from several fields). */
  readonly composites: readonly CompositeSpec[];
  /** Per-dword mask of reserved bits, derived from the `reserved` fields. */
  readonly reservedMask: Uint32Array;
  private readonly byName: Map<string, Field>;

  /**
   * Compiles a layout from its field declarations and composites. Throws on a duplicate field
   * name, a composite part that is no field, or a field beyond the structure or overlapping
   * another.
   */
  constructor(
    /** Structure name, e.g. `DTE`. */
    readonly name: string,
    /** Size in bytes. */
    readonly bytes: number,
    specs: readonly FieldSpec[],
    composites: readonly CompositeSpec[] = [],
  ) {
    this.dwords = Math.ceil(bytes / 4);
    const partOf = new Map<string, string>();
    for (const c of composites) for (const p of c.parts) partOf.set(p.field, c.name);
    this.fields = specs.map((s) =>
      compileField(partOf.has(s.name) ? { ...s, partOf: partOf.get(s.name) } : s)
    );
    this.composites = composites;
    this.byName = new Map(this.fields.map((f) => [f.name, f]));
    if (this.byName.size !== this.fields.length) throw new Error(`${name}: duplicate field names`);
    for (const c of composites) {
      for (const p of c.parts) {
        if (!this.byName.has(p.field)) throw new Error(`${name}.${c.name}: no field ${p.field}`);
      }
    }
    // Overlap check: every bit belongs to at most one field.
    const seen = new Uint32Array(this.dwords);
    for (const f of this.fields) {
      if (f.bit + f.width > this.dwords * 32) throw new Error(`${name}.${f.name} beyond ${bytes}B`);
      for (let b = f.bit; b < f.bit + f.width; b++) {
        const d = b >>> 5, m = (1 << (b & 31)) >>> 0;
        if (seen[d] & m) throw new Error(`${name}.${f.name} overlaps bit ${b}`);
        seen[d] = (seen[d] | m) >>> 0;
      }
    }
    this.reservedMask = this.maskWhere((f) => !!f.reserved);
  }

  /** Per-dword mask of the bits of every field matching `pred` (e.g. the RW1C bits). */
  maskWhere(pred: (f: Field) => boolean): Uint32Array {
    const mask = new Uint32Array(this.dwords);
    for (const f of this.fields) {
      if (!pred(f)) continue;
      for (let b = f.bit; b < f.bit + f.width; b++) {
        mask[b >>> 5] = (mask[b >>> 5] | (1 << (b & 31))) >>> 0;
      }
    }
    return mask;
  }

  /** The compiled field called `name` (throws on unknown names: a typo is a bug). */
  field(name: N): Field {
    const f = this.byName.get(name);
    if (!f) throw new Error(`${this.name}: no field ${name}`);
    return f;
  }

  /** True when this layout declares a field or composite called `name`. */
  has(name: string): name is N {
    return this.byName.has(name) || this.composites.some((c) => c.name === name);
  }

  /** Reads field `name` (number). */
  get(w: Dwords, name: N, off = 0): number {
    return this.field(name).get(w, off);
  }

  /** Writes field `name`. */
  set(w: Dwords, name: N, value: number, off = 0): void {
    this.field(name).set(w, value, off);
  }

  /** Reads a composite (or a plain field) as a number. */
  value(w: Dwords, name: string, off = 0): number {
    const c = this.composites.find((x) => x.name === name);
    if (!c) return this.field(name as N).get(w, off);
    let v = 0;
    for (const p of c.parts) v += this.field(p.field as N).get(w, off) * 2 ** p.at;
    return v;
  }

  /** Writes a composite by splitting the value over its parts. */
  setValue(w: Dwords, name: string, value: number, off = 0): void {
    const c = this.composites.find((x) => x.name === name);
    if (!c) return this.field(name as N).set(w, value, off);
    for (const p of c.parts) {
      this.field(p.field as N).set(w, Math.floor(value / 2 ** p.at), off);
    }
  }

  /** Builds a fresh structure from named field values (missing fields are zero). */
  encode(values: Partial<Record<N, number>>): Uint32Array {
    const w = dwords(this.dwords);
    for (const [k, v] of Object.entries(values)) {
      if (v !== undefined) this.setValue(w, k, v as number);
    }
    return w;
  }

  /** Every field's value by name (reserved fields included). */
  decode(w: Dwords, off = 0): Record<N, number> {
    const out = {} as Record<string, number>;
    for (const f of this.fields) out[f.name] = f.get(w, off);
    return out as Record<N, number>;
  }

  /** True when any reserved bit is set (in the dwords `from`..`to`-1, default all). */
  reservedBitsSet(w: Dwords, off = 0, from = 0, to = this.dwords): boolean {
    for (let d = from; d < to; d++) if (w[off + d] & this.reservedMask[d]) return true;
    return false;
  }

  /**
   * The JSON view: one key per non-reserved field (composites replace their parts, in the
   * position of their first part). Small fields are numbers; addresses are `"0x…"` strings.
   */
  toJSON(w: Dwords, off = 0): Record<string, number | string> {
    const out: Record<string, number | string> = {};
    for (const f of this.fields) {
      if (f.reserved) continue;
      if (f.partOf) {
        if (out[f.partOf] !== undefined) continue;
        const c = this.composites.find((x) => x.name === f.partOf)!;
        out[c.name] = hex(this.compositeBig(w, c, off));
        continue;
      }
      if (f.addrShift !== undefined) out[f.name] = hex(f.big(w, off) << BigInt(f.addrShift));
      else if (f.width > 32) out[f.name] = hex(f.big(w, off));
      else out[f.name] = f.get(w, off);
    }
    return out;
  }

  /** One row per visible field: name, printable value, meaning, bit range. */
  describe(w: Dwords, off = 0): FieldRow[] {
    const rows: FieldRow[] = [];
    const done = new Set<string>();
    for (const f of this.fields) {
      if (f.reserved) {
        const v = f.big(w, off);
        if (v !== 0n) {
          rows.push({ name: f.name, value: hex(v), meaning: "reserved bits set", bits: bits(f) });
        }
        continue;
      }
      if (f.partOf) {
        if (done.has(f.partOf)) continue;
        done.add(f.partOf);
        const c = this.composites.find((x) => x.name === f.partOf)!;
        const parts = c.parts.map((p) => this.field(p.field as N));
        rows.push({
          name: c.name,
          value: hex(this.compositeBig(w, c, off)),
          meaning: c.doc ?? "",
          bits: parts.map(bits).join(","),
        });
        continue;
      }
      const v = f.big(w, off);
      const shown = f.addrShift !== undefined
        ? hex(v << BigInt(f.addrShift))
        : f.width === 1
        ? String(v)
        : v > 9n
        ? hex(v)
        : String(v);
      const meaning = f.values?.[Number(v)] ?? f.doc ?? "";
      rows.push({ name: f.name, value: shown, meaning, bits: bits(f) });
    }
    return rows;
  }

  /** Raw dwords as `0x…` qwords (the way dmesg prints DTE words). */
  qwords(w: Dwords, off = 0): string[] {
    const out: string[] = [];
    for (let d = 0; d < this.dwords; d += 2) {
      const hi = d + 1 < this.dwords ? w[off + d + 1] >>> 0 : 0;
      out.push(
        hi.toString(16).padStart(8, "0") + (w[off + d] >>> 0).toString(16).padStart(8, "0"),
      );
    }
    return out;
  }

  /** A composite's value: each part's field value shifted to its place, OR-ed together. */
  private compositeBig(w: Dwords, c: CompositeSpec, off: number): bigint {
    let v = 0n;
    for (const p of c.parts) v |= this.field(p.field as N).big(w, off) << BigInt(p.at);
    return v;
  }
}

/** A printable row of a decoded structure. */
export interface FieldRow {
  /** The field's (or composite's) name. */
  name: string;
  /** Its value as printed: decimal up to 9 and for flags, else hex (addresses shifted in place). */
  value: string;
  /** What the value means: its enumerated meaning, else the field's doc ("" when none). */
  meaning: string;
  /** Bit range as the spec writes it: `q1[15:0]`. */
  bits: string;
}

function bits(f: FieldSpec): string {
  const hi = f.lo + f.width - 1;
  return `q${f.q}[${f.width === 1 ? f.lo : `${hi}:${f.lo}`}]`;
}

/** `0x…` lower-case hex of a bigint or number. */
export function hex(v: bigint | number, pad = 0): string {
  return "0x" + v.toString(16).padStart(pad, "0");
}

/** Splits a 64-bit value given as bigint into [low dword, high dword]. */
export function splitQword(v: bigint): [number, number] {
  return [Number(v & 0xffff_ffffn), Number((v >> 32n) & 0xffff_ffffn)];
}

/** Joins two dwords into a number (exact below 2^53). */
export function joinQword(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/**
 * Number of consecutive 1 bits of the qword (`lo`, `hi`) from bit `from` upwards, counting
 * no further than bit `to` - 1.
 */
export function onesFrom(lo: number, hi: number, from: number, to = 64): number {
  let n = 0;
  for (let b = from; b < to; b++) {
    const bit = b < 32 ? (lo >>> b) & 1 : (hi >>> (b - 32)) & 1;
    if (!bit) break;
    n++;
  }
  return n;
}

/** Splits a number (< 2^53) into [low dword, high dword]. */
export function splitNumber(v: number): [number, number] {
  return [v % TWO32 >>> 0, Math.floor(v / TWO32) >>> 0];
}

/**
 * The low dword of a number (< 2^53): `splitNumber(v)[0]`, with no array made. (`>>> 0` takes
 * an integer modulo 2^32, as `% 2^32` then `>>> 0` does, without a floating-point modulo.)
 */
export function lo32(v: number): number {
  return v >>> 0;
}

/** The high dword of a number (< 2^53): `splitNumber(v)[1]`, with no array made. */
export function hi32(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}

/** Shorthand used by the declarations: a field spec. */
export function f(
  name: string,
  q: number,
  lo: number,
  width: number,
  doc?: string,
  extra: Partial<FieldSpec> = {},
): FieldSpec {
  return { name, q, lo, width, doc, ...extra };
}

/** Shorthand: a reserved field. */
export function rsvd(name: string, q: number, lo: number, width: number): FieldSpec {
  return { name, q, lo, width, reserved: true };
}
