/**
 * Replacing a patch: a copy_device_table that trusts the old table wherever it is (no
 * above-4G refusal: that lives in dev-table-below-4g, which this run leaves out) and copies
 * only valid entries. On the `old-table-above-4g` scenario the series' own patches refuse the
 * copy; this variant copies it.
 *
 *   deno run -A examples/replace-patch.ts
 */
import { run, SCENARIOS, seriesFromSpec } from "../mod.ts";
import { definePlugin, getOrder, GFP } from "../plugin.ts";
import { DTE, MMIO } from "../hw.ts";

const myCopy = definePlugin<{ copy?: number }>({
  id: "copy-dev-tables",
  title: "copy_device_table: trust the old table, copy valid entries only",
  requires: ["detect-pre-enabled"],
  state: () => ({}),
  provides: {
    old_dev_tbl_cpy: ({ state }) => () => state.copy,
    copy_device_table: ({ k, state, symbol }) => () => {
      if (!symbol<() => boolean>("amd_iommu_pre_enabled")()) return false;
      k.pr_warn("Translation is already enabled - trying to copy translation structures");
      const iommu = k.amd.iommus[0];
      const entry = k.readq(iommu.mmio_base + MMIO.DEV_TABLE);
      const old = entry - entry % 4096; // less the Size field
      state.copy = k.alloc.allocPages(
        GFP.KERNEL | GFP.ZERO,
        getOrder(k.amd.dev_table_size),
        "old_dev_tbl_cpy",
      );
      if (state.copy === undefined) return false;
      const w = new Uint32Array(8);
      for (let devid = 0; devid <= k.amd.last_bdf; devid++) {
        k.mem.readDwords(old + devid * 32, 8, w);
        if (!DTE.get(w, "V")) continue;
        k.mem.writeDwords(state.copy + devid * 32, w);
        const domid = DTE.get(w, "DomainID");
        if (domid) k.amd.pd_alloc_bitmap[domid] = 1;
      }
      return true;
    },
  },
});

for (const label of ["the series", "with my copy_device_table"]) {
  const series = seriesFromSpec("all");
  if (label !== "the series") {
    series.replace("copy-dev-tables", myCopy);
    for (const id of ["sanity-check-old-dte", "dev-table-below-4g", "drop-gcr3-root"]) {
      series.disable(id);
    }
  }
  const r = run(SCENARIOS["old-table-above-4g"], { series });
  const lines = r.dmesg.filter((l) =>
    l.kernel === "kernel2" && /Copied|Failed|above 4G/.test(l.text)
  );
  console.log(`${label}: ${r.verdict}, ${r.strayWriteCount} stray writes`);
  for (const l of lines) console.log(`  ${l.text}`);
}
