/**
 * `copy_device_table()` (the copy-dev-tables patch) of a full 65,536-entry device table:
 * the first kernel (4.13) covers every DeviceID, so init_device_table_dma() left V and TV
 * set in every entry and every old entry is copied: each of the 512 pages is shown to the
 * entries hook (tapped in the series by sanity-check-old-dte and drop-gcr3-root), each entry
 * to the entry hook (not tapped in the series). The crash kernel runs the whole series; each
 * iteration copies the table and frees the copy.
 */
import { crash_kexec } from "../../runtime/kernel/crash.ts";
import { start_kernel } from "../../runtime/kernel/boot.ts";
import { HookRunner } from "../../runtime/plugin/runner.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { KIT, makeKernel, makeMachine } from "../kernel/kit.ts";
import { figure, medianMs, ms } from "./measure.ts";

const km = makeMachine({ devices: [{ first: 0, last: 0xffff }], highRam: false });
const k1 = makeKernel(km);
start_kernel(k1);
crash_kexec(k1, "bench");
const hooks = new HookRunner(seriesFromSpec("all").resolve().plugins);
const k2 = makeKernel(km, {
  id: "kernel2",
  cmdline: "irqpoll reset_devices elfcorehdr=0x37ff0000",
  memory: [{ ...KIT.RESERVE }],
  hooks,
});
k2.amd.go_to_state("IOMMU_ACPI_FINISHED");
if (k2.amd.last_bdf !== 0xffff) throw new Error(`last_bdf ${k2.amd.last_bdf}`);

function copyOnce(): void {
  if (!hooks.symbol<() => boolean>("copy_device_table", k2)()) throw new Error("copy failed");
  k2.alloc.freePages(hooks.symbol<() => number>("old_dev_tbl_cpy", k2)());
}

figure("copy_device_table of 65,536 DTEs (median of 20)", ms(medianMs(copyOnce, 20)));

Deno.bench("copy_device_table: 65,536 DTEs, series hooks", { group: "copy" }, copyOnce);
