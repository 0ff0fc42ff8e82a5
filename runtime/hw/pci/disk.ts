/**
 * An NVMe-like disk controller: one submission queue and one completion queue in host
 * memory, doorbells in BAR0, 4 KiB blocks DMA-read from (writes) or DMA-written to (reads)
 * a buffer at an IOVA, completions DMA-written with a status code, then an MSI.
 *
 * The media keeps each written block's contents (stored without trailing zeros), so what
 * reached the disk can be compared with what should have.
 *
 * @module
 */
import { joinQword } from "../bits.ts";
import { type DeviceConfig, DmaDevice, type PciIdentity } from "./device.ts";
import { dwords } from "../dwords.ts";
import { giveBack, take } from "../memory/pool.ts";

/** Register offsets of the disk's BAR0. */
export const DISK_REG = {
  /** bit0 EN, bit1 RESET (self-clearing). */
  CTRL: 0x00,
  /** Read-only: bit0 READY. */
  STATUS: 0x04,
  SQ_LO: 0x08,
  SQ_HI: 0x0c,
  SQ_ENTRIES: 0x10,
  SQ_TAIL: 0x14,
  CQ_LO: 0x18,
  CQ_HI: 0x1c,
  CQ_ENTRIES: 0x20,
  CQ_HEAD: 0x24,
  MSI_ADDR: 0x28,
  MSI_DATA: 0x2c,
} as const;

/** Submission entry (32 bytes): dw0 opcode, dw1 command id, dw2/3 LBA, dw4 blocks, dw6/7 buffer. */
export const DISK_SQE_BYTES = 32;
/** Completion entry (16 bytes): dw0 command id, dw1 status, dw2 SQ head, dw3 phase. */
export const DISK_CQE_BYTES = 16;
/** Opcodes. */
export const DISK_OP = { FLUSH: 0, WRITE: 1, READ: 2 } as const;
/** Completion status codes. */
export const DISK_STATUS = { OK: 0, DATA_TRANSFER_ERROR: 4, INVALID: 2 } as const;
/** Block size (4 KiB). */
export const DISK_BLOCK = 4096;

/** Size of the disk controller's BAR0 (its register window), bytes. */
export const DISK_BAR_SIZE = 0x1000;

/** Dwords per chunk of the media's store (64 KiB: allocations stay small). */
const MEDIA_CHUNK = 16 * 1024;

/**
 * The disk's media: 4 KiB blocks by number; unwritten blocks read as zeros. Written blocks are
 * kept one after the other in chunks of dwords (no array per block): a block rewritten gets a
 * new place, the old one is left behind (a disk is written once per run, mostly).
 */
export class DiskMedia {
  /** Per written block: its index in {@link chunkOf}/{@link start}/{@link len}. */
  private readonly index = new Map<number, number>();
  private chunkOf: Int32Array<ArrayBuffer> = new Int32Array(64);
  private start: Int32Array<ArrayBuffer> = new Int32Array(64);
  private len: Int32Array<ArrayBuffer> = new Int32Array(64);
  private readonly chunks: Uint32Array[] = [];
  /** Dwords used in the last chunk. */
  private used = MEDIA_CHUNK;

  /**
   * Stores a block (trailing zero dwords are not kept). `extent`, when known, says that the
   * dwords of `data` from there on are zeros.
   */
  set(lba: number, data: Uint32Array, extent = data.length): void {
    let n = Math.min(extent, data.length, DISK_BLOCK / 4);
    while (n > 0 && data[n - 1] === 0) n--;
    let i = this.index.get(lba);
    if (i === undefined) {
      i = this.index.size;
      if (i === this.start.length) {
        this.chunkOf = grow32(this.chunkOf, i * 2);
        this.start = grow32(this.start, i * 2);
        this.len = grow32(this.len, i * 2);
      }
      this.index.set(lba, i);
    }
    if (this.used + n > MEDIA_CHUNK) {
      this.chunks.push(take(Uint32Array, MEDIA_CHUNK, false)); // each block written before read
      this.used = 0;
    }
    const c = this.chunks.length - 1, st = this.chunks[c], at = this.used;
    for (let j = 0; j < n; j++) st[at + j] = data[j];
    this.chunkOf[i] = c;
    this.start[i] = at;
    this.len[i] = n;
    this.used += n;
  }

