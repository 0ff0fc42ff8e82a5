/**
 * The I/O APIC and the boot-time timer check (arch/x86/kernel/apic/io_apic.c, hpet.c),
 * reduced to the timer's route: ISA IRQ 0, which the HPET's legacy-replacement timer raises
 * on I/O APIC pin 2.
 *
 * setup_IO_APIC() allocates IRQ 0 on the I/O APIC: with interrupt remapping the AMD driver
 * gives the I/O APIC's DeviceID a remapping table (its first 32 entries kept for pins),
 * writes IRTE[pin] with the vector, and the redirection entry gets the IRTE index where the
 * vector goes; without remapping the entry holds the vector itself. check_timer() then lets
 * the timer tick and, if jiffies did not move, gives up: with interrupt remapping enabled
 * that is `panic("timer doesn't work through Interrupt-remapped IO-APIC")`. Nothing here
 * checks why — a timer message the IOMMU does not remap (translation off) reaches the CPU
 * with the IRTE index as its vector, which is no vector at all.
 *
 * Once the check passed the model stops the HPET tick (Linux moves on to the local APIC
 * timer, which is not modelled) so the rest of the run does not simulate a 1 kHz tick.
 *
 * @module
 */
import { IOAPIC_MMIO, IOAPIC_REG, IOAPIC_RTE } from "../hw/layouts/ioapic.ts";
import { HPET_CFG, HPET_REG } from "../hw/hpet.ts";
import { ns } from "../hw/clock.ts";
import type { Kernel } from "./kernel.ts";

/** ISA_IRQ_VECTOR(0): the timer's vector. */
export const IRQ0_VECTOR = 0x30;
/** The pin ISA IRQ 0 is on (the MADT's interrupt source override: IRQ 0 → GSI 2). */
const TIMER_PIN = 2;
/** HZ of the model's kernels (a distribution kernel's CONFIG_HZ=1000). */
const HZ = 1000;

/** An I/O APIC as the MADT describes it. */
export interface MadtIoApic {
  /** Its I/O APIC ID. */
  apicId: number;
  /** Physical base of its register window (IOREGSEL, IOWIN). */
  mmioBase: number;
  /** The global system interrupt its pin 0 serves (GSI base). */
  gsiBase: number;
}

function ioapicRead(k: Kernel, base: number, reg: number): number {
  k.writel(reg, base + IOAPIC_MMIO.IOREGSEL);
  return k.readl(base + IOAPIC_MMIO.IOWIN);
}

function ioapicWrite(k: Kernel, base: number, reg: number, value: number): void {
  k.writel(reg, base + IOAPIC_MMIO.IOREGSEL);
  k.writel(value, base + IOAPIC_MMIO.IOWIN);
}

/** Writes pin `pin`'s redirection entry (high half first, as ioapic_write_entry does). */
function ioapic_write_entry(k: Kernel, base: number, pin: number, e: Uint32Array): void {
  ioapicWrite(k, base, IOAPIC_REG.REDTBL + pin * 2 + 1, e[1]);
  ioapicWrite(k, base, IOAPIC_REG.REDTBL + pin * 2, e[0]);
}

/** mp_register_ioapic(): reads the I/O APIC's ID and version and says what it found. */
export function mp_register_ioapic(k: Kernel, io: MadtIoApic, index: number): void {
  const id = ioapicRead(k, io.mmioBase, IOAPIC_REG.ID) >>> 24;
  const ver = ioapicRead(k, io.mmioBase, IOAPIC_REG.VER);
  const last = io.gsiBase + ((ver >>> 16) & 0xff);
  k.pr_info(
    `IOAPIC[${index}]: apic_id ${io.apicId}, version ${ver & 0xff}, address 0x${
      io.mmioBase.toString(16)
    }, GSI ${io.gsiBase}-${last}`,
  );
  if (id !== io.apicId) k.pr_warn(`IOAPIC[${index}]: apic_id ${io.apicId}, hardware says ${id}`);
}

/**
 * setup_IO_APIC() for the timer's pin, then check_timer(). Panics (unwinding to whoever
 * booted the kernel) if the timer does not tick.
 */
