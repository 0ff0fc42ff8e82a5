/**
 * A Broadcom-like Ethernet controller (a NetXtreme II BCM5709 for bnx2, or a NetXtreme BCM5720
 * for tg3: {@link NIC_MODELS}).
 *
 * Not the real register map — a small one with the same behaviours that matter across a
 * panic: an RX descriptor ring the driver refills (producer doorbell), descriptors
 * prefetched a few at a time, frames DMA-written into the posted buffers, a status block
 * written after RX activity (host coalescing) and a statistics block written every
 * `STATS_TICKS` µs. Frames keep arriving from the network whatever the host does; the
 * engines keep running until the driver stops them (`DMA_STOP`, then poll `PENDING`, the
 * way bnx2_wait_dma_complete does) or resets the chip.
 *
 * @module
 */
import { joinQword } from "../bits.ts";
import type { Scheduled } from "../clock.ts";
import type { Prng } from "../prng.ts";
import { type DeviceConfig, DmaDevice, type PciIdentity } from "./device.ts";
import { dwords } from "../dwords.ts";

/** Register offsets of the NIC's BAR0. */
export const NIC_REG = {
  /** bit0 ENABLE (DMA engines), bit1 INT_EN, bit2 SOFT_RESET (self-clearing). */
  CTRL: 0x00,
  /** Read-only: bit0 ACTIVE (engines running), bit1 PENDING (transactions outstanding). */
  STATUS: 0x04,
  /** Write 1: stop all DMA engines (MISC_ENABLE_CLR_BITS-like). */
  DMA_STOP: 0x08,
  RX_RING_LO: 0x10,
  RX_RING_HI: 0x14,
  /** Number of 16-byte descriptors in the RX ring. */
  RX_RING_ENTRIES: 0x18,
  /** Producer index doorbell (driver writes the index after its last posted descriptor). */
  RX_PROD: 0x1c,
  STATUS_BLK_LO: 0x20,
  STATUS_BLK_HI: 0x24,
  STATS_BLK_LO: 0x28,
  STATS_BLK_HI: 0x2c,
  STATS_TICKS_US: 0x30,
  /** Host-coalescing delay between RX activity and the status block write / MSI, µs. */
  COAL_TICKS_US: 0x34,
  MSI_ADDR: 0x38,
  MSI_DATA: 0x3c,
  /** Read-only: the consumer index (next descriptor the NIC will use). */
  RX_CONS: 0x40,
  /** Read-only: frames dropped for lack of posted buffers. */
  RX_DROPS: 0x44,
} as const;

/** CTRL bits. */
export const NIC_CTRL = { ENABLE: 1, INT_EN: 2, SOFT_RESET: 4 } as const;
/** STATUS bits. */
export const NIC_STATUS = { ACTIVE: 1, PENDING: 2 } as const;
/** Bytes per RX descriptor: dw0/dw1 buffer address, dw2 buffer length, dw3 flags. */
export const NIC_RX_DESC_BYTES = 16;
/** Dwords of the status block: index, rx consumer, drops, frames. */
export const NIC_STATUS_BLK_DWORDS = 16;
/** Dwords of the statistics block. */
export const NIC_STATS_BLK_DWORDS = 64;

/** The network side of the NIC: who sends it frames. */
export interface NicTraffic {
  /** Mean frames per second arriving from the wire (0 = idle link). */
  framesPerSecond: number;
  /** Frame size in bytes. */
  frameBytes: number;
  /** Bursts on the wire (a storm, a backup starting): other rates for a while. */
  bursts?: readonly NicBurst[];
}

/** A stretch of different traffic on the wire, in machine time. */
export interface NicBurst {
  /** Start, ns since power-on. */
  atNs: number;
  durationNs: number;
  framesPerSecond: number;
  frameBytes: number;
}

/**
 * The Broadcom Gigabit Ethernet controllers the model's NIC stands in for. Both are the same
 * descriptor-ring DMA engine here; they differ in their PCI identity (so a different driver
 * binds: bnx2 for the NetXtreme II BCM5709, tg3 for the NetXtreme BCM5720) and in nothing
 * else the model needs. Both are 1 GbE ports (`lineRateBps`).
 */
export const NIC_MODELS = {
  /** NetXtreme II BCM5709 (bnx2): 14e4:1639. */
  bcm5709: { vendor: 0x14e4, device: 0x1639, classCode: 0x020000, lineRateBps: 1e9 },
  /** NetXtreme BCM5720 (tg3), the dual-port LOM of many AMD EPYC servers: 14e4:165f. */
  bcm5720: { vendor: 0x14e4, device: 0x165f, classCode: 0x020000, lineRateBps: 1e9 },
} as const satisfies Record<string, PciIdentity & { lineRateBps: number }>;

