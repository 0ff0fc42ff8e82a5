/**
 * Interrupt remapping for device MSIs (amd_iommu.c, CONFIG_IRQ_REMAP): a 256-entry table
 * per DeviceID (alloc_irq_table + set_dte_irq_entry), IRTE allocation and writes
 * (modify_irte, then INVALIDATE_INTERRUPT_TABLE and a completion wait), and the MSI
 * address/data a device is programmed with.
 *
 * @module
 */
import { DTE, INTCTL } from "../../hw/layouts/dte.ts";
import { IRTE, IRTE_GA } from "../../hw/layouts/irte.ts";
import { MSI_WINDOW } from "../../hw/machine.ts";
import { GFP } from "../alloc.ts";
import { build_inv_dte, build_inv_irt } from "./cmd.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { readDteWords, writeDteQword } from "./domain.ts";
import { IRQ_TABLE } from "./types.ts";

/** IRTEs an I/O APIC's table keeps for its pins ("Keep the first 32 indexes free for IOAPIC"). */
const IOAPIC_RESERVED = 32;

/** An IRQ remapping table (struct irq_remap_table). */
export interface IrqRemapTable {
  /** Physical address of the table (one page). */
  addr: number;
  /** Which entries (IRTE indexes) are allocated. */
  used: boolean[];
}

/** The MSI a device gets programmed with. */
export interface MsiMessage {
  /** The MSI address the device writes to (in the 0xfee00000 window). */
  address: number;
  /** The MSI data: the IRTE index when interrupts are remapped, else the vector. */
  data: number;
  /** The CPU vector the interrupt is to arrive with. */
  vector: number;
}

/** Interrupt remapping state of the AMD driver. */
export class IrqRemap {
  /** irq_lookup_table. */
  readonly tables: Map<number, IrqRemapTable> = new Map();

  /** IntTabLen this kernel writes (DTE_IRQ_TABLE_LEN). */
  readonly tableLen: number;

  /** The remapping state of the driver `d` (no tables yet). */
  constructor(private readonly d: AmdIommuDriver) {
    this.tableLen = d.k.cfg.irqTableLen ?? IRQ_TABLE.LEN;
  }

  /** Whether `devid`'s IRTEs are 128-bit (its IOMMU runs in GA mode, remapping on). */
  private ga(devid: number): boolean {
    const iommu = this.d.rlookup.get(devid);
    return !!iommu && iommu.features.ga && this.d.irq_remap;
  }

  /**
   * alloc_irq_table(): allocates the table and points the DTE at it. An I/O APIC's table keeps
   * its first 32 entries for the I/O APIC's pins.
   */
  alloc_irq_table(devid: number, ioapic = false): IrqRemapTable | undefined {
    const have = this.tables.get(devid);
    if (have) return have;
    const iommu = this.d.rlookup.get(devid);
    if (!iommu) return undefined;
    const addr = this.d.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "irq-remap-table", devid);
    if (addr === undefined) return undefined;
    const t: IrqRemapTable = { addr, used: new Array(2 ** this.tableLen).fill(false) };
    if (ioapic) t.used.fill(true, 0, IOAPIC_RESERVED);
    this.tables.set(devid, t);
    this.set_dte_irq_entry(devid, t);
    this.d.queue(iommu, build_inv_dte(devid));
    this.d.completion_wait(iommu);
    return t;
  }

  /** set_dte_irq_entry(): q2 = root | IntCtl=2 | IntTabLen=8 | IV, OR-ed into the old word. */
  set_dte_irq_entry(devid: number, t: IrqRemapTable): void {
    const w = readDteWords(this.d, devid);
    DTE.set(w, "InterruptTableRootPtr", this.d.k.__sme_set(t.addr) / 64);
    DTE.set(w, "IntCtl", DTE.get(w, "IntCtl") | INTCTL.REMAP);
    DTE.set(w, "IntTabLen", DTE.get(w, "IntTabLen") | this.tableLen);
    DTE.set(w, "IV", 1);
    writeDteQword(this.d, devid, 2, w[4], w[5]);
  }

  /**
   * Sets up one MSI for `devid` delivering `vector`: with remapping, an IRTE in the
   * device's table and MSI data = its index; without, MSI data = the vector.
   */
  setupMsi(devid: number, vector: number): MsiMessage | undefined {
    if (!this.d.irq_remap || !this.d.check_device(devid)) {
      return { address: MSI_WINDOW.base + (this.d.k.cfg.cpu ?? 0) * 4096, data: vector, vector };
    }
    const t = this.alloc_irq_table(devid);
    if (!t) return undefined;
    const index = t.used.indexOf(false);
    if (index < 0) return undefined;
    t.used[index] = true;
    this.modify_irte(devid, t, index, vector);
    return { address: MSI_WINDOW.base, data: index, vector };
  }

  /**
   * irq_remapping_alloc() for an I/O APIC pin: the I/O APIC's DeviceID (its IVRS special-device
   * entry) gets a table, the pin's IRTE — index = pin — is written with `vector`. Returns the
   * index the redirection entry carries in place of the vector; undefined when interrupts are
   * not remapped (the entry carries the vector); "enomem" when no table could be had.
   */
  ioapicEntry(apicId: number, pin: number, vector: number): number | undefined | "enomem" {
    if (!this.d.irq_remap) return undefined;
    const devid = this.d.k.ivrs.ioapics?.find((x) => x.apicId === apicId)?.devid;
    if (devid === undefined) return "enomem";
    const t = this.alloc_irq_table(devid, true);
    if (!t) return "enomem";
    this.modify_irte(devid, t, pin, vector);
    return pin;
  }

  /** modify_irte(): writes the IRTE, INVALIDATE_INTERRUPT_TABLE, completion wait. */
  private modify_irte(devid: number, t: IrqRemapTable, index: number, vector: number): void {
    const iommu = this.d.rlookup.get(devid)!;
    if (this.ga(devid)) {
      const e = IRTE_GA.encode({
        RemapEn: 1,
        IntType: 0,
        Vector: vector,
        Destination: this.d.k.cfg.cpu ?? 0,
      });
      this.d.k.mem.writeDwords(t.addr + index * 16, e);
    } else {
      const e = IRTE.encode({
        RemapEn: 1,
        IntType: 0,
        Vector: vector,
        Destination: this.d.k.cfg.cpu ?? 0,
      });
      this.d.k.mem.writeDwords(t.addr + index * 4, e);
    }
    this.d.queue(iommu, build_inv_irt(devid));
    this.d.completion_wait(iommu);
  }
}
