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
import { eventFlags, eventName } from "../../hw/layouts/event.ts";
import { MMIO } from "../../hw/layouts/mmio.ts";
import { bdfText } from "../../hw/memory.ts";
import { COST } from "../cost.ts";
import { build_complete_ppr } from "./cmd.ts";
import { DTE } from "../../hw/layouts/dte.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { readDteWords } from "./domain.ts";
import { type AmdIommuDev, BUFFER } from "./types.ts";
import { dwords } from "../../hw/dwords.ts";

const hex = (v: number, pad: number) => "0x" + v.toString(16).padStart(pad, "0");
const hex64 = (lo: number, hi: number) =>
  "0x" + hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");

/** One event as the handler read it. */
export interface PrintedEvent {
  name: string;
  devid: number;
  domid: number;
  address: number;
  flags: number;
  printed: boolean;
}

/** Event and PPR log handling of the AMD driver. */
export class EventHandler {
  /** Events read from the logs (printed or ratelimited). */
  readonly seen: PrintedEvent[] = [];
  /** IO_PAGE_FAULT events the handler printed. */
  faultsPrinted = 0;
  /** PPR requests read, and how many got an answer. */
  readonly ppr = { read: 0, answered: 0 };
  /** PPR handler (amd_iommu_v2's notifier): returns a PRI status, or undefined = no listener. */
  pprHandler?: (
    devid: number,
    pasid: number,
    address: number,
    write: boolean,
  ) => number | undefined;
  private threadScheduled = false;

  constructor(private readonly d: AmdIommuDriver) {}

  /** The IOMMU's MSI: wake the threaded handler. */
  interrupt(_iommu: AmdIommuDev): void {
    if (this.threadScheduled) return;
    this.threadScheduled = true;
    this.d.k.schedule(5_000, () => {
      this.threadScheduled = false;
      this.amd_iommu_int_thread();
    }, "amd_iommu_int_thread");
  }