/** A NIC model's name. */
export type NicModel = keyof typeof NIC_MODELS;

/** NIC configuration. */
export interface NicConfig extends DeviceConfig {
  /** Which controller this is (default bcm5709). */
  model?: NicModel;
  traffic: NicTraffic;
  /** Descriptors the chip caches (default 8); it refetches when the cache is half empty. */
  prefetch?: number;
  /** Time the engines take to drain after DMA_STOP, ns (default 5 µs). */
  drainNs?: number;
}

/** Bytes of each page of a frame the model actually writes (the rest is not modelled). */
const MODELLED_BYTES_PER_PAGE = 64;

/** A continuation that does nothing. */
const NOTHING = () => {};

/** Size of the NIC's BAR0 (its register window), bytes. */
export const NIC_BAR_SIZE = 0x1000;

/** A Broadcom-like Ethernet controller (see {@link NIC_MODELS}). */
export class Nic extends DmaDevice {
  readonly barSize = NIC_BAR_SIZE;
  readonly id: PciIdentity;
  private cache: { addr: number; len: number }[] = [];
  private fetchIdx = 0;
  private statusIdx = 0;
  private coalescePending = false;
  private statsTimer = false;
  /** A descriptor fetch is in flight (the engine has one outstanding fetch at a time). */
  private fetching = false;
  /** Bumped by DMA_STOP and reset: completions of fetches started before are ignored. */
  private fetchEpoch = 0;
  private rng!: Prng;
  readonly stats = { frames: 0, bytes: 0, drops: 0, rxAborts: 0, statusWrites: 0, statsWrites: 0 };

  constructor(override readonly cfg: NicConfig) {
    super(cfg, 0x48 / 4);
    const { vendor, device, classCode } = NIC_MODELS[cfg.model ?? "bcm5709"];
    this.id = { vendor, device, classCode };
  }

  protected override powerOn(): void {
    this.rng = this.bus.clock.rng.fork(`nic:${this.devid}`);
    // Burst boundaries belong to the wire, not the chip: a reset does not cancel them.
    for (const b of this.cfg.traffic.bursts ?? []) {
      this.bus.clock.at(b.atNs, () => this.rateChanged(), `${this.name}:burst`);
      this.bus.clock.at(b.atNs + b.durationNs, () => this.rateChanged(), `${this.name}:burst-end`);
    }
  }

  /** The traffic on the wire right now: a burst's, or the steady one. */
  private traffic(): { framesPerSecond: number; frameBytes: number } {
    const t = this.bus.clock.now;
    for (const b of this.cfg.traffic.bursts ?? []) {
      if (t >= b.atNs && t < b.atNs + b.durationNs) return b;
    }
    return this.cfg.traffic;
  }

  private rateChanged(): void {
    if (this.wireTimer) this.unschedule(this.wireTimer);
    this.wireTimer = undefined;
    this.wireRunning = false;
    this.startWire();
  }

  /**
   * Frames arrive from the wire while the receive engine runs. When it has no posted
   * buffer left (fetch index caught up with the producer index, nothing prefetched) it
   * stops looking until the driver rings the producer doorbell; frames arriving meanwhile
   * are dropped and only counted.
   */
  private wireRunning = false;
  private wireTimer?: Scheduled;
  private stalledSince = -1;

  private startWire(): void {
    const fps = this.traffic().framesPerSecond;
    if (this.wireRunning || !this.enabled || fps <= 0) return;
    if (this.stalledSince >= 0) {
      const lost = Math.round((this.bus.clock.now - this.stalledSince) * fps / 1e9);
      this.stats.drops += lost;
      this.regs[NIC_REG.RX_DROPS >>> 2] += lost;
      this.stalledSince = -1;
    }
    this.wireRunning = true;
    this.wireTimer = this.schedule(this.rng.exp(1e9 / fps), this.wireFired, "wire");
  }

  /** A frame is on the wire (the wire timer fired); the next one is timed. */
  private readonly wireFired = () => {
    this.wireRunning = false;
    this.wireTimer = undefined;
    this.frameArrives();
    if (this.stalledSince < 0) this.startWire();
  };

  private stall(): void {
    if (this.stalledSince < 0) this.stalledSince = this.bus.clock.now;
  }

  private get ringEmpty(): boolean {
    const n = this.ringEntries();
    return !this.cache.length && (!n || this.fetchIdx === this.regs[NIC_REG.RX_PROD >>> 2] % n);
  }

