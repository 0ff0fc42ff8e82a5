/**
 * copy_device_table() of the copy-dev-tables patch, on the kernel test kit's machine with
 * every DeviceID covered: each page of the old table with a bit set is shown to the entries
 * hook, then each old entry with a bit set to the entry hook, and copied (a hook's change to
 * the copy is what lands); all-zero ones are left alone, and an abort leaves the copy as far
 * as the entry before. The table is read and written a page at a time; these tests pin down
 * that this is the entry-by-entry copy the patch describes.
 */
import assert from "node:assert/strict";
import { DTE, DTE_BYTES } from "../../runtime/hw/layouts/dte.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import { crash_kexec } from "../../runtime/kernel/crash.ts";
import type { Kernel } from "../../runtime/kernel/kernel.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { definePlugin, HookRunner, type Plugin, type PluginCtx } from "../../runtime/plugin/mod.ts";
import type { CopyEntriesCtx, CopyEntryCtx } from "../../plugins/series/copy-dev-tables.ts";
import { KIT, makeKernel, makeMachine } from "../kernel/kit.ts";

/** A crashed first kernel's table (IVHD 0..last) and a crash kernel with the series + `extra`. */
function crashKernel(extra: Plugin[], last = 0x7ff, viewed = false) {
  const km = makeMachine({ devices: [{ first: 0, last }], highRam: false });
  const k1 = makeKernel(km);
  start_kernel(k1);
  crash_kexec(k1, "test");
  const hooks = new HookRunner([...seriesFromSpec("all").resolve().plugins, ...extra], {
    viewed: (p) => viewed && extra.includes(p),
  });
  const k2 = makeKernel(km, {
    id: "kernel2",
    cmdline: "irqpoll reset_devices elfcorehdr=0x37ff0000",
    memory: [{ ...KIT.RESERVE }],
    hooks,
  });
  k2.amd.go_to_state("IOMMU_ACPI_FINISHED");
  const copy = () => hooks.symbol<() => boolean>("copy_device_table", k2)();
  const table = () => hooks.symbol<() => number>("old_dev_tbl_cpy", k2)();
  return { k1, k2, copy, table };
}

const dte = (k: Kernel, base: number, devid: number) => {
  const w = new Uint32Array(8);
  k.mem.readDwords(base + devid * DTE_BYTES, 8, w);
  return w;
};

Deno.test("copy_device_table: every entry with a bit set is shown to the hook, in order, and copied as the hook left it", () => {
  const shown: number[] = [];
  const marker = definePlugin({
    id: "test-marker",
    title: "test: mark DeviceID 0x123's copy",
    hooks: {
      "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
        shown.push(ctx.devid);
        if (ctx.devid === 0x123) DTE.set(ctx.copy, "DomainID", 0x77);
      },
    },
  });
  const { k1, k2, copy, table } = crashKernel([marker]);
  // The 4.13 first kernel set V and TV on every DeviceID: all 2048 are shown, in order.
  assert.equal(copy(), true);
  assert.deepEqual(shown, Array.from({ length: 0x800 }, (_, i) => i));
  const old = k1.amd.dev_table, now = table();
  for (const devid of [0, 0x100, 0x7ff]) {
    assert.deepEqual(dte(k2, now, devid), dte(k2, old, devid), `DTE ${devid} copied`);
  }
  assert.equal(DTE.get(dte(k2, now, 0x123), "DomainID"), 0x77, "the hook's change landed");
  assert.equal(DTE.get(dte(k2, old, 0x123), "DomainID"), 0, "the old entry is untouched");
});

Deno.test("copy_device_table: all-zero old entries are skipped; an abort leaves the copy up to the entry before", () => {
  const shown: number[] = [];
  const stopper = definePlugin({
    id: "test-stopper",
    title: "test: abort at DeviceID 0x205",
    hooks: {
      "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
        shown.push(ctx.devid);
        DTE.set(ctx.copy, "DomainID", 0x55);
        if (ctx.devid === 0x205) ctx.abort();
      },
    },
  });
  const { k1, k2, copy, table } = crashKernel([stopper]);
  const old = k1.amd.dev_table;
  // Clear some old entries: they are neither shown nor written.
  for (const devid of [3, 4, 0x150]) k2.mem.zero(old + devid * DTE_BYTES, DTE_BYTES);
  assert.equal(copy(), false);
  assert.deepEqual(shown.slice(0, 4), [0, 1, 2, 5]);
  assert.ok(!shown.includes(0x150));
  assert.equal(shown.at(-1), 0x205);
  const now = table();
  assert.equal(DTE.get(dte(k2, now, 0x204), "DomainID"), 0x55, "the entry before the abort");
  assert.deepEqual([...dte(k2, now, 0x205)], new Array(8).fill(0), "the aborting entry is not");
  assert.deepEqual([...dte(k2, now, 3)], new Array(8).fill(0), "a zero entry stays zero");
  assert.deepEqual([...dte(k2, now, 0x206)], new Array(8).fill(0), "nor anything after");
});

