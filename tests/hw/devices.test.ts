/**
 * PCI devices with DMA engines (runtime/hw/pci): a bnx2-like NIC and an NVMe-like disk,
 * driven through their BARs with rings at IOVAs that the IOMMU translates. Time is the
 * event clock's simulated nanoseconds.
 */
import assert from "node:assert/strict";
import type { DmaRecord } from "../../runtime/hw/machine.ts";
import type { AbortPolicy } from "../../runtime/hw/pci/device.ts";
import {
  Disk,
  DISK_BLOCK,
  DISK_OP,
  DISK_REG,
  DISK_STATUS,
  DiskMedia,
  type MediaSpan,
} from "../../runtime/hw/pci/disk.ts";
import { Nic, NIC_CTRL, NIC_REG, NIC_RX_DESC_BYTES, NIC_STATUS } from "../../runtime/hw/pci/nic.ts";
import {
  allocTable,
  consumeEvents,
  intRemap,
  invalidateDomain,
  machineUp,
  map4k,
  paging,
  rwDte,
  writeDte,
  writeIrte,
} from "./kit.ts";

const US = 1000;

/** A machine with `devid` translated through a 3-level table, and MSIs remapped. */
function machineFor(devid: number, domid: number) {
  const m = machineUp({ seed: 7 });
  const root = allocTable(m), irt = allocTable(m);
  writeDte(m, devid, rwDte(domid, { ...paging(root, 3), ...intRemap(irt, 8) }));
  const dmas: DmaRecord[] = [];
  m.observers.push({ dma: (r) => r.devid === devid && dmas.push(r) });
  const irqs: [number, number | undefined][] = [];
  m.cpuInterrupt = (v, src) => irqs.push([v, src.devid]);
  const map = (iova: number, spa: number) => map4k(m, root, 3, iova, spa);
  return { m, root, irt, dmas, irqs, map };
}

// ---- NIC -----------------------------------------------------------------------------------

const NIC_DEV = 0x0200; // 02:00.0
const NIC_BAR = 0xfe10_0000;
const RING_IOVA = 0x1000_0000, BUF_IOVA = 0x2000_0000, STATUS_IOVA = 0x3000_0000;
const STATS_IOVA = 0x3000_1000;
const RING_SPA = 0x0400_0000, BUF_SPA = 0x0410_0000, STATUS_SPA = 0x0420_0000;
const STATS_SPA = 0x0420_1000;
const ENTRIES = 16;

function nicSetup(
  opts: { policy?: AbortPolicy; fps?: number; mapRing?: boolean; posted?: number } = {},
) {
  const x = machineFor(NIC_DEV, 0x11);
  const { m, irt, map } = x;
  if (opts.mapRing !== false) map(RING_IOVA, RING_SPA);
  map(STATUS_IOVA, STATUS_SPA);
  map(STATS_IOVA, STATS_SPA);
  for (let i = 0; i < ENTRIES; i++) {
    map(BUF_IOVA + i * 0x1000, BUF_SPA + i * 0x1000);
    m.mem.writeDwords(RING_SPA + i * NIC_RX_DESC_BYTES, [BUF_IOVA + i * 0x1000, 0, 2048, 0]);
  }
  writeIrte(m, irt, 0x10, { RemapEn: 1, Vector: 0x51, Destination: 0 });
  const nic = new Nic({
    devid: NIC_DEV,
    name: "eth0",
    bar: NIC_BAR,
    abortPolicy: opts.policy,
    retries: 3,
    retryNs: 10 * US,
    traffic: { framesPerSecond: opts.fps ?? 200_000, frameBytes: 1500 },
  });
  m.addDevice(nic);
  const w = (reg: number, v: number) => m.mem.write32(NIC_BAR + reg, v);
  const r = (reg: number) => m.mem.read32(NIC_BAR + reg);
  w(NIC_REG.RX_RING_LO, RING_IOVA);
  w(NIC_REG.RX_RING_HI, 0);
  w(NIC_REG.RX_RING_ENTRIES, ENTRIES);
  w(NIC_REG.STATUS_BLK_LO, STATUS_IOVA);
  w(NIC_REG.STATS_BLK_LO, STATS_IOVA);
  w(NIC_REG.STATS_TICKS_US, 50);
  w(NIC_REG.COAL_TICKS_US, 20);
  w(NIC_REG.MSI_ADDR, 0xfee0_0000);
  w(NIC_REG.MSI_DATA, 0x10);
  w(NIC_REG.RX_PROD, opts.posted ?? 8);
  const enabledAt = m.clock.now;
  w(NIC_REG.CTRL, NIC_CTRL.ENABLE | NIC_CTRL.INT_EN);
  return { ...x, nic, w, r, enabledAt };
}

