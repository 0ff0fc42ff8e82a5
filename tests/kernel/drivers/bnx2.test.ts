/**
 * The bnx2-like driver (runtime/kernel/drivers/bnx2.ts) against the model's NIC: probe,
 * open (RX ring posting, MSI), NAPI refill, bnx2_wait_dma_complete and shutdown — and the
 * kdump kernel's probe, which stops a chip the crashed kernel left running.
 */
import assert from "node:assert/strict";
import type { Machine } from "../../../runtime/hw/machine.ts";
import { NIC_CTRL, NIC_REG, NIC_RX_DESC_BYTES } from "../../../runtime/hw/pci/nic.ts";
import { ownerText } from "../../../runtime/hw/memory.ts";
import { fetch_pte } from "../../../runtime/kernel/amd_iommu/domain.ts";
import { start_kernel } from "../../../runtime/kernel/boot.ts";
import { COST } from "../../../runtime/kernel/cost.ts";
import { bnx2_wait_dma_complete } from "../../../runtime/kernel/drivers/bnx2.ts";
import { crash_kexec } from "../../../runtime/kernel/crash.ts";
import type { HookCaller } from "../../../runtime/kernel/hooks.ts";
import {
  bnx2Of,
  dmaLog,
  type HookCall,
  hooksWith,
  KIT,
  makeKernel,
  makeKit,
  texts,
} from "../kit.ts";

const nicReg = (m: Machine, off: number) => m.mem.read32(KIT.NIC_BAR + off);

function opened(fps = 10_000, extra: Parameters<typeof makeKit>[0] = {}) {
  const kit = makeKit({
    nic: { traffic: { framesPerSecond: fps, frameBytes: 1500 } },
    drivers: ["bnx2"],
    ...extra,
  });
  start_kernel(kit.k);
  const dev = kit.k.pciDev(KIT.NIC)!;
  const drv = bnx2Of(kit.k);
  const initial = drv.devs.get(KIT.NIC)!;
  return { ...kit, dev, drv, bp: initial };
}

Deno.test("bnx2: probe allocates the status/statistics block with the DMA API, then runs the bnx2_init_one hook; the chip is not touched", () => {
  const calls: HookCall[] = [];
  let allocsAtHook = -1;
  const kit = makeKit({
    nic: true,
    drivers: ["bnx2"],
    hooks: hooksWith({
      runAll: { "bnx2.bnx2_init_one": () => (allocsAtHook = kit.k.dma.stats.allocs) },
    }, calls),
  });
  start_kernel(kit.k);
  const bp = bnx2Of(kit.k).devs.get(KIT.NIC)!;
  assert.equal(allocsAtHook, 1, "after bnx2_alloc_stats_blk");
  assert.equal(calls.filter((c) => c.name === "bnx2.bnx2_init_one").length, 1);
  assert.equal(bp.dev.dmaMaskBits, 64);
  assert.equal(bp.blk!.dma, 0xffff_f000);
  assert.equal(ownerText(kit.m.mem.ownerOf(bp.blk!.cpu)), "kernel1:bnx2-status-stats-blk@01:00.0");
  assert.equal(bp.up, false);
  assert.equal(kit.nic!.counters.resets, 0);
  assert.equal(kit.k.pciDev(KIT.NIC)!.driver?.name, "bnx2");
  assert.ok(
    texts(kit.k).includes(
      "bnx2 0000:01:00.0 eth0: Broadcom NetXtreme II BCM5709 1000Base-T (C0) PCI Express found at mem f0000000",
    ),
  );
});

Deno.test("bnx2: open posts rxRingSize-1 descriptors and the NIC DMAs frames into them through the IOMMU", () => {
  const { k, m, nic, dev, drv, bp } = opened();
  const log = dmaLog(m);
  assert.equal(drv.open(dev), true);
  const n = bp.p.rxRingSize;
  assert.equal(n, 16);
  assert.equal(nic!.counters.resets, 1, "bnx2_reset_chip");
  assert.equal(nicReg(m, NIC_REG.RX_PROD), n - 1);
  assert.equal(nicReg(m, NIC_REG.RX_RING_ENTRIES), n);
  assert.equal(nicReg(m, NIC_REG.RX_RING_LO), bp.ring!.dma);
  assert.equal(nicReg(m, NIC_REG.CTRL), NIC_CTRL.ENABLE | NIC_CTRL.INT_EN);
  const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
  assert.equal(bp.slots.length, n);
  for (let i = 0; i < n; i++) {
    const s = bp.slots[i];
    const d = new Uint32Array(4);
    m.mem.readDwords(bp.ring!.cpu + i * NIC_RX_DESC_BYTES, 4, d);
    assert.deepEqual([...d], [s.dma % 2 ** 32, Math.floor(s.dma / 2 ** 32), 2048, 0]);
    assert.ok(s.dma < 0x1_0000_0000);
    assert.equal(m.mem.read32(fetch_pte(k.amd, dom, s.dma)!), ((s.phys % 2 ** 32) | 1) >>> 0);
  }
  const first = { ...bp.slots[0] };
  k.spend(1_000_000);
  assert.ok(nic!.stats.frames > 0);
  // The first frame: a DMA write at the first descriptor's IOVA, landing in its page.
  const w = log.find((r) => r.devid === KIT.NIC && r.write && r.iova === first.dma)!;
  assert.deepEqual(w.outcome, { kind: "translated", spa: first.phys, domid: dom.id, via: "walk" });
  assert.equal(m.mem.read32(first.phys), 0xe000_0100, "frame 1, dword 0");
  assert.equal(nic!.counters.writeAborts + nic!.counters.readAborts, 0);
  assert.ok(
    texts(k).includes("bnx2 0000:01:00.0 eth0: NIC Copper Link is Up, 1000 Mbps full duplex"),
  );
});

