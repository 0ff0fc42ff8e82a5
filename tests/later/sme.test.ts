/**
 * sme-host, by mechanism, seeds 1-20. Both kernels run with SME (mem_encrypt=on, C-bit 47).
 * The first kernel's Device Table Base register carries the C-bit, so with the series (4.14)
 * the kdump kernel reads an address above 4G and refuses the copy: the cold-start fallback,
 * and the in-flight DMA the series was written for lands where it should not. With
 * sme-remap-devtab the C-bit is stripped and the old table is read through an encrypted
 * mapping: each copied entry is what the first kernel wrote. Stripping the bit alone reads the
 * ciphertext (a test plugin): the sanity check rejects it.
 */
import assert from "node:assert/strict";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulateLab } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { definePlugin, type Plugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { CopyEntryCtx, OldTableCtx } from "../../plugins/series/copy-dev-tables.ts";

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
const C = 2 ** 47;
const NIC = 0x0101; // 01:00.1, the port receiving traffic at the panic

/** The run of `spec` with test plugins appended. */
const run = (spec: string, seed: number, ...extra: Plugin[]) => {
  const series = seriesFromSpec(spec);
  for (const p of extra) series.insert(p);
  return simulateLab(SCENARIOS["sme-host"], { series, seed });
};

const lines = (r: { dmesg: { kernel: string; text: string }[] }, text: string) =>
  r.dmesg.filter((l) => l.kernel === "kernel2" && l.text === text).length;

/** A test plugin keeping each old entry the copy saw. */
function recorder(seen: Map<number, number[]>): Plugin {
  return definePlugin({
    id: "test-seen",
    title: "test: keep the old entries the copy saw",
    hooks: {
      "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
        seen.set(ctx.devid, [...ctx.old]);
      },
    },
  });
}

Deno.test("sme-host with the series: the Device Table Base carries the C-bit, the copy is refused as above 4G, and DMA goes stray", () => {
  for (const seed of SEEDS) {
    let entry = -1;
    const reader = definePlugin({
      id: "test-entry",
      title: "test: keep the Device Table Base value the copy read",
      requires: ["copy-dev-tables"],
      before: ["dev-table-below-4g"],
      hooks: {
        "amd_iommu.copy_device_table.old_table": (a: number, ctx: OldTableCtx & PluginCtx) => {
          entry = ctx.entry;
          return a;
        },
      },
    });
    const sim = run("all", seed, reader);
    const r = sim.report, k1 = sim.kernel1!, hw = sim.machine.iommus[0];
    assert.equal(k1.sme_me_mask, C);
    // readq of the register the crashed kernel programmed: its table, the C-bit, Size = pages - 1
    assert.equal(entry, k1.amd.dev_table + C + k1.amd.dev_table_size / 4096 - 1, `seed ${seed}`);
    assert.equal(
      lines(r, "The address of old device table is above 4G, not trustworthy!"),
      1,
      `seed ${seed}`,
    );
    assert.equal(lines(r, "Failed to copy DEV table from previous kernel."), 1);
    assert.equal(lines(r, "Copied DEV table from previous kernel."), 0);
    // The kdump kernel's own table, with the C-bit, is what the IOMMU reads now.
    const k2 = sim.kernel2!.amd;
    assert.equal(
      hw.regs.get64(MMIO.DEV_TABLE) % 2 ** 52,
      k2.dev_table + C + k2.dev_table_size / 4096 - 1,
    );
    assert.ok(r.strayWriteCount > 0, `seed ${seed}: in-flight DMA went stray`);
    sim.machine.dispose();
  }
});