  /** A written block's full 1024 dwords (a copy), or undefined if never written. */
  get(lba: number): Uint32Array | undefined {
    const b = this.raw(lba);
    if (!b) return undefined;
    const out = dwords(DISK_BLOCK / 4);
    out.set(b);
    return out;
  }

  /** A written block as stored (trailing zeros dropped; do not modify), or undefined. */
  raw(lba: number): Uint32Array | undefined {
    const i = this.index.get(lba);
    if (i === undefined) return undefined;
    const at = this.start[i];
    return this.chunks[this.chunkOf[i]].subarray(at, at + this.len[i]);
  }

  /**
   * Where block `lba` is kept, without a copy or a view: its stored dwords (trailing zeros
   * dropped) are `out.data[out.at .. out.at + out.n)`. False if the block was never written.
   */
  locate(lba: number, out: MediaSpan): boolean {
    const i = this.index.get(lba);
    if (i === undefined) return false;
    out.data = this.chunks[this.chunkOf[i]];
    out.at = this.start[i];
    out.n = this.len[i];
    return true;
  }

  /** Whether block `lba` was ever written. */
  has(lba: number): boolean {
    return this.index.has(lba);
  }

  /** Number of written blocks. */
  get size(): number {
    return this.index.size;
  }

  /** Gives the stored blocks' chunks back to the pool (memory/pool.ts): the media is blank. */
  dispose(): void {
    for (const c of this.chunks) giveBack(c);
    this.chunks.length = 0;
    this.index.clear();
    this.used = MEDIA_CHUNK;
  }
}

function grow32(a: Int32Array, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}

/** Where a block's dwords are kept (see {@link DiskMedia.locate}). */
export interface MediaSpan {
  data: Uint32Array;
  at: number;
  n: number;
}

/** Disk configuration. */
export interface DiskConfig extends DeviceConfig {
  /** Media transfer time per block, ns (default 10 µs: 400 MB/s). */
  blockNs?: number;
  /** Command fetch latency, ns (default 2 µs). */
  fetchNs?: number;
}

/** An NVMe-like disk controller. */
export class Disk extends DmaDevice {
  readonly barSize = DISK_BAR_SIZE;
  /**
   * An NVMe SSD of the time: Intel's DC P3700 (8086:0953), class 0x010802 (mass storage,
   * non-volatile memory controller, NVM Express).
   */
  readonly id: PciIdentity = { vendor: 0x8086, device: 0x0953, classCode: 0x010802 };
  /** The media. */
  readonly media = new DiskMedia();
  private readonly scratch = new Uint32Array(DISK_BLOCK / 4);
  /** The completion entry being written (the bus copies it). */
  private readonly cqe = new Uint32Array(DISK_CQE_BYTES / 4);
  private sqHead = 0;
  private cqTail = 0;
  private phase = 1;
  private busy = false;
  readonly stats = { commands: 0, blocksWritten: 0, blocksRead: 0, errors: 0 };

  constructor(override readonly cfg: DiskConfig) {
    super(cfg, 0x30 / 4);
  }

  write32(offset: number, value: number): void {
    const i = offset >>> 2;
    if (i >= this.regs.length || offset === DISK_REG.STATUS) return;
    if (offset === DISK_REG.CTRL && value & 2) return this.reset();
    this.regs[i] = value >>> 0;
    if (offset === DISK_REG.CTRL) {
      this.regs[DISK_REG.STATUS >>> 2] = value & 1;
      if (!(value & 1)) {
        this.sqHead = 0;
        this.cqTail = 0;
        this.phase = 1;
      }
    }
    if (offset === DISK_REG.SQ_TAIL) this.kick();
  }

