/**
 * The DMA API (runtime/kernel/dma.ts) and the iommu core's device setup
 * (runtime/kernel/iommu_core.ts): which devices get the AMD DMA ops, and the direct mapping
 * for a device no IOMMU handles.
 */
import assert from "node:assert/strict";
import { PAGE_SIZE } from "../../runtime/hw/memory.ts";
import { GFP } from "../../runtime/kernel/alloc.ts";
import { KIT, makeKit } from "./kit.ts";

const OUTSIDE = 0x0800; // 08:00.0: beyond the IVHD's 0..0x2ff
/** What the test's NIC functions say in their configuration space (BCM5709). */
const NIC_ID = { vendor: 0x14e4, device: 0x1639, classCode: 0x020000 };
/** A function no driver of the kit claims. */
const OTHER_ID = { vendor: 0x1234, device: 0x0001, classCode: 0xff0000 };

function kitWithOutsider() {
  const kit = makeKit({ nic: true });
  const pci = [...kit.pci, { devid: OUTSIDE, bar: 0xf020_0000, barSize: 0x1000, id: OTHER_ID }];
  return makeKit({ nic: true, pci });
}

Deno.test("dma: a device the IOMMU does not handle is mapped directly (DMA address = physical address)", () => {
  const { k } = kitWithOutsider();
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const dev = k.pciDev(OUTSIDE)!;
  assert.equal(k.amd.check_device(OUTSIDE), false);
  assert.equal(dev.dmaOps, undefined);
  assert.equal(dev.iommu, undefined);
  assert.equal(k.amd.dev_data.has(OUTSIDE), false);
  const low = k.alloc.allocPages(GFP.DMA32, 0, "buf")!;
  assert.equal(k.dma.dma_map_single(dev, low + 0x40, 64, "to-device"), low + 0x40);
  // Above its 32-bit mask: a mapping error, counted.
  const high = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  assert.ok(high >= 0x1_0000_0000);
  assert.equal(k.dma.dma_map_single(dev, high, 64, "to-device"), undefined);
  assert.deepEqual(k.dma.stats, { maps: 2, unmaps: 0, allocs: 0, errors: 1 });
  // Coherent memory for a 32-bit device comes from ZONE_DMA32, dma == cpu.
  const c = k.dma.dma_alloc_coherent(dev, 3 * PAGE_SIZE, "ring")!;
  assert.equal(c.dma, c.cpu);
  assert.ok(c.cpu + c.size <= 0x1_0000_0000);
  assert.equal(c.size, 3 * PAGE_SIZE, "rounded to pages");
  assert.equal(c.cpu % (4 * PAGE_SIZE), 0, "an order-2 block");
  // The AMD ops themselves fall back to the physical address for it (get_domain: -EINVAL).
  assert.equal(k.amd.dma_ops.map_page(dev, high, 64, "to-device"), high);
});

Deno.test("dma: the iommu core gives each covered PCI device a group, a DMA domain and the AMD DMA ops", () => {
  const kit = makeKit({ nic: true, disk: true });
  const { k } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(k.core.groups.length, 2);
  for (const [i, devid] of [KIT.NIC, KIT.DISK].entries()) {
    const dev = k.pciDev(devid)!;
    assert.equal(dev.groupId, i);
    assert.equal(dev.dmaOps, k.amd.dma_ops);
    assert.equal(dev.iommu, k.amd.dev_data.get(devid));
    assert.equal(k.core.iommu_get_domain_for_dev(dev), k.core.groups[i].domain);
    assert.equal(k.core.groups[i].domain.type, "dma");
  }
  // Devices sharing a group (no ACS) share its domain.
  const shared = makeKit({
    nic: true,
    pci: [
      { devid: KIT.NIC, bar: KIT.NIC_BAR, barSize: 0x1000, id: NIC_ID },
      {
        devid: KIT.NIC + 1,
        bar: KIT.NIC_BAR + 0x10000,
        barSize: 0x1000,
        id: NIC_ID,
        sharesGroupWith: KIT.NIC,
      },
    ],
  });
  shared.k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.equal(shared.k.core.groups.length, 1);
  const dom = shared.k.core.groups[0].domain;
  assert.deepEqual([...dom.devices].sort(), [KIT.NIC, KIT.NIC + 1]);
  assert.equal(shared.k.amd.dev_data.get(KIT.NIC + 1)!.domain, dom);
});
