/**
 * amd_iommu_dma_ops (runtime/kernel/amd_iommu/dma_ops.ts) through the DMA API: 32-bit-first
 * IOVAs, page tables the device's DMA is translated through, lazy unmap with the flush
 * queue (256 entries or 10 ms), and coherent allocations.
 */
import assert from "node:assert/strict";
import { INV_ALL_PAGES_ADDRESS } from "../../../runtime/hw/layouts/command.ts";
import { ownerText, PAGE_SIZE } from "../../../runtime/hw/memory.ts";
import { GFP } from "../../../runtime/kernel/alloc.ts";
import { fetch_pte } from "../../../runtime/kernel/amd_iommu/domain.ts";
import { machineOf } from "../../../runtime/kernel/kernel.ts";
import { commandLog, dmaLog, KIT, makeKit } from "../kit.ts";

function setup() {
  const kit = makeKit({ nic: true });
  const { k } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const dev = k.pciDev(KIT.NIC)!;
  k.dma.dma_set_mask(dev, 64);
  const dom = k.amd.dev_data.get(KIT.NIC)!.domain!;
  return { ...kit, dev, dom };
}

Deno.test("dma_ops: dma_map_single gives a 64-bit device an IOVA below 4 GiB; its DMA reaches the buffer's page above 4 GiB", () => {
  const { k, m, dev, dom } = setup();
  assert.equal(dev.dmaOps, k.amd.dma_ops);
  const phys = k.alloc.allocPages(GFP.KERNEL, 0, "buf", KIT.NIC)!;
  assert.ok(phys >= 0x1_0000_0000);
  const dma = k.dma.dma_map_single(dev, phys + 0x100, 256, "from-device")!;
  assert.equal(dma, 0xffff_f100, "top of the 32-bit space, same offset in the page");
  const pte = fetch_pte(k.amd, dom, dma)!;
  assert.equal(m.mem.read32(pte), ((phys % 2 ** 32) | 1) >>> 0);
  assert.equal(m.mem.read32(pte + 4) & 0xfffff, Math.floor(phys / 2 ** 32));
  const log = dmaLog(m);
  assert.deepEqual(m.dmaWrite(KIT.NIC, dma + 8, [0xcafe_f00d]), { ok: true, spa: phys + 0x108 });
  assert.deepEqual(log[0].outcome, {
    kind: "translated",
    spa: phys + 0x108,
    domid: dom.id,
    via: "walk",
  });
  assert.equal(m.mem.read32(phys + 0x108), 0xcafe_f00d);
  // A buffer spanning three pages gets 4 pages of IOVA (power of two), all mapped.
  const big = k.alloc.allocPages(GFP.KERNEL, 2, "buf")!;
  const dma2 = k.dma.dma_map_single(dev, big + 0x800, 2 * PAGE_SIZE, "to-device")!;
  assert.equal(dma2 % PAGE_SIZE, 0x800);
  assert.ok(dma2 < 0x1_0000_0000);
  for (let i = 0; i < 3; i++) {
    const r = m.dmaRead(KIT.NIC, dma2 - 0x800 + i * PAGE_SIZE, new Uint32Array(1));
    assert.deepEqual(r, { ok: true, spa: big + i * PAGE_SIZE });
  }
  assert.equal(k.dma.stats.maps, 2);
});

Deno.test("dma_ops: a 32-bit device and a 40-bit device get IOVAs below their masks", () => {
  const { k, dev } = setup();
  k.dma.dma_set_mask(dev, 32);
  const phys = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  assert.equal(k.dma.dma_map_single(dev, phys, 64, "to-device"), 0xffff_f000);
  k.dma.dma_set_mask(dev, 40);
  assert.equal(k.dma.dma_map_single(dev, phys, 64, "to-device"), 0xffff_e000, "32-bit space first");
});