export function setup_IO_APIC(k: Kernel): void {
  const io = k.cfg.madt?.ioapics[0];
  if (!io) return;
  k.request_isa_irq(0, () => k.jiffies++);
  // mp_irqdomain_alloc → irq_remapping_alloc (AMD) or the plain entry.
  const remapped = k.amd.irq.ioapicEntry(io.apicId, TIMER_PIN, IRQ0_VECTOR);
  if (remapped === "enomem") return k.panic("IO-APIC: cannot allocate the timer's IRQ");
  // Destination: the CPU this kernel runs on (APIC ID 0, the BSP, unless a kdump kernel runs
  // on the CPU that panicked); with AMD remapping the IRTE holds it.
  const e = IOAPIC_RTE.encode({
    Vector: remapped ?? IRQ0_VECTOR,
    Destination: k.cfg.cpu ?? 0,
    Mask: 1,
  });
  ioapic_write_entry(k, io.mmioBase, TIMER_PIN, e);
  check_timer(k, io, e);
}

/** timer_irq_works(): jiffies must move by more than 4 in 10 ticks' worth of mdelay. */
function timer_irq_works(k: Kernel): boolean {
  const t1 = k.jiffies;
  k.spend((10 * 1000 / HZ) * ns.ms); // mdelay((10 * 1000) / HZ)
  return k.jiffies - t1 > 4;
}

/** check_timer(): unmask the timer's pin, start the tick, see that it arrives. */
function check_timer(k: Kernel, io: MadtIoApic, e: Uint32Array): void {
  k.pr_info(
    `..TIMER: vector=0x${IRQ0_VECTOR.toString(16)} apic1=0 pin1=${TIMER_PIN} apic2=-1 pin2=-1`,
  );
  const hpet = k.cfg.hpet?.mmioBase;
  if (hpet !== undefined) hpet_legacy_periodic(k, hpet, true);
  IOAPIC_RTE.set(e, "Mask", 0);
  ioapic_write_entry(k, io.mmioBase, TIMER_PIN, e);
  const works = timer_irq_works(k);
  if (hpet !== undefined) hpet_legacy_periodic(k, hpet, false);
  if (works) return;
  IOAPIC_RTE.set(e, "Mask", 1);
  ioapic_write_entry(k, io.mmioBase, TIMER_PIN, e);
  // panic_if_irq_remap(); the fallbacks of a machine without remapping (virtual wire,
  // ExtINT through the PIC) are not modelled: they end in the same panic with no timer.
  if (k.amd.irq_remap) k.panic("timer doesn't work through Interrupt-remapped IO-APIC");
  k.panic(
    "IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option.",
  );
}

/** Starts (or stops) the HPET's timer 0 as a periodic HZ tick in legacy replacement mode. */
function hpet_legacy_periodic(k: Kernel, base: number, on: boolean): void {
  if (!on) {
    k.writel(0, base + HPET_REG.CONFIG);
    return;
  }
  const periodFs = k.readl(base + HPET_REG.CAPS_HI); // COUNTER_CLK_PERIOD
  const ticks = Math.round(1e15 / HZ / periodFs);
  k.writel(HPET_CFG.T_INT_ENB | HPET_CFG.T_PERIODIC, base + HPET_REG.T0_CONFIG);
  k.writel(ticks, base + HPET_REG.T0_COMPARATOR);
  k.writel(HPET_CFG.ENABLE | HPET_CFG.LEG_RT, base + HPET_REG.CONFIG);
}

/** disable_IO_APIC() on the crash and kexec paths: every pin masked. */
export function disable_IO_APIC(k: Kernel): void {
  for (const io of k.cfg.madt?.ioapics ?? []) {
    const pins = ((ioapicRead(k, io.mmioBase, IOAPIC_REG.VER) >>> 16) & 0xff) + 1;
    const masked = IOAPIC_RTE.encode({ Mask: 1 });
    for (let pin = 0; pin < pins; pin++) ioapic_write_entry(k, io.mmioBase, pin, masked);
  }
}
