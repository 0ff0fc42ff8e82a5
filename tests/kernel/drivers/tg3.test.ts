/**
 * The tg3-like driver (runtime/kernel/drivers/tg3.ts) on the model's BCM5720: it binds by
 * PCI ID; its probe halts a chip it finds running before its first DMA-API call (the DMA
 * test buffer), in any kernel — tg3 has no kdump-specific code; and it opens like bnx2.
 */
import assert from "node:assert/strict";
import { NIC_MODELS, NIC_REG } from "../../../runtime/hw/pci/nic.ts";
import { start_kernel } from "../../../runtime/kernel/boot.ts";
import { crash_kexec } from "../../../runtime/kernel/crash.ts";
import { type HookCall, hooksWith, KIT, makeKernel, makeKit, texts, tg3Of } from "../kit.ts";

const BCM5720 = { model: "bcm5720" as const };

Deno.test("tg3: binds the BCM5720 (14e4:165f) and not the BCM5709; probe of an idle chip allocates and frees the DMA test buffer", () => {
  const calls: HookCall[] = [];
  const kit = makeKit({ nic: BCM5720, drivers: ["bnx2", "tg3"], hooks: hooksWith({}, calls) });
  const writes: number[] = [];
  const orig = kit.nic!.write32.bind(kit.nic!);
  kit.nic!.write32 = (off: number, v: number) => (writes.push(off), orig(off, v));
  start_kernel(kit.k);
  const dev = kit.k.pciDev(KIT.NIC)!;
  assert.deepEqual(dev.id, {
    vendor: NIC_MODELS.bcm5720.vendor,
    device: NIC_MODELS.bcm5720.device,
    classCode: 0x020000,
  });
  assert.equal(dev.driver?.name, "tg3");
  assert.ok(texts(kit.k).includes("pci 0000:01:00.0: [14e4:165f] type 00 class 0x020000"));
  assert.deepEqual(writes, [], "an idle chip is not touched");
  assert.deepEqual(kit.k.dma.stats, { maps: 0, unmaps: 0, allocs: 1, errors: 0 });
  const dom = kit.k.amd.dev_data.get(KIT.NIC)!.domain!;
  assert.equal(dom.iovad!.flushQueue.length, 1, "the freed test buffer's IOVA waits for a flush");
  assert.equal(calls.filter((c) => c.name === "tg3.tg3_init_one").length, 1);
  assert.ok(
    texts(kit.k).includes(
      "tg3 0000:01:00.0 eth0: Tigon3 [partno(BCM95720) rev 5720000] (PCI Express) MAC address 00:10:18:00:01:00",
    ),
  );
});

Deno.test("tg3: a chip found running is halted (DMA stopped, then reset) before the first DMA-API call, kdump or not", () => {
  for (const cmdline of ["root=/dev/nvme0n1p2 ro", "irqpoll elfcorehdr=0x37ff0000"]) {
    const kit = makeKit({
      nic: { ...BCM5720, traffic: { framesPerSecond: 10_000, frameBytes: 1500 } },
      drivers: ["tg3"],
    });
    start_kernel(kit.k);
    tg3Of(kit.k).open(kit.k.pciDev(KIT.NIC)!);
    kit.k.spend(2_000_000);
    crash_kexec(kit.k, "test");
    const { m, nic } = kit;
    const k2 = makeKernel(kit, {
      id: "kernel2",
      cmdline,
      memory: [{ ...KIT.RESERVE }],
      drivers: ["tg3"],
    });
    const seen: string[] = [];
    const orig = nic!.write32.bind(nic!);
    nic!.write32 = (off: number, v: number) => {
      if (off === NIC_REG.DMA_STOP) seen.push(`stop@${k2.dma.stats.allocs}`);
      if (off === NIC_REG.CTRL && v & 4) seen.push(`reset@${k2.dma.stats.allocs}`);
      orig(off, v);
    };
    start_kernel(k2);
    assert.deepEqual(seen, ["stop@0", "reset@0"], cmdline);
    assert.equal(k2.dma.stats.allocs, 1, "then the DMA test buffer");
    const frames = nic!.stats.frames;
    k2.spend(20_000_000);
    assert.equal(nic!.stats.frames, frames, `${cmdline}: no DMA after the halt`);
    assert.equal(m.mem.read32(KIT.NIC_BAR + NIC_REG.STATUS), 0);
  }
});

Deno.test("tg3: open brings the link up like bnx2 (its own status block, ring, buffers)", () => {
  const kit = makeKit({
    nic: { ...BCM5720, traffic: { framesPerSecond: 10_000, frameBytes: 1500 } },
    drivers: ["tg3"],
  });
  start_kernel(kit.k);
  const dev = kit.k.pciDev(KIT.NIC)!;
  assert.equal(tg3Of(kit.k).open(dev), true);
  kit.k.spend(2_000_000);
  assert.ok(kit.nic!.stats.frames > 0);
  assert.equal(kit.nic!.counters.writeAborts, 0);
  assert.ok(texts(kit.k).includes("tg3 0000:01:00.0 eth0: Link is up at 1000 Mbps, full duplex"));
});
