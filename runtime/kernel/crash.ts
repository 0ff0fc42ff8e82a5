/**
 * The two ways out of a running kernel (arch/x86/kernel/crash.c, reboot.c):
 *
 * - a panic: crash_kexec → native_machine_crash_shutdown stops the CPUs and disables the
 *   IO-APIC/LAPIC, but does NOT shut the IOMMU down — translation stays on and devices
 *   keep their DMA going — then jumps to the crash kernel;
 * - a plain kexec reboot: device_shutdown() runs every driver's ->shutdown (a NIC driver
 *   closes its interface and resets the chip), then native_machine_shutdown calls
 *   x86_platform.iommu_shutdown (disable_iommus, installed by the AMD driver once its
 *   IOMMUs are enabled) before jumping.
 *
 * @module
 */
import { disable_IO_APIC } from "./io_apic.ts";
import type { Kernel } from "./kernel.ts";

/** panic() → crash_kexec(): what the first kernel does when it dies. */
export function crash_kexec(k: Kernel, reason: string): void {
  k.printk("emerg", `Kernel panic - not syncing: ${reason}`);
  disable_IO_APIC(k);
  k.hooks.runAll("kernel.machine_crash_shutdown", { k });
  k.pr_info("kexec: Starting crash kernel");
  k.stop();
}

/**
 * kernel_kexec() for a plain reboot into a new kernel. `iommuShutdown` = false models a
 * path that leaves translation on (e.g. a kernel without the shutdown hook, or firmware).
 */
export function kernel_kexec(k: Kernel, iommuShutdown: boolean): void {
  // kernel_restart_prepare() → device_shutdown(): every bound driver's ->shutdown.
  for (const dev of [...k.pci].reverse()) dev.driver?.shutdown?.(dev);
  k.pr_info("kexec_core: Starting new kernel");
  disable_IO_APIC(k);
  // native_machine_shutdown(): x86_platform.iommu_shutdown, if a driver installed it.
  if (iommuShutdown) k.x86_platform.iommu_shutdown?.();
  k.stop();
}
