/**
 * The bounds a scenario's values must keep, each with the reason for it: what hardware and
 * Linux 4.13 allow, and what keeps one run bounded (a few simulated minutes at most, a few
 * seconds of work). The scenario schema's field descriptions and the physics checks
 * (scenario-checks.ts) read them from here, so the documentation and the checks cannot
 * disagree.
 *
 * @module
 */

/** One bound: its value and why it is what it is. */
export interface Limit {
  readonly value: number;
  readonly why: string;
}

const MiB = 2 ** 20, TiB = 2 ** 40;

/** Every bound a scenario is checked against. */
export const LIMITS = {
  /** Physical addresses: AMD64 defines at most 52 bits (the IOMMU's tables hold 52-bit SPAs). */
  physTop: { value: 2 ** 52, why: "AMD64 physical addresses have at most 52 bits" },
  /** e820 entries firmware can report (E820MAX in the boot protocol's zero page). */
  memoryMapEntries: { value: 128, why: "the e820 table holds at most 128 entries" },
  /** RAM in all: above every x86-64 server (and what the workload tagging handles quickly). */
  totalRam: { value: 16 * TiB, why: "more RAM than any x86-64 server has" },
  /** IOMMUs: Linux 4.13's MAX_IOMMUS. */
  iommus: { value: 32, why: "Linux 4.13 handles at most 32 IOMMUs (MAX_IOMMUS)" },
  /** An AMD IOMMU's MMIO register window: 16 KiB, aligned to its size. */
  iommuMmio: { value: 16 * 1024, why: "the IOMMU's MMIO window is 16 KiB, 16 KiB aligned" },
  /** The crashed kernel's image and early allocations (lab/machine.ts places them). */
  kernelImageBase: { value: 16 * MiB, why: "the first kernel is loaded at 16 MiB" },
  kernelImageSize: { value: 64 * MiB, why: "the kernel image and its early allocations" },
  /** Ethernet frames: 64 bytes at least; a 9000-byte MTU plus header, VLAN tag and FCS. */
  frameBytesMin: { value: 64, why: "the shortest Ethernet frame is 64 bytes" },
  frameBytesMax: {
    value: 9022,
    why: "the longest jumbo frame bnx2 and tg3 take (9000-byte MTU + 22)",
  },
  /** Bytes on the wire per frame besides the frame: 8 preamble + 12 inter-frame gap. */
  wireOverhead: { value: 20, why: "each frame is preceded by 8 bytes preamble and 12 bytes IFG" },
  /** RX buffer: a jumbo frame plus headroom fits in 16 KiB. */
  rxBufBytes: { value: 16 * 1024, why: "bnx2's largest RX buffer (jumbo MTU + headroom)" },
  /** bnx2 statistics ticks: 256 µs granularity, at most 0xffff00 µs. */
  statsTicksMin: { value: 256, why: "bnx2 programs statistics ticks in units of 256 µs" },
  statsTicksMax: { value: 0xffff00, why: "bnx2's largest statistics period (0xffff00 µs)" },
  /** bnx2 host coalescing ticks: a 10-bit field. */
  coalTicksMax: { value: 1023, why: "bnx2's RX coalescing ticks are a 10-bit field" },
  /** Registers the SVM accelerator's driver programs are 32 bits wide. */
  reg32: { value: 0xffff_ffff, why: "the device register is 32 bits wide" },
  /** x86-64 user space with 4-level page tables ends at 2^47. */
  userVaTop: { value: 2 ** 47, why: "x86-64 user addresses (4-level paging) end at 2^47" },
  /** Time from boot to the panic. */
  uptimeMs: { value: 300_000, why: "5 simulated minutes keep a run bounded" },
  /** Time from the panic to the second kernel's start. */
  kexecDelayMs: { value: 60_000, why: "1 simulated minute keeps a run bounded" },
  /** From the driver probes to the kdump service. */
  serviceDelayMs: { value: 300_000, why: "5 simulated minutes keep a run bounded" },
  /** The capture's deadline after the panic. */
  deadlineS: { value: 600, why: "10 simulated minutes keep a run bounded" },
  /** When a burst on the wire may start. */
  burstAtMs: { value: 900_000, why: "no run lasts longer than 15 simulated minutes" },
  /** How long one burst lasts. */
  burstUs: { value: 60_000_000, why: "1 simulated minute keeps a run bounded" },
  /**
   * Device operations a run may simulate: frames the NICs receive while the first kernel
   * runs, RX buffers the drivers map, statistics DMAs and accelerator jobs over the whole run.
   * Each is an upper bound (statistics DMAs and jobs are counted up to the capture's
   * deadline); at the budget a run takes a few seconds (about 20 µs per operation). The
   * default scenario's estimate is ~5,000.
   */
  work: {
    value: 200_000,
    why: "the simulation's budget of device operations per run",
  },
} as const satisfies Record<string, Limit>;

/** Link speeds (Mb/s) each NIC model's ports can run at. */
export const NIC_LINK_SPEEDS: Record<string, readonly number[]> = {
  /**
   * NetXtreme II: BCM5706/5708/5709 1000Base-T, 5708S/5709S 2.5G SerDes. 10 GbE is the family's
   * BCM57710/57711, which Linux drives with bnx2x, not bnx2; the model lets a bcm5709 port run at
   * it for the constructed torn-devtab-write scenario.
   */
  bnx2: [10, 100, 1000, 2500, 10000],
  /** NetXtreme BCM57xx (tg3): 10/100/1000Base-T. */
  tg3: [10, 100, 1000],
};

/**
 * The most frames per second a link of `mbps` carries at `frameBytes` per frame: each frame
 * takes (frameBytes + 20) bytes on the wire (preamble and inter-frame gap), 8 bits each.
 * 1 GbE at 64-byte frames: 1,488,095 frames/s.
 */
export function lineRate(mbps: number, frameBytes: number): number {
  return Math.floor(mbps * 1e6 / ((frameBytes + LIMITS.wireOverhead.value) * 8));
}

/** The message of a value above a bound: `at most 300,000 ms (why)`. */
export function atMost(l: Limit, unit = ""): { message: string } {
  return { message: `at most ${limitText(l, unit)}` };
}

/** `N (why)` — how descriptions and messages quote a bound. */
export function limitText(l: Limit, unit = ""): string {
  return `${grouped(l.value)}${unit} (${l.why})`;
}

/**
 * `n` with thousands separators, as `n.toLocaleString("en-US")` writes it (`300,000`) — for a
 * safe integer without loading the locale data (which costs a cold start ~20 ms); anything
 * else goes to toLocaleString.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  const digits = String(Math.abs(n));
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}