const frameDword = (seq: number, k = 0) => (0xe000_0000 | (seq << 8) | k) >>> 0;
const writesTo = (dmas: DmaRecord[], lo: number, hi: number) =>
  dmas.filter((d) => d.write && d.iova >= lo && d.iova < hi);
/** Descriptor fetches: DMA reads of the RX ring. */
const fetchesOf = (dmas: DmaRecord[]) => dmas.filter((d) => !d.write && d.iova === RING_IOVA);

Deno.test("NIC: frames land in the posted buffers, in ring order, through the IOMMU", () => {
  const { m, nic, r, dmas } = nicSetup();
  m.clock.advance(2000 * US);
  assert.equal(nic.stats.frames, 8, "8 descriptors posted, 8 frames received");
  assert.equal(r(NIC_REG.RX_CONS), 8);
  for (let i = 0; i < 8; i++) {
    const at = BUF_SPA + i * 0x1000;
    assert.equal(m.mem.read32(at), frameDword(i + 1), `buffer ${i}`);
    assert.equal(m.mem.read32(at + 60), frameDword(i + 1, 15), "first 64 bytes written");
    assert.equal(m.mem.read32(at + 64), 0, "the rest of the frame is not modelled");
  }
  assert.equal(m.mem.read32(BUF_SPA + 8 * 0x1000), 0, "unposted buffer untouched");
  // descriptors were fetched from the ring IOVA: the chip caches up to eight, so the eight
  // posted descriptors come in one 128-byte read
  const fetches = dmas.filter((d) => !d.write);
  assert.deepEqual(fetches.map((d) => [d.iova, d.len]), [[RING_IOVA, 128]]);
  assert.ok(fetches.every((d) => d.outcome.kind === "translated"));
  assert.ok(nic.stats.drops > 0, "frames beyond the posted buffers are dropped");
  assert.equal(r(NIC_REG.RX_DROPS), nic.stats.drops);
  assert.equal(consumeEvents(m).length, 0);
});

Deno.test("NIC: the status block follows RX activity after the coalescing delay, then an MSI", () => {
  const { m, nic, dmas, irqs } = nicSetup();
  m.clock.advance(2000 * US);
  const frames = writesTo(dmas, BUF_IOVA, BUF_IOVA + ENTRIES * 0x1000);
  const status = writesTo(dmas, STATUS_IOVA, STATUS_IOVA + 0x1000);
  assert.ok(status.length >= 1);
  assert.equal(status[0].t, frames[0].t + 20 * US, "COAL_TICKS_US after the first frame");
  const blk = new Uint32Array(4);
  m.mem.readDwords(STATUS_SPA, 4, blk);
  // index, RX consumer, drops and frames as they were when the last block was written
  assert.deepEqual([blk[0], blk[1], blk[3]], [status.length, 8, 8]);
  assert.ok(blk[2] <= nic.stats.drops);
  // one MSI per status block, remapped through IRTE 0x10 to vector 0x51
  assert.deepEqual(irqs, status.map(() => [0x51, NIC_DEV]));
});

Deno.test("NIC: the statistics block is written every STATS_TICKS_US", () => {
  const { m, dmas, enabledAt } = nicSetup();
  m.clock.advance(260 * US);
  const stats = writesTo(dmas, STATS_IOVA, STATS_IOVA + 0x1000);
  assert.deepEqual(stats.map((d) => d.t - enabledAt), [50, 100, 150, 200, 250].map((t) => t * US));
  assert.equal(stats[0].len, 256, "64 dwords");
  assert.ok(stats.every((d) => d.outcome.kind === "translated"));
});

