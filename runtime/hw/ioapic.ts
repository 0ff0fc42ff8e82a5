/**
 * The I/O APIC of the chipset (the FCH's, on AMD): 24 input pins, each with a redirection
 * table entry (runtime/hw/layouts/ioapic.ts) saying what interrupt message an edge on the pin
 * sends. Software reaches the registers indirectly: it writes a register index to IOREGSEL,
 * then reads or writes IOWIN.
 *
 * The I/O APIC is not a PCI function, but its interrupt messages carry a DeviceID — the one
 * the IVRS names for it in a special-device entry (00:14.0 for the FCH's) — and go through
 * the IOMMU's interrupt remapping like any device's MSI. It knows nothing of kernels.
 *
 * @module
 */
import type { BusDevice, BusPort } from "./machine.ts";
import { MSI_WINDOW } from "./msi.ts";
import type { MmioHandler, PhysMem } from "./memory.ts";
import { IOAPIC_MMIO, IOAPIC_REG, IOAPIC_RTE } from "./layouts/ioapic.ts";

/** Configuration of one I/O APIC. */
export interface IoApicConfig {
  /** Its APIC ID (IOAPICID). */
  apicId: number;
  /** The DeviceID its messages carry (IVRS special device). */
  devid: number;
  /** Physical base of the register window (0xfec00000 for the first). */
  mmioBase: number;
}

/** Input pins (redirection entries). */
export const IOAPIC_PINS = 24;
/** IOAPICVER's version field (0x21, as AMD's FCH reports it). */
const VERSION = 0x21;

/** One I/O APIC. */
export class IoApic implements BusDevice, MmioHandler {
  readonly devid: number;
  readonly name: string;
  private bus!: BusPort;
  private sel = 0;
  /** Redirection entries, two dwords per pin. */
  readonly rte: Uint32Array<ArrayBuffer> = new Uint32Array(IOAPIC_PINS * 2);
  /** Messages sent, and edges on masked pins (lost: edge-triggered). */
  readonly stats = { messages: 0, maskedEdges: 0 };

  constructor(readonly cfg: IoApicConfig) {
    this.devid = cfg.devid;
    this.name = `ioapic@${cfg.apicId}`;
    this.reset();
  }

  /** Maps the register window. */
  attach(bus: BusPort, mem: PhysMem): void {
    this.bus = bus;
    mem.mapMmio(this.cfg.mmioBase, IOAPIC_MMIO.SIZE, `IOAPIC ${this.cfg.apicId}`, this);
  }

  /** Power-on / reset: every pin masked. */
  reset(): void {
    this.rte.fill(0);
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      this.rte[pin * 2] = IOAPIC_RTE.encode({ Mask: 1 })[0];
    }
    this.sel = 0;
  }

  read32(offset: number): number {
    if (offset === IOAPIC_MMIO.IOREGSEL) return this.sel;
    if (offset !== IOAPIC_MMIO.IOWIN) return 0xffff_ffff;
    const r = this.sel;
    if (r === IOAPIC_REG.ID) return ((this.cfg.apicId & 0xff) << 24) >>> 0;
    if (r === IOAPIC_REG.VER) return VERSION | ((IOAPIC_PINS - 1) << 16);
    const i = r - IOAPIC_REG.REDTBL;
    return i >= 0 && i < this.rte.length ? this.rte[i] : 0;
  }

  write32(offset: number, value: number): void {
    if (offset === IOAPIC_MMIO.IOREGSEL) {
      this.sel = value & 0xff;
      return;
    }
    if (offset !== IOAPIC_MMIO.IOWIN) return;
    const i = this.sel - IOAPIC_REG.REDTBL;
    if (i >= 0 && i < this.rte.length) this.rte[i] = value >>> 0;
  }

  /**
   * An edge on `pin`: unless the entry is masked, the message it describes goes out —
   * address 0xFEE00000 | Destination << 12 | DestMode << 2, data Vector | DeliveryMode << 8 |
   * Trigger << 15 — through the IOMMU like any MSI of DeviceID `devid`.
   */
  assertPin(pin: number): void {
    const w = this.rte.subarray(pin * 2, pin * 2 + 2);
    if (IOAPIC_RTE.get(w, "Mask")) {
      this.stats.maskedEdges++;
      return;
    }
    const address = MSI_WINDOW.base + IOAPIC_RTE.get(w, "Destination") * 0x1000 +
      IOAPIC_RTE.get(w, "DestMode") * 4;
    const data = IOAPIC_RTE.get(w, "Vector") | (IOAPIC_RTE.get(w, "DeliveryMode") << 8) |
      (IOAPIC_RTE.get(w, "Trigger") << 15);
    this.stats.messages++;
    this.bus.msi(this.devid, address, data);
  }
}
