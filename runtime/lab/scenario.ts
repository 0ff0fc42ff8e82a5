/**
 * Scenarios: the machine, its firmware tables, the two kernels' settings and the panic, as
 * zod-validated data. Addresses and sizes may be numbers, hex strings ("0xfeb80000") or
 * sizes with a unit ("256M", "16G") so scenario files read like firmware dumps.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import { scenarioProblems } from "./scenario-checks.ts";
import { atMost, LIMITS as L, limitText, NIC_LINK_SPEEDS } from "./scenario-limits.ts";

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A number given as a number, `0x…` hex, or a size with K/M/G/T. */
export const Num = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) {
      ctx.addIssue({ code: "custom", message: `expected a non-negative integer, got ${v}` });
      return z.NEVER;
    }
    return v;
  }
  const s = v.trim();
  let n: number | undefined;
  let m = /^0x([0-9a-f]+)$/i.exec(s);
  if (m) n = parseInt(m[1], 16);
  else if ((m = /^(\d+)\s*([KMGT])i?B?$/i.exec(s))) n = Number(m[1]) * UNITS[m[2].toUpperCase()];
  else if (/^\d+$/.test(s)) n = Number(s);
  if (n === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${v}" is not a number, 0x… hex value or size like 256M`,
    });
    return z.NEVER;
  }
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: `"${v}" is above 2^53 (not exact as a number)` });
    return z.NEVER;
  }
  return n;
});

