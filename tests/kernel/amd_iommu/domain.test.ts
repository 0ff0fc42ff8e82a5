/**
 * Protection domains and device table entries (runtime/kernel/amd_iommu/domain.ts):
 * domain IDs, set_dte_entry's store order and q1 handling, clear_dte_entry, attach_device's
 * flushes, get_domain, and the I/O page tables the IOMMU walks.
 */
import assert from "node:assert/strict";
import { INV_ALL_PAGES_ADDRESS } from "../../../runtime/hw/layouts/command.ts";
import { DTE, DTE_BYTES } from "../../../runtime/hw/layouts/dte.ts";
import { PAGE_SIZE } from "../../../runtime/hw/memory.ts";
import { GFP } from "../../../runtime/kernel/alloc.ts";
import {
  attach_device,
  detach_device,
  dma_ops_domain_alloc,
  domain_id_alloc,
  fetch_pte,
  get_domain,
  iommu_map_page,
  iommu_map_pages,
  iommu_unmap_page,
  iommu_unmap_pages,
  set_dte_entry,
} from "../../../runtime/kernel/amd_iommu/domain.ts";
import { KernelPanic } from "../../../runtime/kernel/kernel.ts";
import { definePlugin, HookRunner } from "../../../runtime/plugin/mod.ts";
import { commandLog, dmaLog, dteOf, hooksWith, KIT, makeKit, texts } from "../kit.ts";

/** A kit whose devices are not attached at init (the attach is skipped by the core's hook). */
function unattached() {
  const kit = makeKit({
    nic: true,
    disk: true,
    hooks: hooksWith({ bail: { "iommu.__iommu_attach_device": () => true } }),
  });
  kit.k.amd.go_to_state("IOMMU_INITIALIZED");
  return kit;
}

Deno.test("domain: IDs start at 1 (0 is reserved) and go up in PCI order", () => {
  const kit = makeKit({ nic: true, disk: true });
  const d = kit.k.amd;
  d.go_to_state("IOMMU_INITIALIZED");
  assert.equal(d.pd_alloc_bitmap[0], 1);
  assert.equal(d.dev_data.get(KIT.NIC)!.domain!.id, 1);
  assert.equal(d.dev_data.get(KIT.DISK)!.domain!.id, 2);
  assert.equal(DTE.get(dteOf(kit.k, KIT.NIC), "DomainID"), 1);
  assert.equal(DTE.get(dteOf(kit.k, KIT.DISK), "DomainID"), 2);
  assert.equal(domain_id_alloc(d), 3);
  d.pd_alloc_bitmap[2] = 0; // a freed ID is reused first
  assert.equal(domain_id_alloc(d), 2);
  assert.equal(kit.k.core.groups.length, 2);
});

Deno.test("domain: get_domain's hook context shows each call's device, a nested call's too, and the outer one's again after it", () => {
  const seen: string[] = [];
  const plugin = definePlugin({
    id: "watch",
    title: "test: looks at get_domain's context",
    hooks: {
      "amd_iommu.get_domain": (ctx, next) => {
        seen.push(`in ${ctx.dev.devid}`);
        if (ctx.dev.devid === KIT.NIC && seen.length === 1) {
          // A DMA-API call from inside the handler: get_domain again, for the disk.
          ctx.k.dma.dma_map_single(ctx.k.pciDev(KIT.DISK)!, 0x1000_0000, 64, "to-device");
        }
        seen.push(`out ${ctx.dev.devid} ${ctx.devData.devid}`);
        return next();
      },
    },
  });
  const kit = makeKit({ nic: true, disk: true, hooks: new HookRunner([plugin]) });
  const { k } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const nic = k.pciDev(KIT.NIC)!, disk = k.pciDev(KIT.DISK)!;
  assert.ok(k.dma.dma_map_single(nic, 0x1000_0000, 64, "from-device"));
  assert.ok(k.dma.dma_map_single(disk, 0x1000_0000, 64, "to-device"));
  assert.ok(k.dma.dma_map_single(nic, 0x1000_0000, 64, "from-device"));
  assert.deepEqual(seen, [
    `in ${KIT.NIC}`,
    `in ${KIT.DISK}`,
    `out ${KIT.DISK} ${KIT.DISK}`,
    `out ${KIT.NIC} ${KIT.NIC}`, // the outer call's device again
    `in ${KIT.DISK}`,
    `out ${KIT.DISK} ${KIT.DISK}`,
    `in ${KIT.NIC}`,
    `out ${KIT.NIC} ${KIT.NIC}`,
  ]);
});

