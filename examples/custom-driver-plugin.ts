/**
 * A custom driver plugin: instead of bnx2's kdump wait at probe ("stop the DMA engines, then
 * poll until no transaction is pending"), soft-reset the NIC there — and see what that does
 * on the default scenario.
 *
 *   deno run -A examples/custom-driver-plugin.ts
 */
import { run, SCENARIOS, seriesFromSpec } from "../mod.ts";
import { definePlugin } from "../plugin.ts";
import { NIC_CTRL, NIC_REG } from "../hw.ts";

const softReset = definePlugin({
  id: "bnx2-soft-reset",
  title: "bnx2: soft-reset the chip at probe in a kdump kernel",
  hooks: {
    // Replaces the wait (next() is not called).
    "bnx2.bnx2_init_one.wait_dma": ({ k, dev }) => {
      if (!k.is_kdump_kernel()) return;
      k.writel(NIC_CTRL.SOFT_RESET, dev.bar + NIC_REG.CTRL);
      k.udelay(15);
      k.dev_info(dev, "soft reset at probe (kdump)");
    },
  },
});

const series = seriesFromSpec("all").insert(softReset);
const r = run(SCENARIOS.default, { series });
console.log(`series:   ${r.series.join(", ")}`);
console.log(`verdict:  ${r.verdict}`);
console.log(`faults:   ${r.events.IO_PAGE_FAULT} IO_PAGE_FAULT logged, ${r.faultsPrinted} printed`);
console.log(`stray:    ${r.strayWriteCount} stray DMA writes`);
for (const l of r.dmesg.filter((l) => l.kernel === "kernel2" && l.text.includes("soft reset"))) {
  console.log(`dmesg:    ${l.text}`);
}
