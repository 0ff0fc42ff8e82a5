/**
 * The IOMMU interrupt: amd_iommu_int_thread polls the event log (and the PPR log) of every
 * IOMMU and prints each event in the 4.13 formats (iommu_print_event,
 * amd_iommu_report_page_fault): IO_PAGE_FAULT through the device's dev_err with a
 * per-device ratelimit, else a ratelimited pr_err; every other type as two records,
 * "AMD-Vi: Event logged [" then the details at the default loglevel (a printk without
 * KERN_CONT starts a new record since 4.9; the reference leaves this unconfirmed).
 *
 * @module
 */
import { type Dwords, hex } from "../../hw/bits.ts";
import {
  EVENT_LAYOUTS,
  eventCode,
  eventFlags,
  type EventName,
  eventName,
  PPR_ENTRY,
  PPR_FLAGS,
} from "../../hw/layouts/event.ts";
import { MMIO, STATUS } from "../../hw/layouts/mmio.ts";
import { bdfText } from "../../hw/memory.ts";
import { COST } from "../cost.ts";
import { build_complete_ppr } from "./cmd.ts";
import { DTE } from "../../hw/layouts/dte.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { readDteWords } from "./domain.ts";
import { type AmdIommuDev, BUFFER, LOOP_TIMEOUT } from "./types.ts";
import type { PprFault } from "./v2.ts";
import { dwords } from "../../hw/dwords.ts";

/** Status bits amd_iommu_int_thread acknowledges and handles. */
const EVT_INT = STATUS.encode({ EventLogInt: 1 })[0];
const PPR_INT = STATUS.encode({ PprInt: 1 })[0];

type Operand = "device" | "domain" | "address" | "flags";

/** Operands iommu_print_event prints for each event, in print order; none for unknown events. */
const PRINTED: Readonly<Record<EventName, readonly Operand[] | undefined>> = {
  ILLEGAL_DEV_TABLE_ENTRY: ["device", "address", "flags"],
  IO_PAGE_FAULT: ["device", "domain", "address", "flags"],
  DEV_TAB_HARDWARE_ERROR: ["device", "address", "flags"],
  PAGE_TAB_HARDWARE_ERROR: ["device", "domain", "address", "flags"],
  ILLEGAL_COMMAND_ERROR: ["address"],
  COMMAND_HARDWARE_ERROR: ["address", "flags"],
  IOTLB_INV_TIMEOUT: ["device", "address"],
  INVALID_DEVICE_REQUEST: ["device", "address", "flags"],
  // 4.13/4.14 have no case for INVALID_PPR_REQUEST: it falls through to "UNKNOWN type=0x09".
  INVALID_PPR_REQUEST: undefined,
};

/**
 * The text 4.13/4.14 print for the event-log entry `w` (four dwords) inside
 * `AMD-Vi: Event logged [` … `]`, e.g.
 * `IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070`.
 * `device: false` leaves out `device=`, as amd_iommu_report_page_fault's dev_err does.
 */
export function eventText(w: Dwords, o: { device?: boolean } = {}): string {
  const code = eventCode(w);
  const name = eventName(code);
  const operands = name && PRINTED[name];
  if (!name || !operands) return `UNKNOWN type=${hex(code, 2)}`;
  const layout = EVENT_LAYOUTS[name];
  const parts: string[] = [name];
  for (const op of operands) {
    if (op === "device" && o.device !== false) {
      parts.push(`device=${bdfText(layout.value(w, "DeviceID"))}`);
    }
    if (op === "domain") parts.push(`domain=${hex(layout.value(w, "DomainID"), 4)}`);
    if (op === "address") parts.push(`address=${hex(layout.field("Address").big(w), 16)}`);
    if (op === "flags") parts.push(`flags=${hex(eventFlags(w), 4)}`);
  }
  return parts.join(" ");
}