  /** Gives the media's storage back (see Machine.dispose): the media reads as blank after. */
  dispose(): void {
    this.media.dispose();
  }

  protected override onReset(): void {
    this.sqHead = 0;
    this.cqTail = 0;
    this.phase = 1;
    this.busy = false;
  }

  private get enabled(): boolean {
    return (this.regs[DISK_REG.CTRL >>> 2] & 1) === 1 && !this.halted;
  }

  private kick(): void {
    if (this.busy || !this.enabled) return;
    const n = this.regs[DISK_REG.SQ_ENTRIES >>> 2];
    if (!n || this.sqHead === this.regs[DISK_REG.SQ_TAIL >>> 2] % n) return;
    this.busy = true;
    this.schedule(this.cfg.fetchNs ?? 2_000, () => this.fetch(), "fetch");
  }

  private fetch(): void {
    const n = this.regs[DISK_REG.SQ_ENTRIES >>> 2];
    const sqe = dwords(DISK_SQE_BYTES / 4);
    const at = this.addr64(DISK_REG.SQ_LO) + this.sqHead * DISK_SQE_BYTES;
    this.readWithPolicy(at, sqe, (ok) => {
      this.sqHead = (this.sqHead + 1) % n;
      if (!ok) {
        // The command itself could not be read: nothing to complete; go on (or stay halted).
        this.stats.errors++;
        this.busy = false;
        if (!this.halted) this.kick();
        return;
      }
      this.execute(sqe);
    });
  }

  private execute(sqe: Uint32Array): void {
    this.stats.commands++;
    const op = sqe[0], cid = sqe[1];
    const lba = joinQword(sqe[2], sqe[3]);
    const blocks = sqe[4];
    const buf = joinQword(sqe[6], sqe[7]);
    if (op === DISK_OP.FLUSH) return this.complete(cid, DISK_STATUS.OK, 1);
    if (op !== DISK_OP.WRITE && op !== DISK_OP.READ) {
      return this.complete(cid, DISK_STATUS.INVALID, 1);
    }
    let status: number = DISK_STATUS.OK;
    for (let b = 0; b < blocks; b++) {
      const addr = buf + b * DISK_BLOCK;
      if (op === DISK_OP.WRITE) {
        const data = this.scratch;
        // The media keeps what the extent covers: the zeros after it need not be read.
        const extent = this.dmaReadExtent(addr, data, undefined, true);
        if (extent < 0) {
          status = DISK_STATUS.DATA_TRANSFER_ERROR;
          break;
        }
        this.media.set(lba + b, data, extent);
        this.stats.blocksWritten++;
      } else {
        const data = this.media.get(lba + b) ?? dwords(DISK_BLOCK / 4);
        this.dmaWrite(addr, data);
        this.stats.blocksRead++;
      }
    }
    if (status !== DISK_STATUS.OK) this.stats.errors++;
    this.complete(cid, status, Math.max(blocks, 1));
  }

  private complete(cid: number, status: number, blocks: number): void {
    this.schedule((this.cfg.blockNs ?? 10_000) * blocks, () => {
      const n = this.regs[DISK_REG.CQ_ENTRIES >>> 2];
      const cqe = this.cqe;
      cqe[0] = cid;
      cqe[1] = status;
      cqe[2] = this.sqHead;
      cqe[3] = this.phase;
      this.dmaWrite(this.addr64(DISK_REG.CQ_LO) + this.cqTail * DISK_CQE_BYTES, cqe);
      this.cqTail = (this.cqTail + 1) % Math.max(n, 1);
      if (this.cqTail === 0) this.phase ^= 1;
      this.sendMsi(DISK_REG.MSI_ADDR, DISK_REG.MSI_DATA);
      this.busy = false;
      this.kick();
    }, "complete");
  }
}
