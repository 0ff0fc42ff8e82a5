/**
 * The NVMe-like driver (runtime/kernel/drivers/nvme.ts) against the model's disk: probe,
 * a block write that completes, one whose buffer the IOMMU refuses (DATA_TRANSFER_ERROR),
 * one whose completion interrupt never arrives (timeout, controller reset), and shutdown.
 */
import assert from "node:assert/strict";
import { DTE } from "../../../runtime/hw/layouts/dte.ts";
import type { Machine } from "../../../runtime/hw/machine.ts";
import { DISK_REG, DISK_STATUS } from "../../../runtime/hw/pci/disk.ts";
import { PAGE_SIZE } from "../../../runtime/hw/memory.ts";
import { GFP } from "../../../runtime/kernel/alloc.ts";
import { start_kernel } from "../../../runtime/kernel/boot.ts";
import { NVME_IO_TIMEOUT_NS } from "../../../runtime/kernel/drivers/nvme.ts";
import { dmaLog, dteOf, eventLog, KIT, linesSince, makeKit, nvmeOf } from "../kit.ts";

const diskReg = (m: Machine, off: number) => m.mem.read32(KIT.DISK_BAR + off);

function probed() {
  const kit = makeKit({ disk: true, drivers: ["nvme"] });
  start_kernel(kit.k);
  const dev = kit.k.pciDev(KIT.DISK)!;
  const nvme = nvmeOf(kit.k);
  // A page of data to write.
  const phys = kit.k.alloc.allocPages(GFP.KERNEL, 0, "data")!;
  const data = new Uint32Array(PAGE_SIZE / 4).map((_, i) => (0x5a00_0000 | i) >>> 0);
  kit.m.mem.writeDwords(phys, data);
  return { ...kit, dev, nvme, phys, data };
}

Deno.test("nvme: probe resets the controller, allocates the queues, sets up a remapped MSI and enables it", () => {
  const { k, m, disk, dev, nvme } = probed();
  assert.equal(dev.driver, nvme);
  assert.equal(dev.dmaMaskBits, 64);
  assert.equal(disk!.counters.resets, 1);
  assert.equal(diskReg(m, DISK_REG.CTRL), 1);
  assert.equal(diskReg(m, DISK_REG.SQ_ENTRIES), 64);
  assert.equal(diskReg(m, DISK_REG.SQ_LO), 0xffff_f000, "SQ: the first IOVA");
  assert.equal(diskReg(m, DISK_REG.CQ_LO), 0xffff_e000);
  assert.equal(diskReg(m, DISK_REG.MSI_DATA), 0, "IRTE index 0");
  assert.equal(DTE.get(dteOf(k, KIT.DISK), "IntCtl"), 2);
  assert.equal(nvme.firstDisk(), dev);
});

Deno.test("nvme: writeBlocks completes ok; the disk read the buffer through the IOMMU", () => {
  const { k, m, disk, dev, nvme, phys, data } = probed();
  const dma = k.dma.dma_map_single(dev, phys, PAGE_SIZE, "to-device")!;
  assert.equal(dma, 0xffff_d000);
  const log = dmaLog(m);
  const t0 = m.clock.now;
  assert.equal(nvme.writeBlocks(dev, 7, dma, 1), "ok");
  assert.deepEqual(disk!.media.get(7), data);
  const rd = log.find((r) => r.devid === KIT.DISK && !r.write && r.iova === dma)!;
  assert.equal(rd.outcome.kind === "translated" && rd.outcome.spa, phys);
  assert.deepEqual(nvme.stats, { writes: 1, errors: 0, timeouts: 0, resets: 0 });
  assert.ok(m.clock.now - t0 < 1_000_000, "completed by interrupt, not by timeout");
  // Two blocks at once.
  const two = k.alloc.allocPages(GFP.KERNEL, 1, "data")!;
  m.mem.write32(two + PAGE_SIZE, 0x77);
  const dma2 = k.dma.dma_map_single(dev, two, 2 * PAGE_SIZE, "to-device")!;
  assert.equal(nvme.writeBlocks(dev, 100, dma2, 2), "ok");
  assert.equal(disk!.media.get(101)![0], 0x77);
});

