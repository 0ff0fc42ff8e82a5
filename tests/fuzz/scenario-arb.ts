/**
 * A fast-check arbitrary of scenario files: a built-in scenario with a few mutations, each a
 * change a user (or a careless editor) could make — a value replaced by one near or far
 * beyond its bounds, by another type or form (hex strings, sizes, PCI addresses), a key
 * deleted, an array element dropped or repeated (two identical IOMMUs, 50 NICs), a device,
 * region or crashkernel added. Most cases stay close to a machine that can exist, so the
 * simulation itself is exercised, not only the schema.
 */
import fc from "npm:fast-check@^4";
import { stringify as toYaml } from "npm:yaml@^2";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** One fuzz case: the file's text, its format, and how it is run. */
export interface FuzzCase {
  text: string;
  format: "json" | "yaml";
  /** Series spec (`""` = the 4.13 baseline). */
  series: string;
  /** A seed override, or undefined for the scenario's. */
  seed?: number;
}

/** Every path to a value (leaf or not) of `v`, outermost first. */
function paths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  }
  return out;
}

function getAt(v: Json, p: Path): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of p) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, Json>)[k];
  }
  return cur;
}

/** Sets (or, with `undefined`, deletes) the value at `p`; a missing parent leaves `v` as is. */
function setAt(v: Json, p: Path, x: Json | undefined): void {
  if (!p.length) return;
  const parent = getAt(v, p.slice(0, -1));
  if (parent === null || typeof parent !== "object") return;
  const k = p[p.length - 1];
  if (Array.isArray(parent)) {
    if (typeof k !== "number" || k > parent.length) return;
    if (x === undefined) parent.splice(k, 1);
    else parent[k] = x;
  } else if (x === undefined) delete parent[k as string];
  else parent[k as string] = x;
}

const ENUMS = [
  "nic",
  "disk",
  "svm",
  "ram",
  "reserved",
  "hole",
  "skip",
  "halt",
  "retry",
  "kdump",
  "kexec",
  "running",
  "fatal-error",
  "same",
  "baseline",
  "bnx2",
  "nvme",
  "svm-accel",
  "all",
];

const hexOf = (n: number) => `0x${Math.floor(n).toString(16)}`;

/** A number near, at or far beyond the bounds a field may have, or a scaled original. */
function numberLike(orig: number): fc.Arbitrary<Json> {
  const scaled = fc.constantFrom(0, 1e-3, 0.1, 0.5, 0.9, 1.1, 2, 10, 1000, 1e6).map((f) =>
    Number.isInteger(orig) ? Math.round(orig * f) : orig * f
  );
  return fc.oneof(
    { weight: 4, arbitrary: scaled },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        0,
        1,
        -1,
        0.5,
        63,
        64,
        255,
        256,
        1023,
        4096,
        2 ** 31,
        2 ** 32,
        2 ** 47,
        2 ** 52,
        2 ** 53,
        2 ** 64,
        1e308,
        -0,
      ),
    },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: Math.max(16, Math.ceil(2 * orig)) }) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.nat().map((n) => hexOf(n * 4096)) },
  );
}

/** A string of the kind a field holds: hex, size, PCI address, enum value, or garbage. */
function stringLike(orig: string): fc.Arbitrary<Json> {
  const hex = fc.oneof(
    fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }).map((b) => `0x${b.toString(16)}`),
    fc.integer({ min: 0, max: 0xfffff }).map((n) => hexOf(n * 0x1000)),
    fc.constantFrom("0x0", "0x1", "0xfee00000", "0xfeb80000", "0x10000000000000", "0xZZ"),
  );
  const size = fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom("K", "M", "G", "T"))
    .map(([n, u]) => `${n}${u}`);
  const bdf = fc.tuple(fc.nat(0xff), fc.nat(0x20), fc.nat(8)).map(([b, d, f]) =>
    `${b.toString(16).padStart(2, "0")}:${d.toString(16).padStart(2, "0")}.${f}`
  );
  const kinds: fc.Arbitrary<Json>[] = [fc.constantFrom(...ENUMS), fc.string({ maxLength: 12 })];
  if (/^0x/i.test(orig)) kinds.unshift(hex, hex, size);
  else if (/^\d+[KMGT]$/i.test(orig)) kinds.unshift(size, hex);
  else if (/^[0-9a-f]{2}:/i.test(orig)) kinds.unshift(bdf, bdf);
  return fc.oneof(...kinds);
}