Deno.test("NIC: DMA_STOP stops the engines; PENDING drains; no DMA afterwards", () => {
  const { m, w, r, dmas, nic } = nicSetup({ posted: 15 });
  m.clock.advance(30 * US);
  assert.equal(r(NIC_REG.STATUS) & NIC_STATUS.ACTIVE, NIC_STATUS.ACTIVE);
  w(NIC_REG.DMA_STOP, 1);
  assert.equal(r(NIC_REG.STATUS), NIC_STATUS.PENDING, "not ACTIVE, transactions PENDING");
  let polls = 0;
  while (r(NIC_REG.STATUS) & NIC_STATUS.PENDING) {
    m.clock.advance(1 * US);
    polls++;
  }
  assert.equal(polls, 5, "drained after drainNs (5 µs)");
  const seen = dmas.length, frames = nic.stats.frames;
  m.clock.advance(2000 * US); // frames keep arriving from the wire, the stats timer is due
  assert.equal(dmas.length, seen, "no DMA after the engines stopped");
  assert.equal(nic.stats.frames, frames);
});

Deno.test("NIC: reset() stops all DMA whatever the link carries; re-programmed, it runs again", () => {
  const { m, w, r, dmas, nic } = nicSetup();
  m.clock.advance(100 * US);
  assert.ok(nic.stats.frames > 0);
  nic.reset();
  assert.equal(r(NIC_REG.RX_RING_LO), 0, "registers back to reset values");
  assert.equal(r(NIC_REG.STATUS) & NIC_STATUS.ACTIVE, 0);
  const seen = dmas.length;
  m.clock.advance(2000 * US);
  assert.equal(dmas.length, seen, "no DMA from a reset chip");
  // once the driver re-programs the chip, the link's frames flow in again
  w(NIC_REG.RX_RING_LO, RING_IOVA);
  w(NIC_REG.RX_RING_ENTRIES, ENTRIES);
  w(NIC_REG.RX_PROD, 4);
  w(NIC_REG.CTRL, NIC_CTRL.ENABLE);
  const before = nic.stats.frames;
  m.clock.advance(200 * US);
  assert.equal(nic.stats.frames, before + 4);
  assert.equal(nic.counters.resets, 1);
  // SOFT_RESET through the CTRL register does the same
  w(NIC_REG.CTRL, NIC_CTRL.SOFT_RESET);
  assert.equal(nic.counters.resets, 2);
  assert.equal(r(NIC_REG.CTRL), 0);
});

Deno.test("NIC abort policy 'skip': each frame retries the descriptor fetch; the device runs on", () => {
  const { m, nic, dmas, r } = nicSetup({ policy: "skip", mapRing: false });
  m.clock.advance(200 * US);
  const fetches = dmas.filter((d) => !d.write);
  assert.ok(fetches.length >= 2);
  assert.deepEqual(fetchesOf(dmas), fetches);
  assert.ok(fetches.every((d) => d.iova === RING_IOVA && d.outcome.kind === "abort"));
  assert.equal(nic.stats.rxAborts, fetches.length);
  assert.equal(nic.halted, false);
  assert.equal(r(NIC_REG.STATUS) & NIC_STATUS.ACTIVE, NIC_STATUS.ACTIVE);
  const ev = consumeEvents(m);
  assert.equal(ev.length, fetches.length);
  assert.deepEqual([ev[0].name, ev[0].fields.DeviceID, ev[0].address, ev[0].flags], [
    "IO_PAGE_FAULT",
    NIC_DEV,
    BigInt(RING_IOVA),
    0x000,
  ]);
  assert.equal(nic.stats.frames, 0);
});

Deno.test("NIC abort policy 'halt': the first aborted fetch stops the device until reset", () => {
  const { m, nic, dmas, r } = nicSetup({ policy: "halt", mapRing: false });
  m.clock.advance(500 * US);
  assert.equal(dmas.length, 1, "one descriptor fetch, then nothing");
  assert.equal(nic.halted, true);
  assert.equal(r(NIC_REG.STATUS) & NIC_STATUS.ACTIVE, 0);
  assert.equal(consumeEvents(m).length, 1);
  nic.reset();
  assert.equal(nic.halted, false);
});