Deno.test('nvme: an unmapped buffer IOVA makes the disk\'s read abort: DATA_TRANSFER_ERROR → "error" and the I/O error line', () => {
  const { k, m, iommu, disk, dev, nvme, phys } = probed();
  const dma = k.dma.dma_map_single(dev, phys, PAGE_SIZE, "to-device")!;
  k.dma.dma_unmap_single(dev, dma, PAGE_SIZE, "to-device");
  const events = eventLog(iommu);
  const from = k.dmesg.lines.length;
  assert.equal(nvme.writeBlocks(dev, 7, dma, 1), "error");
  assert.equal(disk!.media.has(7), false);
  assert.deepEqual(nvme.stats, { writes: 1, errors: 1, timeouts: 0, resets: 0 });
  assert.deepEqual(events, [{ name: "IO_PAGE_FAULT", result: "written" }]);
  // The fault is printed while the driver waits for the completion (a read: flags 0).
  assert.deepEqual(linesSince(k, from).map((l) => l[1]), [
    "nvme 0000:02:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x00000000ffffd000 flags=0x0000]",
    "print_req_error: I/O error, dev nvme0n1, sector 56",
  ]);
  // The completion the disk wrote carries DATA_TRANSFER_ERROR (4).
  const cq = iommu.translate({
    devid: KIT.DISK,
    addr: diskReg(m, DISK_REG.CQ_LO),
    len: 16,
    write: false,
  });
  assert.equal(cq.kind, "translated");
  const cqe = new Uint32Array(4);
  m.mem.readDwords((cq as { spa: number }).spa, 4, cqe);
  assert.deepEqual(
    [...cqe],
    [1, DISK_STATUS.DATA_TRANSFER_ERROR, 1, 1],
    "cid, status, SQ head, phase",
  );
});

Deno.test("nvme: no completion interrupt (the IRTE is gone) → timeout after 30 s, the reset line, the controller reset and re-programmed", () => {
  const { k, m, disk, dev, nvme, phys, data } = probed();
  const dma = k.dma.dma_map_single(dev, phys, PAGE_SIZE, "to-device")!;
  const irte = k.amd.irq.tables.get(KIT.DISK)!.addr;
  const saved = m.mem.read32(irte);
  m.mem.write32(irte, 0);
  const from = k.dmesg.lines.length;
  const t0 = m.clock.now;
  assert.equal(nvme.writeBlocks(dev, 9, dma, 1), "timeout");
  assert.ok(
    m.clock.now - t0 >= NVME_IO_TIMEOUT_NS && m.clock.now - t0 < NVME_IO_TIMEOUT_NS + 1_000_000,
  );
  assert.deepEqual(disk!.media.get(9), data, "the data got there; only the interrupt was lost");
  const lines = linesSince(k, from);
  assert.deepEqual(lines[0], [
    "err",
    "nvme 0000:02:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0001 address=0x00000000fee00000 flags=0x0028]",
  ]);
  assert.deepEqual(lines.at(-1), [
    "err",
    "nvme 0000:02:00.0: I/O 1 QID 1 timeout, reset controller",
  ]);
  assert.deepEqual(nvme.stats, { writes: 1, errors: 0, timeouts: 1, resets: 1 });
  assert.equal(disk!.counters.resets, 2, "probe's reset and the timeout's");
  assert.equal(diskReg(m, DISK_REG.CTRL), 1);
  assert.equal(diskReg(m, DISK_REG.SQ_LO), 0xffff_f000, "queues programmed again");
  // With the interrupt back the next write completes.
  m.mem.write32(irte, saved);
  assert.equal(nvme.writeBlocks(dev, 10, dma, 1), "ok");
  assert.deepEqual(disk!.media.get(10), data);
});

Deno.test("nvme: ->shutdown disables the controller", () => {
  const { m, dev, nvme } = probed();
  nvme.shutdown(dev);
  assert.equal(diskReg(m, DISK_REG.CTRL), 0);
  assert.equal(diskReg(m, DISK_REG.STATUS), 0);
});