  private get enabled(): boolean {
    return (this.regs[NIC_REG.CTRL >>> 2] & NIC_CTRL.ENABLE) !== 0 && !this.halted;
  }

  protected override get engineRunning(): boolean {
    return this.enabled;
  }

  override read32(offset: number): number {
    if (offset === NIC_REG.STATUS) {
      let s = this.regs[NIC_REG.STATUS >>> 2];
      if (this.enabled) s |= NIC_STATUS.ACTIVE;
      return s;
    }
    return super.read32(offset);
  }

  write32(offset: number, value: number): void {
    const i = offset >>> 2;
    if (i >= this.regs.length) return;
    switch (offset) {
      case NIC_REG.STATUS:
      case NIC_REG.RX_CONS:
      case NIC_REG.RX_DROPS:
        return; // read-only
      case NIC_REG.CTRL:
        if (value & NIC_CTRL.SOFT_RESET) return this.reset();
        this.regs[i] = value;
        this.startStatsTimer();
        this.startWire();
        return;
      case NIC_REG.RX_PROD:
        this.regs[i] = value;
        this.startWire();
        return;
      case NIC_REG.DMA_STOP:
        if (value & 1) this.stopDma();
        return;
      case NIC_REG.RX_RING_LO:
      case NIC_REG.RX_RING_HI:
        this.regs[i] = value;
        this.cache = [];
        this.fetchIdx = this.regs[NIC_REG.RX_CONS >>> 2];
        return;
      case NIC_REG.STATS_TICKS_US:
      case NIC_REG.STATS_BLK_LO:
      case NIC_REG.STATS_BLK_HI:
        this.regs[i] = value;
        this.startStatsTimer();
        return;
      default:
        this.regs[i] = value;
    }
  }

  private stopDma(): void {
    this.regs[NIC_REG.CTRL >>> 2] &= ~NIC_CTRL.ENABLE;
    this.regs[NIC_REG.STATUS >>> 2] |= NIC_STATUS.PENDING;
    this.cache = [];
    this.fetching = false;
    this.fetchEpoch++;
    this.schedule(this.cfg.drainNs ?? 5_000, () => {
      this.regs[NIC_REG.STATUS >>> 2] &= ~NIC_STATUS.PENDING;
    }, "drain");
  }

  protected override onReset(): void {
    this.cache = [];
    this.fetching = false;
    this.fetchEpoch++;
    this.fetchIdx = 0;
    this.statusIdx = 0;
    this.coalescePending = false;
    this.statsTimer = false;
    this.wireRunning = false;
    this.wireTimer = undefined;
    this.stalledSince = -1;
  }

  private ringEntries(): number {
    return this.regs[NIC_REG.RX_RING_ENTRIES >>> 2];
  }

  /**
   * Prefetches descriptors between the fetch index and the producer index. One fetch is in
   * flight at a time: a frame arriving meanwhile finds no descriptor and is dropped.
   */
  private prefetch(then: () => void): void {
    const n = this.ringEntries();
    const prod = this.regs[NIC_REG.RX_PROD >>> 2] % Math.max(n, 1);
    if (
      !n || this.fetchIdx === prod || this.fetching || this.cache.length >= (this.cfg.prefetch ?? 8)
    ) return then();
    let count = 0;
    const room = (this.cfg.prefetch ?? 8) - this.cache.length;
    for (let k = this.fetchIdx; k !== prod && count < room; k = (k + 1) % n) {
      count++;
    }
    count = Math.min(count, n - this.fetchIdx); // stop at the ring's end
    const buf = dwords(count * 4);
    const at = this.addr64(NIC_REG.RX_RING_LO) + this.fetchIdx * NIC_RX_DESC_BYTES;
    const epoch = this.fetchEpoch;
    this.fetching = true;
    this.readWithPolicy(at, buf, (ok) => {
      if (epoch !== this.fetchEpoch) return; // stopped or reset meanwhile
      this.fetching = false;
      if (!ok) {
        this.stats.rxAborts++;
        return then();
      }
      for (let d = 0; d < count; d++) {
        this.cache.push({ addr: joinQword(buf[d * 4], buf[d * 4 + 1]), len: buf[d * 4 + 2] });
      }
      this.fetchIdx = (this.fetchIdx + count) % n;
      then();
    });
  }

  private frameArrives(): void {
    if (!this.enabled) return;
    if (this.ringEmpty) {
      this.stats.drops++;
      this.regs[NIC_REG.RX_DROPS >>> 2]++;
      return this.stall();
    }
    if (this.cache.length) this.deliver();
    else this.prefetch(this.deliverNext);
  }