Deno.test("dma_ops: unmap clears the PTE at once; the IOVA comes back only after the 10 ms flush, which invalidates the domain's IOTLB", () => {
  const { k, m, iommu, dev, dom } = setup();
  const phys = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  const dma = k.dma.dma_map_single(dev, phys, 64, "from-device")!;
  // The device used it: the translation sits in the IOTLB.
  assert.equal(m.dmaWrite(KIT.NIC, dma, [1]).ok, true);
  const cmds = commandLog(iommu);
  const log = dmaLog(m);
  k.dma.dma_unmap_single(dev, dma, 64, "from-device");
  const pte = fetch_pte(k.amd, dom, dma)!;
  assert.deepEqual([m.mem.read32(pte), m.mem.read32(pte + 4)], [0, 0], "PTE cleared at once");
  assert.deepEqual(dom.iovad!.flushQueue, [[dma / PAGE_SIZE, 1]]);
  assert.equal(cmds.length, 0, "no flush yet");
  // Until the flush the IOTLB still translates the old IOVA (that is why IOVAs wait).
  assert.deepEqual(m.dmaWrite(KIT.NIC, dma, [2]), { ok: true, spa: phys });
  assert.equal(log[0].outcome.kind === "translated" && log[0].outcome.via, "iotlb");
  // A new mapping meanwhile gets another IOVA.
  const other = k.dma.dma_map_single(dev, phys, 64, "from-device")!;
  assert.equal(other, 0xffff_e000);
  k.spend(9_000_000);
  assert.equal(cmds.length, 0, "not before 10 ms");
  k.spend(1_000_000);
  assert.deepEqual(cmds.map((c) => c.name), ["INVALIDATE_IOMMU_PAGES", "COMPLETION_WAIT"]);
  const f = cmds[0].fields;
  assert.deepEqual([f.DomainID, f.S, f.PDE, f.Address * 4096], [
    dom.id,
    1,
    0,
    INV_ALL_PAGES_ADDRESS,
  ]);
  assert.deepEqual(dom.iovad!.flushQueue, []);
  // Now the old IOVA faults, and the allocator hands it out again.
  assert.equal(m.dmaWrite(KIT.NIC, dma, [3]).ok, false);
  assert.equal(log.at(-1)!.outcome.kind, "abort");
  assert.equal(k.dma.dma_map_single(dev, phys, 64, "from-device"), dma);
});

Deno.test("dma_ops: the 256th queued unmap flushes at once; the most recently freed IOVA is reused first", () => {
  const { k, iommu, dev, dom } = setup();
  const phys = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  const iovas: number[] = [];
  for (let i = 0; i < 256; i++) iovas.push(k.dma.dma_map_single(dev, phys, 64, "from-device")!);
  assert.equal(iovas[255], 0xffff_f000 - 255 * PAGE_SIZE);
  const cmds = commandLog(iommu);
  const t0 = machineOf(k).clock.now;
  for (let i = 0; i < 255; i++) k.dma.dma_unmap_single(dev, iovas[i], 64, "from-device");
  assert.equal(cmds.length, 0);
  assert.equal(dom.iovad!.flushQueue.length, 255);
  k.dma.dma_unmap_single(dev, iovas[255], 64, "from-device");
  assert.ok(machineOf(k).clock.now - t0 < 10_000_000, "well before the timer");
  assert.deepEqual(cmds.map((c) => [c.name, c.fields.DomainID]), [
    ["INVALIDATE_IOMMU_PAGES", dom.id],
    ["COMPLETION_WAIT", undefined],
  ]);
  assert.equal(dom.iovad!.flushQueue.length, 0);
  assert.equal(k.dma.dma_map_single(dev, phys, 64, "from-device"), iovas[255]);
  assert.equal(k.dma.dma_map_single(dev, phys, 64, "from-device"), iovas[254]);
  // The pending 10 ms timer finds an empty queue and flushes nothing more.
  k.spend(20_000_000);
  assert.equal(cmds.length, 2);
});

