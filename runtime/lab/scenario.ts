/**
 * Scenarios: the machine, its firmware tables, the two kernels' settings and the panic, as
 * zod-validated data. Addresses and sizes may be numbers, hex strings ("0xfeb80000") or
 * sizes with a unit ("256M", "16G") so scenario files read like firmware dumps.
 *
 * @module
 */
import { z } from "npm:zod@^4";

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
  let m = /^0x([0-9a-f]+)$/i.exec(s);
  if (m) return parseInt(m[1], 16);
  m = /^(\d+)\s*([KMGT])i?B?$/i.exec(s);
  if (m) return Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (/^\d+$/.test(s)) return Number(s);
  ctx.addIssue({
    code: "custom",
    message: `"${v}" is not a number, 0x… hex value or size like 256M`,
  });
  return z.NEVER;
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
    framesPerSecond: z.number().nonnegative(),
    frameBytes: z.number().int().positive(),
    /** Bursts on the wire (a storm, a flood of small frames), in machine time. */
    bursts: z.array(
      z.object({
        /** Start, ms since power-on (may be fractional). */
        atMs: z.number().nonnegative(),
        durationUs: z.number().positive(),
        framesPerSecond: z.number().positive(),
        frameBytes: z.number().int().positive(),
      }).strict(),
    ).default([]),
  }).strict(),
  driver: z.object({
    rxRingSize: z.number().int().min(2).max(4096),
    rxBufBytes: z.number().int().positive(),
    statsTicksUs: z.number().int().positive(),
    coalTicksUs: z.number().int().positive(),
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
    va: Num,
    pages: z.number().int().positive(),
    resident: z.number().int().nonnegative(),
    intervalUs: z.number().int().positive(),
  }).strict(),
}).strict();

const Device = z.discriminatedUnion("kind", [Nic, Disk, Svm]);

/** The scenario schema. */
export const ScenarioSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and dashes"),
  description: z.string(),
  seed: z.number().int().nonnegative().default(1),
  machine: z.object({
    memoryMap: z.array(Region).min(1),
    iommus: z.array(Iommu).min(1),
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
    uptimeMs: z.number().positive(),
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
    kexecDelayMs: z.number().nonnegative().default(40),
    /** Plain kexec only: whether the first kernel shuts the IOMMU down before jumping. */
    iommuShutdown: z.boolean().default(true),
    /** Drivers the second kernel has (kdump initramfs). */
    drivers: z.array(z.enum(["bnx2", "tg3", "nvme", "svm-accel"])).default(["bnx2", "nvme"]),
    /** From the end of the driver probes to the kdump service starting the capture, ms. */
    serviceDelayMs: z.number().nonnegative().default(1500),
    /** Give up (verdict hang) if the capture has not finished this long after the panic, s. */
    deadlineS: z.number().positive().default(120),
  }).strict(),
}).strict();

/** A validated scenario. */
export type Scenario = z.output<typeof ScenarioSchema>;
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
 * Validates a scenario once: the result is frozen and recognised by later calls, which return
 * it as it is (so a matrix worker or a sweep parses its scenario once, not once per run).
 * Anything else is parsed with {@link ScenarioSchema} (throws its ZodError).
 */
export function parseScenario(input: ScenarioInput | Scenario): Scenario {
  if (typeof input === "object" && input !== null && PARSED.has(input)) return input as Scenario;
  const s = deepFreeze(ScenarioSchema.parse(input));
  PARSED.add(s);
  return s;
}