  /** {@link deliver}, made once (a prefetch calls it when its descriptors are in). */
  private readonly deliverNext = () => this.deliver();

  /** The frame that arrived goes into the next cached descriptor's buffer (or is dropped). */
  private deliver(): void {
    const desc = this.cache.shift();
    if (!desc) {
      this.stats.drops++;
      this.regs[NIC_REG.RX_DROPS >>> 2]++;
      return;
    }
    const bytes = this.traffic().frameBytes;
    this.writeFrame(desc.addr, Math.min(desc.len, bytes));
    const n = this.ringEntries();
    this.regs[NIC_REG.RX_CONS >>> 2] = (this.regs[NIC_REG.RX_CONS >>> 2] + 1) % n;
    this.stats.frames++;
    this.stats.bytes += bytes;
    this.coalesce();
    // Keep the descriptor cache topped up: refetch below half full.
    if (this.cache.length < (this.cfg.prefetch ?? 8) / 2) this.prefetch(NOTHING);
  }

  /**
   * Scratch of the DMA writes below (the bus copies what it writes, synchronously): a view of
   * each length a frame's piece can have, the status block and the statistics block.
   */
  private readonly frameViews = Array.from(
    { length: MODELLED_BYTES_PER_PAGE / 4 + 1 },
    (_, n) => new Uint32Array(n),
  );
  private readonly statusBlk = new Uint32Array(NIC_STATUS_BLK_DWORDS);
  private readonly statsBlk = new Uint32Array(NIC_STATS_BLK_DWORDS);

  /** Writes a frame: the first 64 bytes of every page it covers (header + payload start). */
  private writeFrame(addr: number, bytes: number): void {
    const seq = this.stats.frames + 1;
    for (let off = 0; off < bytes; off = Math.floor((addr + off) / 4096 + 1) * 4096 - addr) {
      const n = Math.min(MODELLED_BYTES_PER_PAGE, bytes - off, 4096 - ((addr + off) % 4096)) >>> 2;
      const data = this.frameViews[Math.max(n, 1)];
      for (let k = 0; k < data.length; k++) data[k] = (0xe0000000 | (seq << 8) | k) >>> 0;
      this.dmaWrite(addr + off, data);
    }
  }

  private coalesce(): void {
    if (this.coalescePending) return;
    this.coalescePending = true;
    const ticks = this.regs[NIC_REG.COAL_TICKS_US >>> 2] || 18;
    this.schedule(ticks * 1000, this.coalesced, "coalesce");
  }

  /** Host coalescing's delay is over: the status block, then the MSI. */
  private readonly coalesced = () => {
    this.coalescePending = false;
    if (!this.enabled) return;
    this.writeStatusBlock();
    if (this.regs[NIC_REG.CTRL >>> 2] & NIC_CTRL.INT_EN) {
      this.sendMsi(NIC_REG.MSI_ADDR, NIC_REG.MSI_DATA);
    }
  };

  private writeStatusBlock(): void {
    const at = this.addr64(NIC_REG.STATUS_BLK_LO);
    if (!at) return;
    const blk = this.statusBlk.fill(0);
    blk[0] = ++this.statusIdx;
    blk[1] = this.regs[NIC_REG.RX_CONS >>> 2];
    blk[2] = this.stats.drops;
    blk[3] = this.stats.frames;
    this.stats.statusWrites++;
    this.dmaWrite(at, blk);
  }

  private startStatsTimer(): void {
    if (this.statsTimer || !this.enabled) return;
    const ticks = this.regs[NIC_REG.STATS_TICKS_US >>> 2];
    if (!ticks || !this.addr64(NIC_REG.STATS_BLK_LO)) return;
    this.statsTimer = true;
    const tick = () => {
      if (!this.enabled) {
        this.statsTimer = false;
        return;
      }
      const blk = this.statsBlk.fill(0);
      blk[0] = this.stats.frames;
      blk[1] = this.stats.bytes % 0x1_0000_0000;
      blk[2] = this.stats.drops;
      blk[3] = this.stats.rxAborts;
      blk[4] = this.counters.writeAborts;
      this.stats.statsWrites++;
      this.dmaWrite(this.addr64(NIC_REG.STATS_BLK_LO), blk);
      this.schedule((this.regs[NIC_REG.STATS_TICKS_US >>> 2] || ticks) * 1000, tick, "stats");
    };
    this.schedule(ticks * 1000, tick, "stats");
  }
}