Deno.test("domain: set_dte_entry stores q1 before q0 (each as two halves), clears SA and the old DomainID, keeps the rest of q1 and q2", () => {
  const kit = unattached();
  const { k, m } = kit;
  const d = k.amd;
  const at = d.dev_table + KIT.NIC * DTE_BYTES;
  // q1 as an older entry might have it: SA, a DomainID, SE, EX and SysMgt set.
  const old = dteOf(k, KIT.NIC);
  DTE.set(old, "SA", 1);
  DTE.set(old, "DomainID", 0x1234);
  DTE.set(old, "SE", 1);
  DTE.set(old, "EX", 1);
  DTE.set(old, "SysMgt", 1);
  m.mem.writeDwords(at, old);
  const q2Before = [old[4], old[5]];
  const dom = dma_ops_domain_alloc(d)!;
  const order: number[] = [];
  const orig = m.mem.write32;
  m.mem.write32 = function (addr: number, value: number) {
    if (addr >= at && addr < at + DTE_BYTES) order.push(addr - at);
    return orig.call(this, addr, value);
  };
  try {
    set_dte_entry(d, KIT.NIC, dom);
  } finally {
    m.mem.write32 = orig;
  }
  assert.deepEqual(order, [8, 12, 0, 4], "q1 low, q1 high, q0 low, q0 high");
  const w = dteOf(k, KIT.NIC);
  assert.equal(DTE.get(w, "SA"), 0);
  assert.equal(DTE.get(w, "DomainID"), dom.id);
  assert.deepEqual([DTE.get(w, "SE"), DTE.get(w, "EX"), DTE.get(w, "SysMgt")], [1, 1, 1]);
  assert.deepEqual([w[4], w[5]], q2Before, "interrupt part untouched");
  assert.equal(DTE.get(w, "IV"), 1);
  for (const [f, v] of [["V", 1], ["TV", 1], ["IR", 1], ["IW", 1], ["Mode", 3]] as const) {
    assert.equal(DTE.get(w, f), v, f);
  }
  assert.equal(DTE.get(w, "PageTableRootPtr") * PAGE_SIZE, dom.pt_root);
});

Deno.test("domain: attach_device issues INVALIDATE_DEVTAB_ENTRY, COMPLETION_WAIT, INVALIDATE_IOMMU_PAGES (all, PDE) for the domain, COMPLETION_WAIT", () => {
  const kit = unattached();
  const { k, iommu } = kit;
  const d = k.amd;
  assert.equal(k.core.deferredAttaches, 2);
  assert.equal(d.dev_data.get(KIT.NIC)!.domain, null);
  assert.deepEqual([dteOf(k, KIT.NIC)[0], dteOf(k, KIT.NIC)[1]], [3, 0], "still blocked");
  const dom = k.core.groups[0].domain;
  const cmds = commandLog(iommu);
  attach_device(d, k.pciDev(KIT.NIC)!, dom);
  assert.deepEqual(cmds.map((c) => c.name), [
    "INVALIDATE_DEVTAB_ENTRY",
    "COMPLETION_WAIT",
    "INVALIDATE_IOMMU_PAGES",
    "COMPLETION_WAIT",
  ]);
  assert.equal(cmds[0].fields.DeviceID, KIT.NIC);
  const p = cmds[2].fields;
  assert.deepEqual([p.DomainID, p.S, p.PDE, p.Address * 4096], [
    dom.id,
    1,
    1,
    INV_ALL_PAGES_ADDRESS,
  ]);
  assert.equal(d.dev_data.get(KIT.NIC)!.domain, dom);
  assert.ok(dom.devices.has(KIT.NIC));
  assert.equal(DTE.get(dteOf(k, KIT.NIC), "DomainID"), dom.id);
});

