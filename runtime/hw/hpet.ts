/**
 * The HPET's timer 0 in legacy replacement mode: the periodic tick that, in place of the old
 * 8254 PIT, drives ISA IRQ 0 — wired, as on PC chipsets, to I/O APIC pin 2. Only what the
 * boot-time timer check needs is modelled: the general configuration (enable, legacy
 * replacement), timer 0's configuration (interrupt enable, periodic) and its comparator,
 * counted in ticks of the HPET clock. Registers are 64-bit; the model implements their low
 * halves.
 *
 * @module
 */
import type { EventClock, Scheduled } from "./clock.ts";
import type { MmioHandler, PhysMem } from "./memory.ts";

/** Register offsets (HPET specification 1.0a, §2.3). */
export const HPET_REG = {
  /** General Capabilities and ID: COUNTER_CLK_PERIOD (fs) in the high half. */
  CAPS: 0x000,
  CAPS_HI: 0x004,
  /** General Configuration: bit 0 ENABLE_CNF, bit 1 LEG_RT_CNF. */
  CONFIG: 0x010,
  /** Timer 0 Configuration: bit 2 Tn_INT_ENB_CNF, bit 3 Tn_TYPE_CNF (periodic). */
  T0_CONFIG: 0x100,
  /** Timer 0 Comparator (in periodic mode: the period, in counter ticks). */
  T0_COMPARATOR: 0x108,
} as const;

/** Configuration bits. */
export const HPET_CFG = { ENABLE: 1, LEG_RT: 2, T_INT_ENB: 4, T_PERIODIC: 8 } as const;

/** The counter's period: 69.841279 ns (a 14.31818 MHz clock, as AMD FCHs report it). */
export const HPET_PERIOD_FS = 69_841_279;

/** The HPET. */
export class Hpet implements MmioHandler {
  private readonly regs = new Map<number, number>();
  private tick?: Scheduled;
  /** Raised on each timer 0 interrupt in legacy replacement mode (ISA IRQ 0). */
  irq0: () => void = () => {};
  readonly stats = { ticks: 0 };

  constructor(
    private readonly clock: EventClock,
    mem: PhysMem,
    readonly mmioBase = 0xfed0_0000,
  ) {
    mem.mapMmio(mmioBase, 0x400, "HPET", this);
  }

  read32(offset: number): number {
    if (offset === HPET_REG.CAPS_HI) return HPET_PERIOD_FS;
    return this.regs.get(offset) ?? 0;
  }

  write32(offset: number, value: number): void {
    if (offset === HPET_REG.CAPS || offset === HPET_REG.CAPS_HI) return; // read-only
    this.regs.set(offset, value >>> 0);
    this.reprogram();
  }

  /** Stops everything (a reset of the chipset). */
  reset(): void {
    this.regs.clear();
    this.reprogram();
  }

  private reprogram(): void {
    this.clock.cancel(this.tick);
    this.tick = undefined;
    const cfg = this.regs.get(HPET_REG.CONFIG) ?? 0;
    const t0 = this.regs.get(HPET_REG.T0_CONFIG) ?? 0;
    const ticks = this.regs.get(HPET_REG.T0_COMPARATOR) ?? 0;
    const legacy = (cfg & (HPET_CFG.ENABLE | HPET_CFG.LEG_RT)) ===
      (HPET_CFG.ENABLE | HPET_CFG.LEG_RT);
    const periodic = (t0 & (HPET_CFG.T_INT_ENB | HPET_CFG.T_PERIODIC)) ===
      (HPET_CFG.T_INT_ENB | HPET_CFG.T_PERIODIC);
    if (!legacy || !periodic || ticks === 0) return;
    const periodNs = Math.max(1, Math.round(ticks * HPET_PERIOD_FS / 1e6));
    const fire = () => {
      this.stats.ticks++;
      this.tick = this.clock.after(periodNs, fire, "hpet:t0");
      this.irq0();
    };
    this.tick = this.clock.after(periodNs, fire, "hpet:t0");
  }
}