/** A PCI address `BB:DD.F` → 16-bit DeviceID. */
export const Bdf = z.union([z.string(), z.number().int().min(0).max(0xffff)]).transform(
  (v, ctx) => {
    if (typeof v === "number") return v; // already a DeviceID (a parsed scenario parses again)
    const m = /^(?:0000:)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(v.trim());
    if (!m) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a PCI address like 01:00.0` });
      return z.NEVER;
    }
    const dev = parseInt(m[2], 16);
    if (dev > 0x1f) {
      ctx.addIssue({ code: "custom", message: `device number 0x${m[2]} in "${v}" is above 0x1f` });
      return z.NEVER;
    }
    return (parseInt(m[1], 16) << 8) | (dev << 3) | parseInt(m[3], 10);
  },
);

/** Ethernet frame bytes: 64 to a 9000-byte-MTU jumbo frame. */
const Bytes = z.number().int().min(L.frameBytesMin.value, {
  message: `at least ${limitText(L.frameBytesMin)}`,
})
  .max(L.frameBytesMax.value, atMost(L.frameBytesMax)).describe(
    `frame bytes, ${L.frameBytesMin.value}–${L.frameBytesMax.value} (Ethernet, jumbo frames included)`,
  );

const Range = z.object({ base: Num, size: Num, name: z.string().optional() }).strict();

const Region = z.object({
  base: Num,
  size: Num,
  kind: z.enum(["ram", "reserved", "hole"]),
  name: z.string(),
}).strict();

const Efr = z.record(z.string(), z.number().int().nonnegative());

const Iommu = z.object({
  devid: Bdf,
  mmioBase: Num,
  efr: Efr.default({ IASup: 1, PPRSup: 1, GTSup: 1, PreFSup: 1 }),
  devices: z.union([z.literal("all"), z.array(z.object({ first: Bdf, last: Bdf }).strict())])
    .default("all"),
  dteCacheEntries: z.number().int().positive().default(64),
  iotlbEntries: z.number().int().positive().default(512),
}).strict();

const AbortPolicy = z.enum(["skip", "halt", "retry"]);

const Nic = z.object({
  kind: z.literal("nic"),
  /**
   * Which Broadcom controller: a NetXtreme II BCM5709 (driven by bnx2) or a NetXtreme BCM5720
   * (driven by tg3).
   */
  model: z.enum(["bcm5709", "bcm5720"]).default("bcm5709"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicy.default("skip"),
  prefetch: z.number().int().positive().default(8),
  traffic: z.object({
    framesPerSecond: z.number().nonnegative().describe(
      "frames/s arriving from the wire; at most the link's line rate, " +
        "linkMbps·10^6 / ((frameBytes + 20) · 8) (8 bytes preamble and 12 bytes inter-frame gap " +
        "per frame): 13,858 at 9000 bytes and 1,488,095 at 64 bytes on 1 GbE",
    ),
    frameBytes: Bytes,
    /**
     * The port's link speed, Mb/s: one a NIC of its model supports (bnx2, the NetXtreme II
     * family: 10, 100, 1000, 2500 or 10000; default 1000, the BCM5709's 1000Base-T).
     */
    linkMbps: z.number().int().positive().default(1000).describe(
      `link speed in Mb/s, one the NIC model supports (${
        Object.entries(NIC_LINK_SPEEDS).map(([m, v]) => `${m}: ${v.join(", ")}`).join("; ")
      }); default 1000`,
    ),
    /** Bursts on the wire (a storm, a flood of small frames), in machine time. */
    bursts: z.array(
      z.object({
        /** Start, ms since power-on (may be fractional). */
        atMs: z.number().nonnegative().max(L.burstAtMs.value, atMost(L.burstAtMs, " ms")).describe(
          `ms since power-on, at most ${limitText(L.burstAtMs)}`,
        ),
        durationUs: z.number().positive().max(L.burstUs.value, atMost(L.burstUs, " µs")).describe(
          `µs, at most ${limitText(L.burstUs)}`,
        ),
        framesPerSecond: z.number().positive().describe("at most the link's line rate"),
        frameBytes: Bytes,
      }).strict(),
    ).default([]),
  }).strict(),
  driver: z.object({
    rxRingSize: z.number().int().min(2).max(4096),
    rxBufBytes: z.number().int().positive().max(L.rxBufBytes.value, atMost(L.rxBufBytes, " bytes"))
      .describe(
        `bytes, at most ${limitText(L.rxBufBytes)}`,
      ),
    statsTicksUs: z.number().int().min(L.statsTicksMin.value, {
      message: `at least ${limitText(L.statsTicksMin, " µs")}`,
    }).max(L.statsTicksMax.value, atMost(L.statsTicksMax, " µs"))
      .describe(`statistics DMA period, µs: ${L.statsTicksMin.value}–${L.statsTicksMax.value}`),
    coalTicksUs: z.number().int().positive().max(
      L.coalTicksMax.value,
      atMost(L.coalTicksMax, " µs"),
    ).describe(
      `host coalescing, µs: at most ${limitText(L.coalTicksMax)}`,
    ),
    dmaMaskBits: z.number().int().min(24).max(64),
  }).strict(),
  /** Whether the first kernel's userspace brings the interface up. */
  up: z.boolean().default(true),
}).strict();

const Disk = z.object({
  kind: z.literal("disk"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicy.default("skip"),
}).strict();

const Svm = z.object({
  kind: z.literal("svm"),
  bdf: Bdf,
  bar: Num,
  abortPolicy: AbortPolicy.default("skip"),
  /** The process bound to the device in the first kernel (amd_iommu_bind_pasid). */
  driver: z.object({
    pasid: z.number().int().min(1).max(511),
    va: Num.describe("page-aligned user address of the buffer; it ends below 2^47"),
    pages: z.number().int().positive().max(L.reg32.value, atMost(L.reg32)).describe(
      "pages of the job buffer (a 32-bit register)",
    ),
    resident: z.number().int().nonnegative().describe("pages present from the start (≤ pages)"),
    intervalUs: z.number().int().positive().max(L.reg32.value, atMost(L.reg32)).describe(
      "job period, µs (a 32-bit register)",
    ),
  }).strict(),
}).strict();

const Device = z.discriminatedUnion("kind", [Nic, Disk, Svm]);

/** The scenario's shape (what the physics checks read). */
const ScenarioShape = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
  description: z.string(),
  seed: z.number().int().nonnegative().default(1),
  machine: z.object({
    memoryMap: z.array(Region).min(1).max(
      L.memoryMapEntries.value,
      atMost(L.memoryMapEntries, " entries"),
    ),
    iommus: z.array(Iommu).min(1).max(L.iommus.value, atMost(L.iommus)),
    /** PCI BARs and bridge windows: the IOVA allocator keeps these out of DMA domains. */
    pciWindows: z.array(Range).default([]),
    devices: z.array(Device).min(1),
    /** DeviceIDs that share an IOMMU group (multifunction without ACS). */
    sharedGroups: z.array(z.tuple([Bdf, Bdf])).default([]),
    /**
     * The chipset's I/O APIC (the FCH's): its APIC ID, the DeviceID the IVRS gives its
     * interrupt messages (00:14.0 on AMD) and its register window. The system timer reaches
     * the CPU through it — and through the IOMMU's interrupt remapping.
     */
    ioapic: z.object({
      apicId: z.number().int().min(0).max(255),
      devid: Bdf,
      mmioBase: Num,
    }).strict().default({ apicId: 128, devid: 0x00a0, mmioBase: 0xfec0_0000 }),
    /** The HPET, whose legacy-replacement timer drives ISA IRQ 0 (I/O APIC pin 2). */
    hpet: z.object({ mmioBase: Num }).strict().default({ mmioBase: 0xfed0_0000 }),
  }).strict(),
  /** crashkernel= reservation(s). */
  crashkernel: z.array(Range).min(1),
  firstKernel: z.object({
    cmdline: z.string(),
    /** Share of the first kernel's RAM in use, by kind (the rest is free). */
    memoryUse: z.object({
      slab: z.number().min(0).max(1),
      pagecache: z.number().min(0).max(1),
      user: z.number().min(0).max(1),
    }).strict().refine(
      (u) => u.slab + u.pagecache + u.user <= 1,
      "memoryUse shares add up to more than 1",
    ),
    /** Time from the end of boot to the panic, ms. */
    uptimeMs: z.number().positive().max(L.uptimeMs.value, atMost(L.uptimeMs, " ms")).describe(
      `ms from the end of boot to the panic, at most ${limitText(L.uptimeMs)}`,
    ),
    /** Which kernel build panicked: the same one as the kdump kernel, or the 4.13 baseline. */
    build: z.enum(["same", "baseline"]).default("same"),
    /**
     * Interrupt remapping table entries the first kernel's AMD driver uses: 256 (4.x) or 512
     * (a first kernel of a later generation, 5.10+).
     */
    irqTableEntries: z.union([z.literal(256), z.literal(512)]).default(256),
    /**
     * How the first kernel dies: a crash while running (sysrq), or a fatal hardware error
     * whose firmware-first handling reset the IOMMUs listed (by index) and the devices behind
     * them before the OS panicked.
     */
    panic: z.discriminatedUnion("during", [
      z.object({ during: z.literal("running") }).strict(),
      z.object({
        during: z.literal("fatal-error"),
        resetIommus: z.array(z.number().int().nonnegative()).min(1),
      }).strict(),
    ]).default({ during: "running" }),
  }).strict(),
  second: z.object({
    /** kdump after a panic, or a plain kexec reboot. */
    mode: z.enum(["kdump", "kexec"]).default("kdump"),
    cmdline: z.string(),
    /** Time between the panic (or reboot) and the second kernel's start, ms. */
    kexecDelayMs: z.number().nonnegative().max(L.kexecDelayMs.value, atMost(L.kexecDelayMs, " ms"))
      .default(40).describe(
        `ms, at most ${limitText(L.kexecDelayMs)}`,
      ),
    /** Plain kexec only: whether the first kernel shuts the IOMMU down before jumping. */
    iommuShutdown: z.boolean().default(true),
    /** Drivers the second kernel has (kdump initramfs). */
    drivers: z.array(z.enum(["bnx2", "tg3", "nvme", "svm-accel"])).default(["bnx2", "nvme"]),
    /** From the end of the driver probes to the kdump service starting the capture, ms. */
    serviceDelayMs: z.number().nonnegative().max(
      L.serviceDelayMs.value,
      atMost(L.serviceDelayMs, " ms"),
    ).default(1500).describe(
      `ms, at most ${limitText(L.serviceDelayMs)}`,
    ),
    /** Give up (verdict hang) if the capture has not finished this long after the panic, s. */
    deadlineS: z.number().positive().max(L.deadlineS.value, atMost(L.deadlineS, " s")).default(120)
      .describe(
        `s after the panic, at most ${limitText(L.deadlineS)}`,
      ),
  }).strict(),
}).strict().describe(
  "A kdump-lab scenario: the machine, its firmware tables, the two kernels and the panic. " +
    "Besides each field's bounds, a scenario must describe a machine that can exist (no " +
    "overlapping RAM, crashkernel inside RAM, BARs aligned and inside the PCI windows, one " +
    "function per BDF, frame rates within the line rate, ...) and a run of at most " +
    `${limitText(L.work)}: NIC frames before the panic, RX buffers, statistics DMAs and ` +
    "accelerator jobs up to the capture's deadline.",
);

/** The scenario schema: its shape, then what no machine can be (see scenario-checks.ts). */
export const ScenarioSchema = ScenarioShape.superRefine((s, ctx) => {
  // What no machine can be (overlapping RAM, a BAR in RAM, a frame rate above the line
  // rate, ...): checked once the file is well-formed, every problem with its path.
  for (const p of scenarioProblems(s)) {
    ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  }
});

/** A validated scenario. */
export type Scenario = z.output<typeof ScenarioShape>;
/** A scenario as written (before defaults and unit parsing). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Scenarios made by {@link parseScenario}: validated, frozen, safe to use again as they are. */
const PARSED = new WeakSet<object>();

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Raw inputs parsed before, with the fingerprint they had then: a sweep, a bisect or a bench
 * runs the same input object many times, and gets the scenario parsed the first time back as
 * long as the object still holds the same data.
 */
const PARSED_FROM = new WeakMap<object, { key: string; scenario: Scenario }>();

/**
 * A fingerprint of plain data — objects with the plain prototype (or none) whose properties
 * are ordinary enumerable data properties, arrays, strings, numbers (NaN, ±Infinity and -0 told
 * apart), booleans, null, undefined — equal for two inputs exactly when every value the
 * schema could read is the same. Undefined for anything else (a class instance, a getter, a
 * function, a cycle): such an input is parsed every time.
 */
export function dataFingerprint(v: unknown, depth = 0): string | undefined {
  if (v === null) return "n";
  switch (typeof v) {
    case "undefined":
      return "u";
    case "boolean":
      return v ? "T" : "F";
    case "number":
      return Object.is(v, -0) ? "#-0" : `#${v}`;
    case "string":
      return JSON.stringify(v);
    case "object":
      break;
    default:
      return undefined;
  }
  if (depth > 32) return undefined;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o)) {
    let out = "[";
    for (let i = 0; i < o.length; i++) {
      const x = dataFingerprint(o[i], depth + 1);
      if (x === undefined) return undefined;
      out += x + ",";
    }
    return out + "]";
  }
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return undefined;
  let out = "{";
  for (const k of Object.getOwnPropertyNames(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k)!;
    if (!("value" in d) || !d.enumerable) return undefined;
    const x = dataFingerprint(d.value, depth + 1);
    if (x === undefined) return undefined;
    out += JSON.stringify(k) + ":" + x + ",";
  }
  return out + "}";
}

/**
 * Validates a scenario once: the result is frozen and recognised by later calls, which return
 * it as it is (so a matrix worker or a sweep parses its scenario once, not once per run). A
 * raw input is parsed with {@link ScenarioSchema} (throws its ZodError) — once per input
 * object while it holds the same plain data (see {@link dataFingerprint}).
 */
export function parseScenario(input: ScenarioInput | Scenario): Scenario {
  if (typeof input !== "object" || input === null) return ScenarioSchema.parse(input) as never;
  if (PARSED.has(input)) return input as Scenario;
  const key = dataFingerprint(input);
  if (key !== undefined) {
    const hit = PARSED_FROM.get(input);
    if (hit && hit.key === key) return hit.scenario;
  }
  const s = deepFreeze(ScenarioSchema.parse(input));
  PARSED.add(s);
  if (key !== undefined) PARSED_FROM.set(input, { key, scenario: s });
  return s;
}