/** Another value for `orig`: of its own kind mostly, sometimes of another type. */
function replacement(orig: Json): fc.Arbitrary<Json> {
  const other = fc.constantFrom<Json>(null, true, "x", [], {}, 7);
  if (typeof orig === "number") {
    return fc.oneof({ weight: 9, arbitrary: numberLike(orig) }, { weight: 1, arbitrary: other });
  }
  if (typeof orig === "string") {
    return fc.oneof({ weight: 9, arbitrary: stringLike(orig) }, { weight: 1, arbitrary: other });
  }
  if (typeof orig === "boolean") return fc.oneof(fc.constant(!orig), other);
  return other;
}

/** A NIC at `bdf`/`bar` like the default's port 1 (for "50 NICs"). */
function nic(i: number, base: Json): Json {
  const copy = structuredClone(base) as Record<string, Json>;
  copy.bdf = `04:${((i >> 3) & 0x1f).toString(16).padStart(2, "0")}.${i & 7}`;
  copy.bar = hexOf(0xf1000000 + i * 0x10000);
  return copy;
}

/** A mutation of one scenario (a function applied to a deep copy). */
type Mutation = (s: Json) => void;

function mutations(base: Json): fc.Arbitrary<Mutation> {
  const all = paths(base).filter((p) => p.length > 0);
  const arrays = all.filter((p) => Array.isArray(getAt(base, p)));
  const set = fc.constantFrom(...all).chain((p) =>
    replacement(getAt(base, p)!).map((x): Mutation => (s) => setAt(s, p, x))
  );
  const del = fc.constantFrom(...all).map((p): Mutation => (s) => setAt(s, p, undefined));
  const arrayOp = fc.tuple(
    fc.constantFrom(...arrays),
    fc.nat(),
    fc.constantFrom("drop", "repeat", "clear"),
  ).map(([p, i, op]): Mutation => (s) => {
    const a = getAt(s, p);
    if (!Array.isArray(a)) return;
    if (op === "clear") a.length = 0;
    else if (a.length && op === "drop") a.splice(i % a.length, 1);
    else if (a.length) a.push(structuredClone(a[i % a.length]));
  });
  const nics = fc.integer({ min: 2, max: 64 }).map((n): Mutation => (s) => {
    const devices = getAt(s, ["machine", "devices"]);
    if (!Array.isArray(devices) || !devices.length) return;
    const isObject = (d: Json) => d !== null && typeof d === "object" && !Array.isArray(d);
    const model = devices.find((d) => isObject(d) && (d as Record<string, Json>).kind === "nic") ??
      devices.find(isObject);
    if (model === undefined) return;
    for (let i = 0; i < n; i++) devices.push(nic(i, model));
  });
  const region = fc.record({
    base: fc.integer({ min: 0, max: 0x4ff }).map((n) => hexOf(n * 0x1000000)),
    size: fc.constantFrom("0", "4K", "1M", "256M", "1G", "16G", "1T", "64T"),
    kind: fc.constantFrom("ram", "reserved", "hole"),
  }).map((r): Mutation => (s) => {
    const map = getAt(s, ["machine", "memoryMap"]);
    if (Array.isArray(map)) map.push({ ...r, name: "fuzz" });
  });
  const crash = fc.record({
    base: fc.integer({ min: 0, max: 0x4ff }).map((n) => hexOf(n * 0x1000000)),
    size: fc.constantFrom("64M", "65M", "128M", "256M", "512M"),
    add: fc.boolean(),
  }).map(({ base, size, add }): Mutation => (s) => {
    const cks = getAt(s, ["crashkernel"]);
    if (!Array.isArray(cks)) return;
    const c = { base, size, name: "fuzz" };
    if (add) cks.push(c);
    else cks[0] = c;
  });
  return fc.oneof(
    { weight: 10, arbitrary: set },
    { weight: 2, arbitrary: del },
    { weight: 3, arbitrary: arrayOp },
    { weight: 1, arbitrary: nics },
    { weight: 1, arbitrary: region },
    { weight: 2, arbitrary: crash },
  );
}

/** Scenario files: a built-in scenario, 0–4 mutations, JSON or YAML, a series and maybe a seed. */
export function scenarioCaseArb(): fc.Arbitrary<FuzzCase> {
  const bases = Object.values(SCENARIOS).map((s) => JSON.parse(JSON.stringify(s)) as Json);
  return fc.constantFrom(...bases).chain((base) =>
    fc.record({
      muts: fc.array(mutations(base), { minLength: 0, maxLength: 4 }),
      yaml: fc.boolean(),
      series: fc.constantFrom("", "all", "all,bnx2-no-kdump-wait"),
      seed: fc.option(fc.nat(1000), { nil: undefined }),
    }).map(({ muts, yaml, series, seed }): FuzzCase => {
      const s = structuredClone(base);
      for (const m of muts) m(s);
      return {
        text: yaml ? toYaml(s) : JSON.stringify(s, null, 1),
        format: yaml ? "yaml" : "json",
        series,
        seed,
      };
    })
  );
}