/** One event as the handler read it. */
export interface PrintedEvent {
  /** The event's type name (`IO_PAGE_FAULT`, ...), or `UNKNOWN(code)`. */
  name: string;
  /** Its DeviceID operand (0 when the event has none). */
  devid: number;
  /** Its DomainID operand (0 when the event has none). */
  domid: number;
  /** Its address operand (0 when the event has none). */
  address: number;
  /** The 12-bit flags Linux prints (q0 59:48). */
  flags: number;
  /** Whether the kernel printed it (false: ratelimited, or an empty entry). */
  printed: boolean;
}

/** Event and PPR log handling of the AMD driver. */
export class EventHandler {
  /** Events read from the logs (printed or ratelimited). */
  readonly seen: PrintedEvent[] = [];
  /** IO_PAGE_FAULT events the handler printed. */
  faultsPrinted = 0;
  /**
   * The PPR notifier (amd_iommu_v2's, registered at its module init): a PRI status to answer
   * with, or undefined for no answer.
   */
  ppr_notifier?: (f: PprFault) => number | undefined;
  /** The handler thread is woken (IRQTF_RUNTHREAD) and has not started yet. */
  private threadScheduled = false;
  /** The handler thread is running; an interrupt meanwhile makes it run once more. */
  private threadRunning = false;
  private threadAgain = false;

  /** The log handling of the driver `d`. */
  constructor(private readonly d: AmdIommuDriver) {}

  /**
   * The IOMMU's MSI: wake the threaded handler. The thread never runs inside itself (its
   * completion waits spend CPU time, during which the next interrupt arrives): an interrupt
   * while it runs makes it loop once more when it is done, as irq_thread does.
   */
  interrupt(_iommu: AmdIommuDev): void {
    if (this.threadRunning) {
      this.threadAgain = true;
      return;
    }
    if (this.threadScheduled) return;
    this.threadScheduled = true;
    this.d.k.schedule(5_000, () => {
      this.threadScheduled = false;
      this.threadRunning = true;
      try {
        do {
          this.threadAgain = false;
          this.amd_iommu_int_thread();
        } while (this.threadAgain);
      } finally {
        this.threadRunning = false;
      }
    }, "amd_iommu_int_thread");
  }

  /** amd_iommu_int_thread(): for every IOMMU, clear the status bits and poll the logs. */
  amd_iommu_int_thread(): void {
    const k = this.d.k;
    for (const iommu of this.d.iommus) {
      for (let round = 0; round < 8; round++) {
        const status = k.readl(iommu.mmio_base + MMIO.STATUS);
        const mask = EVT_INT | PPR_INT;
        if (!(status & mask)) break;
        k.writel(mask, iommu.mmio_base + MMIO.STATUS);
        if (status & EVT_INT) this.iommu_poll_events(iommu);
        if (status & PPR_INT) this.iommu_poll_ppr_log(iommu);
      }
    }
  }

  /** iommu_poll_events(). */
  iommu_poll_events(iommu: AmdIommuDev): void {
    const k = this.d.k;
    let head = k.readl(iommu.mmio_base + MMIO.EVT_HEAD);
    const tail = k.readl(iommu.mmio_base + MMIO.EVT_TAIL);
    while (head !== tail) {
      this.iommu_print_event(iommu, iommu.evt_buf + head);
      head = (head + 16) % BUFFER.EVT;
    }
    k.writel(head, iommu.mmio_base + MMIO.EVT_HEAD);
  }

  /** iommu_print_event(): decode, print, zero the entry. */
  private iommu_print_event(_iommu: AmdIommuDev, at: number): void {
    const k = this.d.k;
    const w = dwords(4);
    // "No event written to event log" erratum: the type may lag the interrupt; retry.
    let tries = 0;
    for (;;) {
      k.mem.readDwords(at, 4, w);
      if (eventCode(w) !== 0 || tries >= LOOP_TIMEOUT) break;
      tries++;
      k.udelay(1);
    }
    k.spend(COST.irq);
    const code = eventCode(w);
    const name = eventName(code);
    const layout = name && EVENT_LAYOUTS[name];
    const operand = (f: string) => layout && layout.has(f) ? layout.value(w, f) : 0;
    const devid = operand("DeviceID");
    const address = operand("Address");
    const rec: PrintedEvent = {
      name: name ?? `UNKNOWN(${code})`,
      devid,
      domid: operand("DomainID"),
      address,
      flags: eventFlags(w),
      printed: true,
    };
    if (code === 0) {
      k.pr_err("AMD-Vi: No event written to event log");
      rec.printed = false;
    } else if (name === "IO_PAGE_FAULT") {
      rec.printed = this.amd_iommu_report_page_fault(devid, w);
    } else {
      k.pr_err("AMD-Vi: Event logged [");
      k.printk("warn", `${eventText(w)}]`);
      if (name === "ILLEGAL_DEV_TABLE_ENTRY") this.dump_dte_entry(devid);
      if (name === "ILLEGAL_COMMAND_ERROR") this.dump_command(address);
    }
    this.seen.push(rec);
    k.mem.writeDwords(at, [0, 0, 0, 0]);
  }