Deno.test("NIC abort policy 'retry': retried every retryNs, succeeds once the ring is mapped", () => {
  const { m, nic, dmas, map } = nicSetup({ policy: "retry", mapRing: false, fps: 2000 });
  while (!fetchesOf(dmas).length) m.clock.advance(1 * US);
  const t0 = fetchesOf(dmas)[0].t;
  m.clock.advance(15 * US); // first attempt and one retry failed
  assert.deepEqual(fetchesOf(dmas).map((d) => [d.t - t0, d.outcome.kind]), [
    [0, "abort"],
    [10 * US, "abort"],
  ]);
  map(RING_IOVA, RING_SPA); // the driver maps the ring (not-present entries are not cached)
  m.clock.advance(5 * US);
  const third = fetchesOf(dmas)[2];
  assert.equal(third.t - t0, 20 * US);
  assert.equal(third.outcome.kind, "translated");
  assert.equal(nic.stats.frames, 1, "the waiting frame was delivered");
  assert.equal(m.mem.read32(BUF_SPA), frameDword(1));
  assert.equal(nic.halted, false);
});

Deno.test("NIC abort policy 'retry': gives up and halts after the configured retries", () => {
  const { m, nic, dmas } = nicSetup({ policy: "retry", mapRing: false, fps: 2000 });
  while (!fetchesOf(dmas).length) m.clock.advance(1 * US);
  const t0 = fetchesOf(dmas)[0].t;
  m.clock.advance(35 * US);
  assert.deepEqual(fetchesOf(dmas).map((d) => d.t - t0), [0, 10, 20, 30].map((t) => t * US));
  assert.equal(nic.halted, true);
  m.clock.advance(1000 * US);
  assert.equal(fetchesOf(dmas).length, 4, "halted: no more fetches");
});

Deno.test("NIC: frames arriving during a retried fetch do not fetch the same descriptors twice", () => {
  const { m, nic, dmas, map } = nicSetup({ policy: "retry", mapRing: false, fps: 400_000 });
  while (!fetchesOf(dmas).length) m.clock.advance(1 * US);
  m.clock.advance(5 * US); // more frames arrive while the first fetch waits for its retry
  map(RING_IOVA, RING_SPA);
  m.clock.advance(500 * US);
  const bufs = writesTo(dmas, BUF_IOVA, BUF_IOVA + ENTRIES * 0x1000).map((d) => d.iova);
  assert.equal(nic.stats.frames, 8, "8 posted descriptors, 8 frames");
  assert.deepEqual(bufs, Array.from({ length: 8 }, (_, i) => BUF_IOVA + i * 0x1000));
  assert.equal(nic.halted, false);
});

Deno.test("NIC: a retry pending at DMA_STOP is abandoned (no DMA after PENDING drains)", () => {
  const { m, w, r, nic, dmas, map } = nicSetup({ policy: "retry", mapRing: false, fps: 2000 });
  while (!fetchesOf(dmas).length) m.clock.advance(1 * US);
  assert.equal(fetchesOf(dmas)[0].outcome.kind, "abort");
  // a retry is due in 10 µs; the driver stops the engines and waits for PENDING to clear
  w(NIC_REG.DMA_STOP, 1);
  while (r(NIC_REG.STATUS) & NIC_STATUS.PENDING) m.clock.advance(1 * US);
  map(RING_IOVA, RING_SPA); // would make the retry succeed
  invalidateDomain(m, 0x11);
  const seen = dmas.length;
  m.clock.advance(100 * US);
  assert.equal(dmas.length, seen, "the engines are stopped: no retry, no frame write");
  assert.equal(nic.stats.frames, 0);
  assert.equal(m.mem.read32(BUF_SPA), 0);
});

// ---- disk ----------------------------------------------------------------------------------