Deno.test("bnx2: NAPI unmaps consumed buffers, maps fresh ones and moves the producer index", () => {
  const { k, m, nic, dev, drv, bp } = opened();
  drv.open(dev);
  const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
  const original = bp.slots.map((s) => ({ ...s }));
  const maps0 = k.dma.stats.maps;
  k.spend(5_000_000);
  const n = bp.p.rxRingSize;
  assert.ok(bp.rxFrames > n, `the ring wrapped (${bp.rxFrames} frames)`);
  assert.ok(nic!.stats.frames - bp.rxFrames <= 1, "NAPI keeps up");
  assert.equal(k.dma.stats.unmaps, bp.rxFrames);
  assert.equal(k.dma.stats.maps, maps0 + bp.rxFrames);
  assert.equal(bp.cons, bp.rxFrames % n);
  assert.equal(nicReg(m, NIC_REG.RX_PROD), (n - 1 + bp.rxFrames) % n);
  assert.equal(nic!.stats.drops, 0);
  // Every original buffer was consumed: its page freed (or reused for a fresh buffer), its
  // PTE cleared (unless the IOVA came back after a flush).
  for (const s of original) {
    const reused = bp.slots.some((x) => x.phys === s.phys);
    assert.equal(
      ownerText(m.mem.ownerOf(s.phys)),
      reused ? "kernel1:rx-buffer@01:00.0" : "free:free",
    );
    const pte = fetch_pte(k.amd, dom, s.dma)!;
    const live = bp.slots.some((x) => x.dma === s.dma);
    assert.equal(m.mem.read32(pte) !== 0, live, `IOVA 0x${s.dma.toString(16)}`);
  }
  // The descriptors now carry the fresh buffers.
  for (let i = 0; i < n; i++) {
    assert.equal(m.mem.read32(bp.ring!.cpu + i * NIC_RX_DESC_BYTES), bp.slots[i].dma % 2 ** 32);
  }
});

Deno.test("bnx2: bnx2_wait_dma_complete stops the engines (DMA_STOP, then PENDING clears) and no DMA follows", () => {
  const { k, m, nic, dev, drv } = opened();
  drv.open(dev);
  k.spend(2_000_000);
  const log = dmaLog(m);
  k.spend(500_000);
  assert.ok(log.some((r) => r.devid === KIT.NIC), "DMA was running");
  const t0 = m.clock.now;
  assert.equal(bnx2_wait_dma_complete(k, dev), true);
  // writel + readl back + udelay(5) + one msleep(1) + the STATUS read that saw PENDING clear.
  assert.equal(
    m.clock.now - t0,
    COST.mmioWrite + COST.mmioRead + 5_000 + 1_000_000 + COST.mmioRead,
  );
  assert.equal(nicReg(m, NIC_REG.STATUS), 0, "not ACTIVE, not PENDING");
  assert.equal(nicReg(m, NIC_REG.CTRL) & NIC_CTRL.ENABLE, 0);
  const frames = nic!.stats.frames;
  const stopAt = t0 + COST.mmioWrite; // the DMA_STOP write landed at t0
  assert.ok(log.filter((r) => r.devid === KIT.NIC).every((r) => r.t <= t0));
  k.spend(50_000_000);
  assert.equal(log.filter((r) => r.devid === KIT.NIC && r.t >= stopAt).length, 0);
  assert.equal(nic!.stats.frames, frames);
});

