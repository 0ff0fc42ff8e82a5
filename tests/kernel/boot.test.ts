/**
 * start_kernel (runtime/kernel/boot.ts): the stages, where the IOMMU init steps run
 * (early with interrupt remapping, all at the rootfs initcall without), and driver probes
 * after the IOMMU is up.
 */
import assert from "node:assert/strict";
import type { InitState } from "../../runtime/kernel/amd_iommu/driver.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import { bnx2Of, KIT, makeKit, texts } from "./kit.ts";

function stages(opts: Parameters<typeof makeKit>[0]) {
  const kit = makeKit({ nic: true, disk: true, drivers: ["bnx2", "nvme"], ...opts });
  const seen: [string, InitState][] = [];
  const marks = start_kernel(kit.k, (s) => seen.push([s, kit.k.amd.init_state]));
  return { ...kit, seen, marks };
}

Deno.test("boot: with interrupt remapping the IOMMU comes up early (prepare, enable), finishes at the initcall, then drivers probe", () => {
  const { k, seen, marks } = stages({});
  assert.deepEqual(seen, [
    ["early", "IOMMU_START_STATE"],
    ["iommu-prepare", "IOMMU_START_STATE"],
    ["iommu-enable", "IOMMU_ACPI_FINISHED"],
    ["io-apic", "IOMMU_ENABLED"],
    ["pci", "IOMMU_ENABLED"],
    ["iommu-init", "IOMMU_ENABLED"],
    ["drivers", "IOMMU_INITIALIZED"],
  ]);
  assert.ok(marks.iommuPrepared! >= 30_000_000, "after 30 ms of early boot");
  assert.ok(marks.iommuEnabled! - marks.iommuPrepared! >= 1_000_000);
  assert.ok(marks.iommuInitialized! - marks.iommuEnabled! >= 400_000_000);
  assert.ok(marks.driversProbed! - marks.iommuInitialized! >= 100_000_000);
  assert.deepEqual(texts(k).slice(0, 6), [
    "Linux version 4.13.0 (kdump-lab) (gcc version 7.2.1 (GCC)) #1 SMP",
    "Command line: root=/dev/nvme0n1p2 ro",
    "IOAPIC[0]: apic_id 128, version 33, address 0xfec00000, GSI 0-23",
    "..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1",
    "pci 0000:01:00.0: [14e4:1639] type 00 class 0x020000",
    "pci 0000:02:00.0: [8086:0953] type 00 class 0x010802",
  ]);
  // The probes ran with the IOMMU's DMA ops in place: their first allocations got IOVAs.
  assert.equal(k.pciDev(KIT.NIC)!.driver?.name, "bnx2");
  assert.equal(k.pciDev(KIT.DISK)!.driver?.name, "nvme");
  assert.equal(k.dma.stats.allocs, 3, "bnx2 status block, nvme SQ and CQ");
  assert.ok(k.pciDev(KIT.NIC)!.dmaOps === k.amd.dma_ops);
});

Deno.test("boot: with intremap=off the whole IOMMU init runs at the initcall", () => {
  const { seen, marks } = stages({ cmdline: "intremap=off" });
  assert.deepEqual(seen, [
    ["early", "IOMMU_START_STATE"],
    ["io-apic", "IOMMU_START_STATE"],
    ["pci", "IOMMU_START_STATE"],
    ["iommu-init", "IOMMU_START_STATE"],
    ["drivers", "IOMMU_INITIALIZED"],
  ]);
  assert.equal(marks.iommuPrepared, undefined);
  assert.equal(marks.iommuEnabled, undefined);
});

Deno.test("boot: a kdump kernel says so; without an IVHD there is no IOMMU stage and drivers map directly", () => {
  const kd = stages({ cmdline: "irqpoll elfcorehdr=0x37ff0000" });
  assert.deepEqual(texts(kd.k).slice(1, 3), [
    "Command line: irqpoll elfcorehdr=0x37ff0000",
    "Reserving ELF core header (elfcorehdr)",
  ]);
  const none = stages({ ivrs: { ivhds: [], pciWindows: [] } });
  assert.deepEqual(none.seen.map((s) => s[0]), ["early", "io-apic", "pci", "drivers"]);
  assert.equal(none.k.amd.init_state, "IOMMU_START_STATE");
  assert.equal(none.k.pciDev(KIT.NIC)!.dmaOps, undefined);
  assert.equal(none.marks.iommuInitialized, undefined);
  // Direct mapping: the bnx2 status block's DMA address is its physical address.
  const bp = bnx2Of(none.k).devs.get(KIT.NIC)!;
  assert.equal(bp.blk!.dma, bp.blk!.cpu);
});