const DISK_DEV = 0x0300; // 03:00.0
const DISK_BAR = 0xfe20_0000;
const SQ_IOVA = 0x1000_0000, CQ_IOVA = 0x1000_1000, DATA_IOVA = 0x2000_0000;
const SQ_SPA = 0x0500_0000, CQ_SPA = 0x0500_1000, DATA_SPA = 0x0510_0000;

function diskSetup(policy?: AbortPolicy) {
  const x = machineFor(DISK_DEV, 0x22);
  const { m, irt, map } = x;
  map(SQ_IOVA, SQ_SPA);
  map(CQ_IOVA, CQ_SPA);
  for (let b = 0; b < 2; b++) map(DATA_IOVA + b * DISK_BLOCK, DATA_SPA + b * DISK_BLOCK);
  writeIrte(m, irt, 0x20, { RemapEn: 1, Vector: 0x62 });
  const disk = new Disk({ devid: DISK_DEV, name: "nvme0", bar: DISK_BAR, abortPolicy: policy });
  m.addDevice(disk);
  const w = (reg: number, v: number) => m.mem.write32(DISK_BAR + reg, v);
  w(DISK_REG.SQ_LO, SQ_IOVA);
  w(DISK_REG.SQ_ENTRIES, 16);
  w(DISK_REG.CQ_LO, CQ_IOVA);
  w(DISK_REG.CQ_ENTRIES, 16);
  w(DISK_REG.MSI_ADDR, 0xfee0_0000);
  w(DISK_REG.MSI_DATA, 0x20);
  w(DISK_REG.CTRL, 1);
  let tail = 0;
  /** Writes a submission entry and rings the doorbell. */
  const submit = (op: number, cid: number, lba: number, blocks: number, buf: number) => {
    m.mem.writeDwords(SQ_SPA + tail * 32, [op, cid, lba, 0, blocks, 0, buf, 0]);
    tail = (tail + 1) % 16;
    w(DISK_REG.SQ_TAIL, tail);
  };
  const cqe = (i: number) => {
    const e = new Uint32Array(4);
    m.mem.readDwords(CQ_SPA + i * 16, 4, e);
    return [...e];
  };
  return { ...x, disk, submit, cqe, w };
}

Deno.test("disk: a write command DMA-reads its blocks into the media, then completes with an MSI", () => {
  const { m, disk, submit, cqe, irqs, dmas } = diskSetup();
  for (let i = 0; i < 2048; i++) m.mem.write32(DATA_SPA + i * 4, 0x1000_0000 + i);
  submit(DISK_OP.WRITE, 7, 100, 2, DATA_IOVA);
  m.clock.advance(2 * US); // command fetch latency
  assert.equal(disk.media.get(100)?.[0], 0x1000_0000);
  assert.equal(disk.media.get(101)?.[1023], 0x1000_0000 + 2047);
  assert.deepEqual(cqe(0), [0, 0, 0, 0], "completion comes after the media time");
  m.clock.advance(20 * US); // 2 blocks × 10 µs
  assert.deepEqual(cqe(0), [7, DISK_STATUS.OK, 1, 1]); // cid, status, SQ head, phase
  assert.deepEqual(irqs, [[0x62, DISK_DEV]]);
  assert.deepEqual(
    dmas.map((d) => [d.write ? "W" : "R", d.iova.toString(16)]),
    [["R", "10000000"], ["R", "20000000"], ["R", "20001000"], ["W", "10001000"]],
  );
  assert.equal(disk.stats.blocksWritten, 2);
});

Deno.test("disk: a read command DMA-writes media blocks into the buffer", () => {
  const { m, disk, submit, cqe } = diskSetup();
  disk.media.set(5, new Uint32Array(1024).fill(0xabcd));
  submit(DISK_OP.READ, 3, 5, 1, DATA_IOVA + DISK_BLOCK);
  m.clock.advance(20 * US);
  assert.equal(m.mem.read32(DATA_SPA + DISK_BLOCK), 0xabcd);
  assert.equal(m.mem.read32(DATA_SPA + 2 * DISK_BLOCK - 4), 0xabcd);
  assert.deepEqual(cqe(0), [3, DISK_STATUS.OK, 1, 1]);
});

