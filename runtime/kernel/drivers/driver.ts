/**
 * The device-driver interface of the kernel model.
 *
 * @module
 */
import type { Kernel } from "../kernel.ts";
import type { PciDev } from "../pci.ts";

/** A device driver bound to one kernel. */
export interface Driver {
  /** Driver name as dev_err prints it ("bnx2", "nvme", ...). */
  readonly name: string;
  /** Whether the driver handles this device. */
  matches(dev: PciDev): boolean;
  /** probe(): returns false if the device could not be brought up. */
  probe(dev: PciDev): boolean;
  /** Brings an interface up (the first kernel's userspace does this; kdump usually not). */
  open?(dev: PciDev): boolean;
  /** The ->shutdown method device_shutdown() calls on an orderly reboot or kexec. */
  shutdown?(dev: PciDev): void;
}

/** Creates a driver for a kernel. */
export type DriverFactory = (k: Kernel) => Driver;