  /**
   * amd_iommu_report_page_fault(): dev_err on the device when it exists, has dev_data and
   * its per-device ratelimit allows; otherwise pr_err if printk_ratelimit allows.
   */
  private amd_iommu_report_page_fault(devid: number, w: Dwords): boolean {
    const k = this.d.k;
    const pdev = k.pciDev(devid);
    const devData = pdev ? this.d.dev_data.get(devid) : undefined;
    if (pdev && devData && devData.rs.allow(k.now())) {
      k.dev_err(pdev, `AMD-Vi: Event logged [${eventText(w, { device: false })}]`);
      this.faultsPrinted++;
      return true;
    }
    if (k.dmesg.ratelimit()) {
      k.pr_err(`AMD-Vi: Event logged [${eventText(w)}]`);
      this.faultsPrinted++;
      return true;
    }
    return false;
  }

  /** dump_dte_entry(): the CURRENT in-memory DTE, four lines. */
  private dump_dte_entry(devid: number): void {
    const w = readDteWords(this.d, devid);
    const q = DTE.qwords(w);
    for (let i = 0; i < 4; i++) this.d.k.pr_err(`AMD-Vi: DTE[${i}]: ${q[i]}`);
  }

  /** dump_command(): the command at the faulting address, four dwords. */
  private dump_command(address: number): void {
    const w = dwords(4);
    this.d.k.mem.readDwords(address, 4, w);
    for (let i = 0; i < 4; i++) {
      this.d.k.pr_err(`AMD-Vi: CMD[${i}]: ${w[i].toString(16).padStart(8, "0")}`);
    }
  }

  /**
   * iommu_poll_ppr_log(): hands each request to the PPR notifier (amd_iommu_v2). With no
   * listener — amd_iommu_v2 not loaded — the request is consumed and never answered.
   */
  iommu_poll_ppr_log(iommu: AmdIommuDev): void {
    const k = this.d.k;
    if (iommu.ppr_log === undefined) return;
    let head = k.readl(iommu.mmio_base + MMIO.PPR_HEAD);
    const tail = k.readl(iommu.mmio_base + MMIO.PPR_TAIL);
    while (head !== tail) {
      const w = dwords(4);
      k.mem.readDwords(iommu.ppr_log + head, 4, w);
      const devid = PPR_ENTRY.get(w, "DeviceID");
      const pasid = PPR_ENTRY.get(w, "PASID") + PPR_ENTRY.get(w, "PASIDHi") * 0x1_0000;
      // Linux's PPR_TAG() reads 9 of the 10 tag bits.
      const tag = PPR_ENTRY.get(w, "Tag") & 0x1ff;
      const address = PPR_ENTRY.get(w, "Address");
      const write = (PPR_ENTRY.get(w, "Flags") & PPR_FLAGS.WRITE) !== 0;
      const status = this.ppr_notifier?.({ devid, pasid, address, write });
      if (status !== undefined) {
        this.d.queue(iommu, build_complete_ppr(devid, pasid, status, tag));
        this.d.completion_wait(iommu);
      }
      k.mem.writeDwords(iommu.ppr_log + head, [0, 0, 0, 0]);
      head = (head + 16) % BUFFER.PPR;
    }
    k.writel(head, iommu.mmio_base + MMIO.PPR_HEAD);
  }
}