Deno.test("domain: re-attaching detaches first (clear_dte_entry: V|TV, q1 keeps only DTE_FLAG_MASK bits)", () => {
  const kit = makeKit({ nic: true });
  const { k, iommu } = kit;
  const d = k.amd;
  d.go_to_state("IOMMU_INITIALIZED");
  const dev = k.pciDev(KIT.NIC)!;
  const first = d.dev_data.get(KIT.NIC)!.domain!;
  const at = d.dev_table + KIT.NIC * DTE_BYTES;
  // I (bit 96) and SysMgt (104) are inside DTE_FLAG_MASK; the DomainID is not.
  const w = dteOf(k, KIT.NIC);
  DTE.set(w, "I", 1);
  DTE.set(w, "SysMgt", 2);
  kit.m.mem.writeDwords(at, w);
  detach_device(d, dev);
  const cleared = dteOf(k, KIT.NIC);
  assert.deepEqual([cleared[0], cleared[1], cleared[2]], [3, 0, 0]);
  assert.equal(cleared[3], (1 << 0) | (2 << 8), "I and SysMgt kept, DomainID gone");
  assert.equal(first.devices.has(KIT.NIC), false);
  const second = dma_ops_domain_alloc(d)!;
  attach_device(d, dev, first);
  const cmds = commandLog(iommu);
  attach_device(d, dev, second);
  assert.deepEqual(cmds.map((c) => c.name), [
    "INVALIDATE_DEVTAB_ENTRY", // detach from `first`
    "COMPLETION_WAIT",
    "INVALIDATE_DEVTAB_ENTRY", // attach to `second`
    "COMPLETION_WAIT",
    "INVALIDATE_IOMMU_PAGES",
    "COMPLETION_WAIT",
  ]);
  assert.equal(cmds[4].fields.DomainID, second.id);
  assert.equal(first.devices.has(KIT.NIC), false);
  assert.equal(DTE.get(dteOf(k, KIT.NIC), "DomainID"), second.id);
  assert.equal(DTE.get(dteOf(k, KIT.NIC), "I"), 1, "set_dte_entry keeps q1 flags");
});

Deno.test("domain: get_domain: -EINVAL outside the IOMMU, the domain, -EBUSY for identity, and a NULL-domain oops (4.13)", () => {
  const kit = unattached();
  const { k } = kit;
  const d = k.amd;
  const nic = k.pciDev(KIT.NIC)!;
  const outside = { ...nic, devid: 0x0800, name: "0000:08:00.0" };
  assert.deepEqual(get_domain(d, outside), { err: "EINVAL" });
  const dom = k.core.groups[0].domain;
  attach_device(d, nic, dom);
  assert.deepEqual(get_domain(d, nic), { domain: dom });
  // The disk is covered but never attached: dev_data->domain is NULL.
  const disk = k.pciDev(KIT.DISK)!;
  assert.throws(() => get_domain(d, disk), KernelPanic);
  assert.deepEqual(texts(k, "alert"), [
    // offsetof(struct protection_domain, flags) on a 4.13 x86-64 build: 0xb0.
    "BUG: unable to handle kernel NULL pointer dereference at 00000000000000b0",
    "IP: get_domain",
    "Oops: 0000 [#1] SMP",
  ]);
  assert.equal(k.panicked, "Fatal exception");

  const pt = makeKit({ nic: true, cmdline: "iommu=pt" });
  pt.k.amd.go_to_state("IOMMU_INITIALIZED");
  assert.deepEqual(get_domain(pt.k.amd, pt.k.pciDev(KIT.NIC)!), { err: "EBUSY" });
  assert.equal(
    pt.k.amd.dma_ops.map_page(pt.k.pciDev(KIT.NIC)!, 0x1000_0000, 64, "from-device"),
    undefined,
  );
});

