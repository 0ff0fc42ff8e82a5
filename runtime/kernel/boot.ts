/**
 * start_kernel(), reduced to the stages that matter here: early boot, the interrupt
 * remapping setup that brings the AMD IOMMU up early (amd_iommu_prepare →
 * early_amd_iommu_init, amd_iommu_enable → early_enable_iommus), PCI enumeration, the
 * rootfs initcall that finishes IOMMU init (amd_iommu_init_pci: groups, default domains,
 * attach), and the driver probes. Times are those of a 2017 server booting, compressed
 * where nothing of interest happens.
 *
 * @module
 */
import { ns } from "../hw/clock.ts";
import { pciIdText } from "../hw/pci/device.ts";
import type { Kernel } from "./kernel.ts";
import { mp_register_ioapic, setup_IO_APIC } from "./io_apic.ts";

/** Stage marks a boot reports (kernel-relative ns). */
export interface BootMarks {
  iommuPrepared?: number;
  iommuEnabled?: number;
  iommuInitialized?: number;
  driversProbed?: number;
}

/** Boots `k` up to and including driver probes. */
export function start_kernel(k: Kernel, onStage: (stage: string) => void = () => {}): BootMarks {
  const marks: BootMarks = {};
  k.pr_info(
    `Linux version ${k.cfg.version ?? "4.13.0"} (kdump-lab) (gcc version 7.2.1 (GCC)) #1 SMP`,
  );
  k.pr_info(`Command line: ${k.cmdline}`);
  if (k.is_kdump_kernel()) k.pr_info("Reserving ELF core header (elfcorehdr)");
  (k.cfg.madt?.ioapics ?? []).forEach((io, i) => mp_register_ioapic(k, io, i));
  onStage("early");
  k.spend(30 * ns.ms);
  // enable_IR_x2apic() → irq_remapping_prepare() / irq_remapping_enable().
  if (k.ivrs.ivhds.length && k.params.get("intremap") !== "off") {
    onStage("iommu-prepare");
    k.amd.go_to_state("IOMMU_ACPI_FINISHED");
    marks.iommuPrepared = k.now();
    k.spend(1 * ns.ms);
    onStage("iommu-enable");
    k.amd.go_to_state("IOMMU_ENABLED");
    marks.iommuEnabled = k.now();
  }
  // apic_bsp_setup() → setup_IO_APIC(): the timer's route, and check_timer().
  onStage("io-apic");
  setup_IO_APIC(k);
  k.spend(250 * ns.ms);
  onStage("pci");
  for (const d of k.pci) {
    const cls = d.id.classCode.toString(16).padStart(6, "0");
    k.pr_info(`pci ${d.name}: [${pciIdText(d.id)}] type 00 class 0x${cls}`);
  }
  k.spend(150 * ns.ms);
  // rootfs_initcall(pci_iommu_init) → amd_iommu_init().
  if (k.ivrs.ivhds.length) {
    onStage("iommu-init");
    k.amd.go_to_state("IOMMU_INITIALIZED");
    marks.iommuInitialized = k.now();
  }
  k.spend(100 * ns.ms);
  onStage("drivers");
  for (const dev of k.pci) {
    const drv = k.drivers.find((d) => d.matches(dev));
    if (drv) drv.probe(dev);
  }
  marks.driversProbed = k.now();
  return marks;
}