Deno.test("bnx2: bnx2_wait_dma_complete gives up after 100 polls of 1 ms if PENDING never clears", () => {
  const { k, m, dev, drv } = opened(0, {
    nic: { traffic: { framesPerSecond: 0, frameBytes: 1500 }, drainNs: 200_000_000 },
  });
  drv.open(dev);
  const t0 = m.clock.now;
  assert.equal(bnx2_wait_dma_complete(k, dev), false);
  assert.equal(
    m.clock.now - t0,
    COST.mmioWrite + COST.mmioRead + 5_000 + 100 * (1_000_000 + COST.mmioRead),
  );
  assert.equal(nicReg(m, NIC_REG.STATUS) & 2, 2, "still PENDING");
});

Deno.test("bnx2: ->shutdown closes a running interface and resets the chip; a closed one is left alone", () => {
  const { nic, dev, drv, bp, m } = opened();
  drv.shutdown(dev);
  assert.equal(nic!.counters.resets, 0, "never opened: nothing to do");
  drv.open(dev);
  assert.equal(nic!.counters.resets, 1);
  drv.shutdown(dev);
  assert.equal(bp.up, false);
  assert.equal(nic!.counters.resets, 2);
  assert.equal(nicReg(m, NIC_REG.CTRL), 0);
  assert.equal(nicReg(m, NIC_REG.RX_RING_ENTRIES), 0);
});

/** A first kernel whose NIC is receiving when it panics, and a kdump kernel on the machine. */
function crashedWithNicRunning(hooks?: HookCaller) {
  const kit = makeKit({
    nic: { traffic: { framesPerSecond: 10_000, frameBytes: 1500 } },
    drivers: ["bnx2"],
    bnx2: { rxRingSize: 256 },
  });
  start_kernel(kit.k);
  bnx2Of(kit.k).open(kit.k.pciDev(KIT.NIC)!);
  kit.k.spend(2_000_000);
  crash_kexec(kit.k, "test");
  const k2 = makeKernel(kit, {
    id: "kernel2",
    cmdline: "irqpoll nr_cpus=1 reset_devices elfcorehdr=0x37ff0000",
    memory: [{ ...KIT.RESERVE }],
    drivers: ["bnx2"],
    hooks,
  });
  return { ...kit, k2 };
}

Deno.test("bnx2: in a kdump kernel probe stops the running chip (DMA_STOP, PENDING polled) right after allocating the stats block", () => {
  const { m, nic, k2 } = crashedWithNicRunning();
  const writes: { t: number; off: number }[] = [];
  const orig = nic!.write32.bind(nic!);
  nic!.write32 = (off: number, v: number) => (writes.push({ t: m.clock.now, off }), orig(off, v));
  let allocsAtStop = -1;
  const stopWrite = nic!.write32;
  nic!.write32 = (off: number, v: number) => {
    if (off === NIC_REG.DMA_STOP) allocsAtStop = k2.dma.stats.allocs;
    stopWrite(off, v);
  };
  const resets = nic!.counters.resets;
  start_kernel(k2);
  const stops = writes.filter((w) => w.off === NIC_REG.DMA_STOP);
  assert.equal(stops.length, 1, "one DMA_STOP, from bnx2_init_one");
  assert.equal(allocsAtStop, 1, "after bnx2_alloc_stats_blk, the driver's first DMA-API call");
  assert.equal(nicReg(m, NIC_REG.STATUS), 0, "not ACTIVE, not PENDING");
  const frames = nic!.stats.frames;
  k2.spend(50_000_000);
  assert.equal(nic!.stats.frames, frames, "no frame is DMA'd after the probe");
  assert.equal(nic!.counters.resets, resets, "stopped, not reset: the reset waits for open");
});

Deno.test("bnx2: the first kernel's probe does not wait (not a kdump kernel); a plugin can take the kdump wait out", () => {
  const first = makeKit({ nic: true, drivers: ["bnx2"] });
  const writes: number[] = [];
  const orig = first.nic!.write32.bind(first.nic!);
  first.nic!.write32 = (off: number, v: number) => (writes.push(off), orig(off, v));
  start_kernel(first.k);
  assert.equal(writes.filter((o) => o === NIC_REG.DMA_STOP).length, 0);

  const calls: HookCall[] = [];
  const { m, nic, k2 } = crashedWithNicRunning(
    hooksWith({ wrap: { "bnx2.bnx2_init_one.wait_dma": () => {} } }, calls),
  );
  const frames = nic!.stats.frames;
  start_kernel(k2);
  assert.equal(calls.filter((c) => c.name === "bnx2.bnx2_init_one.wait_dma").length, 1);
  assert.notEqual(nicReg(m, NIC_REG.STATUS) & 1, 0, "still ACTIVE after probe");
  k2.spend(20_000_000);
  assert.ok(nic!.stats.frames > frames, "frames keep arriving");
});