Deno.test("sme-host with sme-remap-devtab: the old table is read through the C-bit; each copied entry is what the first kernel wrote; clean dump", () => {
  for (const seed of SEEDS) {
    const seen = new Map<number, number[]>();
    const sim = run("all,sme-remap-devtab", seed, recorder(seen));
    const r = sim.report, mem = sim.machine.mem, old = sim.kernel1!.amd.dev_table;
    assert.equal(lines(r, "Copied DEV table from previous kernel."), 1, `seed ${seed}`);
    const plain = new Uint32Array(8), raw = new Uint32Array(8);
    mem.readDwords(old + NIC * 32 + C, 8, plain);
    mem.readDwords(old + NIC * 32, 8, raw);
    assert.deepEqual(seen.get(NIC), [...plain], `seed ${seed}: the copy saw the plaintext`);
    assert.notDeepEqual([...raw], [...plain], "memory holds the ciphertext");
    assert.equal(r.verdict, "dump-ok", `seed ${seed}`);
    assert.equal(r.strayWriteCount, 0);
    assert.equal(r.dump!.badPages, 0);
    sim.machine.dispose();
  }
});

Deno.test("sme-host, stripping the C-bit without the encrypted mapping: the copy reads ciphertext and the sanity check rejects it", () => {
  const clrOnly = definePlugin({
    id: "test-sme-clr-only",
    title: "test: __sme_clr the register value, memremap the old table",
    requires: ["copy-dev-tables"],
    before: ["dev-table-below-4g"],
    hooks: {
      "amd_iommu.copy_device_table.old_table": (_: number, { k, entry }: OldTableCtx & PluginCtx) =>
        k.__sme_clr(entry - (entry % 4096)),
    },
  });
  for (const seed of SEEDS.slice(0, 5)) {
    const seen = new Map<number, number[]>();
    const sim = run("all", seed, clrOnly, recorder(seen));
    const r = sim.report, mem = sim.machine.mem, old = sim.kernel1!.amd.dev_table;
    assert.equal(lines(r, "The address of old device table is above 4G, not trustworthy!"), 0);
    assert.ok(seen.size > 0, `seed ${seed}: the copy ran`);
    const [devid, words] = [...seen].at(-1)!;
    const raw = new Uint32Array(8);
    mem.readDwords(old + devid * 32, 8, raw);
    assert.deepEqual(words, [...raw], `seed ${seed}: the entry seen is the stored ciphertext`);
    assert.ok(
      r.dmesg.some((l) =>
        l.kernel === "kernel2" && l.text.startsWith("Wrong old irq remapping flag")
      ),
      `seed ${seed}`,
    );
    assert.equal(lines(r, "Failed to copy DEV table from previous kernel."), 1);
    sim.machine.dispose();
  }
});

Deno.test("sme-host: the vmcore is read through the C-bit: the disk holds the plaintext memory stores encrypted", () => {
  const sim = run("all,sme-remap-devtab", 1);
  const mem = sim.machine.mem, disk = sim.built.disks[0];
  assert.equal(sim.report.verdict, "dump-ok");
  const headerBlocks = disk.media.get(0)![3];
  const pfn = disk.media.get(1)![0]; // the first page of the dump (pfns below 2^32 here)
  const onDisk = disk.media.get(headerBlocks)!;
  const raw = new Uint32Array(onDisk.length);
  mem.readDwords(pfn * 4096, raw.length, raw);
  assert.notDeepEqual([...raw], [...onDisk], "memory holds ciphertext");
  assert.equal(mem.originalPageEquals(pfn, onDisk, 0, onDisk.length, true), true);
  sim.machine.dispose();
});

Deno.test("sme-host with all,later: the reuse path maps the old table and buffers through the C-bit; the vmcore is written", () => {
  for (const seed of SEEDS.slice(0, 10)) {
    const sim = run("all,later", seed);
    const r = sim.report;
    assert.equal(lines(r, "Reused DEV table from previous kernel."), 1, `seed ${seed}`);
    assert.equal(sim.kernel2!.amd.dev_table, sim.kernel1!.amd.dev_table + C);
    assert.equal(r.strayWriteCount, 0);
    assert.equal(r.dump?.result, "complete");
    // What differs is only what the kdump kernel took over: the table, the command buffer.
    for (const e of r.dump!.examples) {
      assert.match(e.owner, /amd_iommu_dev_table|iommu-cmd-buf/, `seed ${seed}`);
      assert.equal(e.why, "changed in memory after the panic by the kdump kernel (no DMA)");
    }
    sim.machine.dispose();
  }
});