Deno.test("domain: iommu_map_page builds a 3-level table the IOMMU walks; iommu_unmap_page clears the leaf", () => {
  const kit = makeKit({ nic: true });
  const { k, m } = kit;
  const d = k.amd;
  d.go_to_state("IOMMU_INITIALIZED");
  const dom = d.dev_data.get(KIT.NIC)!.domain!;
  const phys = k.alloc.allocPages(GFP.KERNEL, 0, "buf")!;
  const iova = 0x4_5678_9000; // above 4 GiB: all three levels indexed
  const pages = k.alloc.allocatedPages;
  iommu_map_page(d, dom, iova, phys, true, false);
  assert.equal(k.alloc.allocatedPages, pages + 2, "a level-2 and a level-1 table");
  // Root entry: next table | NextLevel 2 | PR, IR|IW in the high dword.
  const l3 = dom.pt_root + (Math.floor(iova / 2 ** 30) % 512) * 8;
  const l3lo = m.mem.read32(l3), l3hi = m.mem.read32(l3 + 4);
  assert.equal(l3lo & 0xfff, (2 << 9) | 1);
  assert.equal(l3hi >>> 29, 3);
  const leaf = fetch_pte(d, dom, iova)!;
  assert.equal(m.mem.read32(leaf), ((phys % 2 ** 32) | 1) >>> 0);
  // FC (bit 60) and IR (61), not IW.
  assert.equal(m.mem.read32(leaf + 4), (Math.floor(phys / 2 ** 32) | (1 << 28) | (1 << 29)) >>> 0);
  const log = dmaLog(m);
  const buf = new Uint32Array(1);
  assert.deepEqual(m.dmaRead(KIT.NIC, iova + 0x24, buf), { ok: true, spa: phys + 0x24 });
  assert.equal(m.dmaWrite(KIT.NIC, iova + 0x24, [1]).ok, false, "read-only mapping");
  assert.equal(log[1].outcome.kind, "abort");
  iommu_unmap_page(d, dom, iova);
  assert.deepEqual([m.mem.read32(leaf), m.mem.read32(leaf + 4)], [0, 0]);
  assert.equal(fetch_pte(d, dom, 0x7_0000_0000), undefined, "no table there");
});

/** The memory of a kit as data: every non-blank page's dwords, and the time. */
function memoryOf(kit: ReturnType<typeof makeKit>): string {
  const out: string[] = [`t=${kit.m.clock.now}`];
  const page = new Uint32Array(1024);
  for (const pfn of kit.m.mem.nonBlankPages()) {
    kit.m.mem.readDwords(pfn * PAGE_SIZE, 1024, page);
    out.push(`${pfn}:${page.join(",")}`);
  }
  return out.join("\n");
}

/**
 * Two identical kits: one maps and unmaps ranges with iommu_map_pages / iommu_unmap_pages,
 * the other page by page with iommu_map_page / iommu_unmap_page; `prepare` runs on both first.
 */
function twoKits(prepare: (kit: ReturnType<typeof makeKit>) => void) {
  return [0, 1].map(() => {
    const kit = makeKit({ nic: true });
    kit.k.amd.go_to_state("IOMMU_INITIALIZED");
    prepare(kit);
    return kit;
  });
}