Deno.test("disk: a buffer IOVA that faults completes with DATA_TRANSFER_ERROR", () => {
  const { m, disk, submit, cqe, irqs } = diskSetup();
  const unmapped = 0x2800_0000;
  submit(DISK_OP.WRITE, 9, 200, 1, unmapped);
  submit(DISK_OP.FLUSH, 10, 0, 0, 0);
  m.clock.advance(100 * US);
  assert.deepEqual(cqe(0), [9, DISK_STATUS.DATA_TRANSFER_ERROR, 1, 1]);
  assert.deepEqual(cqe(1), [10, DISK_STATUS.OK, 2, 1], "the queue goes on");
  assert.equal(disk.media.has(200), false, "nothing reached the media");
  assert.equal(disk.stats.errors, 1);
  const ev = consumeEvents(m);
  assert.deepEqual(ev.map((e) => [e.name, e.fields.DeviceID, e.address, e.flags]), [
    ["IO_PAGE_FAULT", DISK_DEV, BigInt(unmapped), 0x000],
  ]);
  assert.equal(irqs.length, 2);
});

Deno.test("disk: an unknown opcode completes INVALID; an unreadable SQ entry completes nothing", () => {
  const { m, submit, cqe, disk, w } = diskSetup("skip");
  submit(9, 1, 0, 0, 0);
  m.clock.advance(20 * US);
  assert.deepEqual(cqe(0), [1, DISK_STATUS.INVALID, 1, 1]);
  // move the SQ to an unmapped IOVA: the fetch aborts, the command is skipped
  w(DISK_REG.SQ_LO, 0x1800_0000);
  w(DISK_REG.SQ_TAIL, 2);
  m.clock.advance(50 * US);
  assert.equal(disk.stats.errors, 1);
  assert.deepEqual(cqe(1), [0, 0, 0, 0]);
  assert.equal(consumeEvents(m)[0].address, BigInt(0x1800_0000 + 32));
});

Deno.test("disk: reset() cancels an in-flight completion", () => {
  const { m, disk, submit, cqe, irqs, dmas } = diskSetup();
  submit(DISK_OP.WRITE, 4, 1, 2, DATA_IOVA);
  m.clock.advance(5 * US);
  disk.reset();
  const seen = dmas.length;
  m.clock.advance(100 * US);
  assert.equal(dmas.length, seen);
  assert.deepEqual(cqe(0), [0, 0, 0, 0]);
  assert.deepEqual(irqs, []);
});

Deno.test("disk media: blocks kept without trailing zeros, found in place by locate, rewritten in a new place; dispose blanks it", () => {
  const media = new DiskMedia();
  const span: MediaSpan = { data: new Uint32Array(0), at: 0, n: 0 };
  assert.equal(media.locate(5, span), false);
  const block = new Uint32Array(DISK_BLOCK / 4);
  // Enough blocks to fill more than one chunk of the store.
  for (let lba = 0; lba < 40; lba++) {
    block.fill(0);
    for (let i = 0; i <= lba * 20; i++) block[i] = lba * 1000 + i + 1;
    media.set(lba, block);
  }
  for (let lba = 0; lba < 40; lba++) {
    assert.ok(media.locate(lba, span));
    assert.equal(span.n, lba * 20 + 1, "trailing zeros dropped");
    assert.equal(span.data[span.at], lba * 1000 + 1);
    assert.equal(span.data[span.at + span.n - 1], lba * 1000 + lba * 20 + 1);
    assert.deepEqual([...media.raw(lba)!], [...span.data.subarray(span.at, span.at + span.n)]);
    assert.equal(media.get(lba)![lba * 20 + 1], 0);
  }
  media.set(3, Uint32Array.of(9, 0, 0), 2); // rewritten, with an extent
  assert.deepEqual([...media.raw(3)!], [9]);
  assert.equal(media.size, 40);
  media.dispose();
  assert.equal(media.size, 0);
  assert.equal(media.has(3), false);
  assert.equal(media.get(3), undefined);
});