  /** amd_iommu_int_thread(): for every IOMMU, clear the status bits and poll the logs. */
  amd_iommu_int_thread(): void {
    const k = this.d.k;
    for (const iommu of this.d.iommus) {
      for (let round = 0; round < 8; round++) {
        const status = k.readl(iommu.mmio_base + MMIO.STATUS);
        const mask = 0x2 | 0x40; // EventLogInt | PprInt
        if (!(status & mask)) break;
        k.writel(mask, iommu.mmio_base + MMIO.STATUS);
        if (status & 0x2) this.iommu_poll_events(iommu);
        if (status & 0x40) this.iommu_poll_ppr_log(iommu);
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
      if ((w[1] >>> 28) !== 0 || tries >= 100_000) break;
      tries++;
      k.udelay(1);
    }
    k.spend(COST.irq);
    const code = w[1] >>> 28;
    const devid = w[0] & 0xffff;
    const domid = w[1] & 0xffff;
    const flags = eventFlags(w);
    const address = w[3] * 0x1_0000_0000 + w[2];
    const addr = hex64(w[2], w[3]);
    const dev = bdfText(devid);
    const name = eventName(code);
    const rec: PrintedEvent = {
      name: name ?? `UNKNOWN(${code})`,
      devid,
      domid,
      address,
      flags,
      printed: true,
    };
    if (code === 0) {
      k.pr_err("AMD-Vi: No event written to event log");
      rec.printed = false;
    } else if (name === "IO_PAGE_FAULT") {
      rec.printed = this.amd_iommu_report_page_fault(devid, domid, addr, flags);
    } else {
      k.pr_err("AMD-Vi: Event logged [");
      switch (name) {
        case "ILLEGAL_DEV_TABLE_ENTRY":
          k.printk(
            "warn",
            `ILLEGAL_DEV_TABLE_ENTRY device=${dev} address=${addr} flags=${hex(flags, 4)}]`,
          );
          this.dump_dte_entry(devid);
          break;
        case "DEV_TAB_HARDWARE_ERROR":
          k.printk(
            "warn",
            `DEV_TAB_HARDWARE_ERROR device=${dev} address=${addr} flags=${hex(flags, 4)}]`,
          );
          break;
        case "PAGE_TAB_HARDWARE_ERROR":
          k.printk(
            "warn",
            `PAGE_TAB_HARDWARE_ERROR device=${dev} domain=${hex(domid, 4)} address=${addr} flags=${
              hex(flags, 4)
            }]`,
          );
          break;
        case "ILLEGAL_COMMAND_ERROR":
          k.printk("warn", `ILLEGAL_COMMAND_ERROR address=${addr}]`);
          this.dump_command(address);
          break;
        case "COMMAND_HARDWARE_ERROR":
          k.printk("warn", `COMMAND_HARDWARE_ERROR address=${addr} flags=${hex(flags, 4)}]`);
          break;
        case "IOTLB_INV_TIMEOUT":
          k.printk("warn", `IOTLB_INV_TIMEOUT device=${dev} address=${addr}]`);
          break;
        case "INVALID_DEVICE_REQUEST":
          k.printk(
            "warn",
            `INVALID_DEVICE_REQUEST device=${dev} address=${addr} flags=${hex(flags, 4)}]`,
          );
          break;
        default:
          k.printk("warn", `UNKNOWN type=${hex(code, 2)}]`);
      }
    }
    this.seen.push(rec);
    k.mem.writeDwords(at, [0, 0, 0, 0]);
  }

  /**
   * amd_iommu_report_page_fault(): dev_err on the device when it exists, has dev_data and
   * its per-device ratelimit allows; otherwise pr_err if printk_ratelimit allows.
   */
  private amd_iommu_report_page_fault(
    devid: number,
    domid: number,
    addr: string,
    flags: number,
  ): boolean {
    const k = this.d.k;
    const pdev = k.pciDev(devid);
    const devData = pdev ? this.d.dev_data.get(devid) : undefined;
    if (pdev && devData && devData.rs.allow(k.now())) {
      k.dev_err(
        pdev,
        `AMD-Vi: Event logged [IO_PAGE_FAULT domain=${hex(domid, 4)} address=${addr} flags=${
          hex(flags, 4)
        }]`,
      );
      this.faultsPrinted++;
      return true;
    }
    if (k.dmesg.ratelimit()) {
      k.pr_err(
        `AMD-Vi: Event logged [IO_PAGE_FAULT device=${bdfText(devid)} domain=${
          hex(domid, 4)
        } address=${addr} flags=${hex(flags, 4)}]`,
      );
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
   * listener — no amd_iommu_v2 bound — the request is consumed and never answered.
   */
  iommu_poll_ppr_log(iommu: AmdIommuDev): void {
    const k = this.d.k;
    if (iommu.ppr_log === undefined) return;
    let head = k.readl(iommu.mmio_base + MMIO.PPR_HEAD);
    const tail = k.readl(iommu.mmio_base + MMIO.PPR_TAIL);
    while (head !== tail) {
      const w = dwords(4);
      k.mem.readDwords(iommu.ppr_log + head, 4, w);
      this.ppr.read++;
      const devid = w[0] & 0xffff;
      const pasid = (w[0] >>> 16) | (((w[1] >>> 10) & 0xf) << 16);
      const tag = w[1] & 0x1ff;
      const flags = (w[1] >>> 16) & 0xfff;
      const address = w[3] * 0x1_0000_0000 + w[2];
      const status = this.pprHandler?.(devid, pasid, address, (flags & 0x20) !== 0);
      if (status !== undefined) {
        this.d.queue(iommu, build_complete_ppr(devid, pasid, status, tag));
        this.d.completion_wait(iommu);
        this.ppr.answered++;
      }
      k.mem.writeDwords(iommu.ppr_log + head, [0, 0, 0, 0]);
      head = (head + 16) % BUFFER.PPR;
    }
    k.writel(head, iommu.mmio_base + MMIO.PPR_HEAD);
  }
}