Deno.test("domain: iommu_map_pages / iommu_unmap_pages leave memory and time as page-by-page calls do (ranges across level-1 tables, a leaf landing on the walk's path, events between pages)", () => {
  const BASE = 0x4_5678_9000;
  const region = Math.floor(BASE / 2 ** 21), l2index = region % 512;
  const ranges: [number, number][] = [
    [BASE, 3],
    [0x4_567f_e000, 5], // across a 2 MiB boundary: a second level-1 table
    [0x8000_0000, 1],
    [0x1_3fff_f000, 4], // across a 1 GiB boundary: a second level-2 table
    // In BASE's 2 MiB: its second page's leaf index is the level-2 index of the region.
    [region * 2 ** 21 + (l2index - 1) * PAGE_SIZE, 3],
  ];
  const domOf = (kit: ReturnType<typeof makeKit>) => kit.k.amd.dev_data.get(KIT.NIC)!.domain!;
  /** Builds the tables of every range (then clears the leaves). */
  const tables = (kit: ReturnType<typeof makeKit>) => {
    for (const [iova, pages] of ranges) {
      for (let i = 0; i < pages; i++) {
        iommu_map_page(kit.k.amd, domOf(kit), iova + i * PAGE_SIZE, 0x1000_0000, true, true);
        iommu_unmap_page(kit.k.amd, domOf(kit), iova + i * PAGE_SIZE);
      }
    }
  };
  const cases: Record<string, (kit: ReturnType<typeof makeKit>) => void> = {
    plain: () => {},
    "tables built": tables,
    // BASE's level-2 entry points at its own table: a leaf written at the index of that entry
    // overwrites the path the next page's walk reads.
    "self-referencing level-2 table": (kit) => {
      tables(kit);
      const { m } = kit;
      const dom = domOf(kit);
      const l3 = dom.pt_root + (Math.floor(BASE / 2 ** 30) % 512) * 8;
      const l2table = (m.mem.read32(l3) & ~0xfff) + (m.mem.read32(l3 + 4) & 0xfffff) * 2 ** 32;
      const lo = ((l2table % 2 ** 32) | 1 | (2 << 9)) >>> 0;
      m.mem.write64(l2table + l2index * 8, lo, (Math.floor(l2table / 2 ** 32) | 0x6000_0000) >>> 0);
    },
    // Device events every nanosecond while the ranges are mapped; one rewrites BASE's
    // level-3 entry (a stray write into the table).
    "events between pages": (kit) => {
      tables(kit);
      const { m } = kit;
      const l3 = domOf(kit).pt_root + (Math.floor(BASE / 2 ** 30) % 512) * 8;
      for (let t = 1; t < 400; t++) {
        m.clock.after(t, () => {
          if (t === 7) m.mem.write64(l3, 0x2000_0003 | (2 << 9), 0x6000_0000);
        });
      }
    },
  };
  for (const [name, prepare] of Object.entries(cases)) {
    const [a, b] = twoKits(prepare);
    for (const [iova, pages] of ranges) {
      const mapped = iommu_map_pages(a.k.amd, domOf(a), iova, 0x2000_0000, pages, true, false);
      let n = 0;
      for (; n < pages; n++) {
        const phys = 0x2000_0000 + n * PAGE_SIZE;
        if (!iommu_map_page(b.k.amd, domOf(b), iova + n * PAGE_SIZE, phys, true, false)) break;
      }
      assert.equal(mapped, n, `${name}: map ${iova.toString(16)} x${pages}`);
      assert.equal(memoryOf(a), memoryOf(b), `${name}: map ${iova.toString(16)} x${pages}`);
    }
    for (const [iova, pages] of ranges) {
      iommu_unmap_pages(a.k.amd, domOf(a), iova + PAGE_SIZE, pages);
      for (let i = 0; i < pages; i++) {
        iommu_unmap_page(b.k.amd, domOf(b), iova + (i + 1) * PAGE_SIZE);
      }
      assert.equal(memoryOf(a), memoryOf(b), `${name}: unmap ${iova.toString(16)} x${pages}`);
    }
    assert.equal(a.m.clock.executed, b.m.clock.executed, name);
  }
});