Deno.test("copy_device_table: the entries hook sees each page whole, before the entry hook sees its entries; both changes land", () => {
  const seen: string[] = [];
  const pages = definePlugin({
    id: "test-pages",
    title: "test: mark every page's entry 5, record the pages",
    hooks: {
      "amd_iommu.copy_device_table.entries": (ctx: CopyEntriesCtx & PluginCtx) => {
        seen.push(`page ${ctx.first}+${ctx.count}`);
        DTE.set(ctx.copy, "DomainID", 0x66, 5 * 8);
      },
      "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
        if (ctx.devid % 128 === 5) {
          seen.push(`entry ${ctx.devid}: ${DTE.get(ctx.copy, "DomainID")}`);
          DTE.set(ctx.copy, "IntTabLen", 3);
        }
      },
    },
  });
  // last_bdf 0x7ff: 16 pages of 128 entries; 0x800 + 0x10 would end with a page of 17.
  const { k1, k2, copy, table } = crashKernel([pages], 0x810);
  assert.equal(copy(), true);
  const expected: string[] = [];
  for (let first = 0; first <= 0x810; first += 128) {
    expected.push(`page ${first}+${Math.min(128, 0x811 - first)}`, `entry ${first + 5}: 102`);
  }
  assert.deepEqual(seen, expected);
  const old = k1.amd.dev_table, now = table();
  for (const devid of [5, 0x805]) {
    assert.equal(DTE.get(dte(k2, now, devid), "DomainID"), 0x66, `entries hook, DTE ${devid}`);
    assert.equal(DTE.get(dte(k2, now, devid), "IntTabLen"), 3, `entry hook, DTE ${devid}`);
    assert.equal(DTE.get(dte(k2, old, devid), "DomainID"), 0, "the old entry is untouched");
  }
  assert.deepEqual(dte(k2, now, 6), dte(k2, old, 6), "the entries beside it are verbatim");
});

Deno.test("copy_device_table: abort(devid) from the entries hook copies the entries before it only; the entry hook sees up to it", () => {
  for (const at of [0x80, 0x1c7, 0x7ff]) {
    const shown: number[] = [];
    const stopper = definePlugin({
      id: "test-page-stopper",
      title: "test: mark every copy, abort at one DeviceID",
      hooks: {
        "amd_iommu.copy_device_table.entries": (ctx: CopyEntriesCtx & PluginCtx) => {
          for (let e = 0; e < ctx.count; e++) DTE.set(ctx.copy, "DomainID", 0x55, e * 8);
          if (at >= ctx.first && at < ctx.first + ctx.count) ctx.abort(at);
        },
        "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
          shown.push(ctx.devid);
        },
      },
    });
    const { k2, copy, table } = crashKernel([stopper]);
    assert.equal(copy(), false, `abort at ${at}`);
    assert.deepEqual(
      shown,
      Array.from({ length: at + 1 }, (_, i) => i),
      "up to the aborting entry",
    );
    const now = table();
    assert.equal(DTE.get(dte(k2, now, at - 1), "DomainID"), 0x55, "the entry before is copied");
    assert.deepEqual([...dte(k2, now, at)], new Array(8).fill(0), `${at} is not copied`);
    if (at < 0x7ff) {
      assert.deepEqual([...dte(k2, now, at + 1)], new Array(8).fill(0), "nor the next");
    }
  }
});

Deno.test("copy_device_table: a user's plugin (seen through the kernel view) reads each entry afresh and its change lands", () => {
  const olds: number[] = [];
  const user = definePlugin({
    id: "test-user",
    title: "test: a user's entry handler",
    hooks: {
      "amd_iommu.copy_device_table.entry": (ctx: CopyEntryCtx & PluginCtx) => {
        olds.push(DTE.get(ctx.old, "V") + DTE.get(ctx.old, "TV"));
        if (ctx.devid === 0x42) DTE.set(ctx.copy, "DomainID", 0x99);
      },
    },
  });
  const { k2, copy, table } = crashKernel([user], 0xff, true);
  assert.equal(copy(), true);
  assert.deepEqual(olds, new Array(0x100).fill(2), "V and TV set in every old entry");
  assert.equal(DTE.get(dte(k2, table(), 0x42), "DomainID"), 0x99);
  assert.equal(DTE.get(dte(k2, table(), 0x43), "DomainID"), 0);
});