Deno.test("dma_ops: dma_alloc_coherent returns zeroed, tagged pages mapped at an IOVA; free_coherent unmaps and frees", () => {
  const { k, m, dev, dom } = setup();
  // Dirty the page the allocator will hand out next.
  const probe = k.alloc.allocPages(GFP.KERNEL, 0, "probe")!;
  m.mem.write32(probe, 0xffff_ffff);
  k.alloc.freePages(probe);
  const buf = k.dma.dma_alloc_coherent(dev, 100, "ring")!;
  assert.equal(buf.cpu, probe, "the same page again");
  assert.equal(m.mem.read32(buf.cpu), 0, "zeroed");
  assert.equal(buf.size, PAGE_SIZE);
  assert.equal(ownerText(m.mem.ownerOf(buf.cpu)), "kernel1:ring@01:00.0");
  assert.equal(buf.dma, 0xffff_f000);
  assert.deepEqual(m.dmaRead(KIT.NIC, buf.dma, new Uint32Array(1)), { ok: true, spa: buf.cpu });
  k.dma.dma_free_coherent(dev, buf);
  assert.equal(ownerText(m.mem.ownerOf(buf.cpu)), "free:free");
  assert.deepEqual(dom.iovad!.flushQueue, [[0xfffff, 1]]);
});

Deno.test("dma_ops: dma_alloc_coherent with no IOVA left frees the pages it allocated", () => {
  const { k, m, dev, dom } = setup();
  k.dma.dma_set_mask(dev, 32);
  // Fill the 32-bit IOVA space: reserve every gap between the ranges all domains reserve.
  const taken = [...k.amd.reserved_iova_ranges, [0x10_0000, Infinity]];
  let next = 1;
  for (const [lo, hi] of taken.sort((a, b) => a[0] - b[0])) {
    if (lo > next) dom.iovad!.reserve(next, lo - 1);
    next = Math.max(next, hi + 1);
  }
  const before = k.alloc.allocPages(GFP.KERNEL, 0, "probe")!;
  k.alloc.freePages(before);
  const allocated = k.alloc.allocatedPages;
  assert.equal(k.dma.dma_alloc_coherent(dev, PAGE_SIZE, "ring"), undefined);
  assert.equal(k.dma.stats.errors, 1);
  assert.equal(k.alloc.allocatedPages, allocated, "nothing leaked");
  assert.equal(ownerText(m.mem.ownerOf(before)), "free:free", "the page is free again");
  assert.equal(k.alloc.allocPages(GFP.KERNEL, 0, "probe"), before, "and handed out next");
});

Deno.test("dma_ops: map_page's PTE permissions follow the direction (dir2prot); the wrong way is a permission fault", () => {
  const { k, m, dev, dom } = setup();
  const bits = (dma: number) => {
    const pte = fetch_pte(k.amd, dom, dma)!;
    const hi = m.mem.read32(pte + 4);
    return { IR: (hi >>> 29) & 1, IW: (hi >>> 30) & 1 }; // PTE bits 61, 62
  };
  const buf = () => k.alloc.allocPages(GFP.KERNEL, 0, "buf", KIT.NIC)!;
  const toDev = k.dma.dma_map_single(dev, buf(), 64, "to-device")!;
  const fromDev = k.dma.dma_map_single(dev, buf(), 64, "from-device")!;
  const both = k.dma.dma_map_single(dev, buf(), 64, "bidirectional")!;
  const coherent = k.dma.dma_alloc_coherent(dev, 64, "ring")!;
  assert.deepEqual(
    [bits(toDev), bits(fromDev), bits(both), bits(coherent.dma)],
    [{ IR: 1, IW: 0 }, { IR: 0, IW: 1 }, { IR: 1, IW: 1 }, { IR: 1, IW: 1 }],
  );
  const log = dmaLog(m);
  // The device writes into a buffer it may only read, reads one it may only write.
  assert.equal(m.dmaWrite(KIT.NIC, toDev, [1]).ok, false);
  assert.equal(m.dmaRead(KIT.NIC, fromDev, new Uint32Array(1)).ok, false);
  assert.equal(m.dmaWrite(KIT.NIC, both, [1]).ok, true);
  const aborts = log.filter((r) => r.outcome.kind === "abort");
  assert.deepEqual(
    aborts.map((r) => [r.iova, r.write, r.outcome.kind === "abort" && r.outcome.event]),
    [[toDev, true, "IO_PAGE_FAULT"], [fromDev, false, "IO_PAGE_FAULT"]],
  );
});
