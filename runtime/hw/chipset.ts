/**
 * The chipset's interrupt plumbing the boot-time timer check depends on: the I/O APIC and
 * the HPET, with the HPET's legacy-replacement timer 0 wired to ISA IRQ 0, which the
 * firmware's interrupt source override puts on I/O APIC pin 2.
 *
 * @module
 */
import type { EventClock } from "./clock.ts";
import { Hpet } from "./hpet.ts";
import { IoApic, type IoApicConfig } from "./ioapic.ts";
import type { BusDevice } from "./machine.ts";
import type { PhysMem } from "./memory.ts";

/** The I/O APIC pin ISA IRQ 0 (the timer) arrives on (MADT interrupt source override). */
export const TIMER_PIN = 2;

/** Chipset configuration. */
export interface ChipsetConfig {
  ioapic: IoApicConfig;
  /** Physical base of the HPET's registers (default 0xfed00000). */
  hpetBase?: number;
}

/** The chipset's I/O APIC and HPET. */
export class Chipset {
  readonly ioapic: IoApic;
  readonly hpet: Hpet;

  constructor(
    cfg: ChipsetConfig,
    clock: EventClock,
    mem: PhysMem,
    addDevice: (d: BusDevice) => void,
  ) {
    this.ioapic = new IoApic(cfg.ioapic);
    addDevice(this.ioapic);
    this.hpet = new Hpet(clock, mem, cfg.hpetBase);
    this.hpet.irq0 = () => this.ioapic.assertPin(TIMER_PIN);
  }
}
