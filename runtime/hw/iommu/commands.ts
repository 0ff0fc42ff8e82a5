/**
 * The IOMMU's command processor: it reads 16-byte commands from the command buffer in memory
 * between Head and Tail, one every `commandNs`, executes them (cache invalidations,
 * COMPLETION_WAIT stores and interrupts, PPR completions) and advances Head. An illegal
 * command or an unreadable buffer stops it (Status.CmdBufRun reads 0) until software
 * re-enables the buffer. It runs only while CmdBufEn && IommuEn.
 *
 * @module
 */
import type { Dwords } from "../bits.ts";
import { PRIO } from "../clock.ts";
import {
  COMMAND_BYTES,
  COMMAND_LAYOUTS,
  type CommandName,
  commandName,
  commandOpcode,
  decodeRange,
} from "../layouts/command.ts";
import { CONTROL, MMIO } from "../layouts/mmio.ts";
import { dwords } from "../dwords.ts";
import { type RingPointers, ringState } from "./eventlog.ts";
import type { AmdIommu } from "./iommu.ts";

const IOMMU_EN = CONTROL.field("IommuEn");
const CMD_BUF_EN = CONTROL.field("CmdBufEn");

const CMD_RING: RingPointers = {
  base: MMIO.CMD_BUF,
  head: MMIO.CMD_HEAD,
  tail: MMIO.CMD_TAIL,
  lenField: "ComLen",
};

/** The command processor of one IOMMU. */
export class CommandProcessor {
  /** Set by an illegal command or an unreadable buffer; cleared by re-enabling. */
  stopped = false;
  private scheduled = false;
  private readonly ctl: number;
  private readonly processNext = () => this.processOne();

  constructor(private readonly u: AmdIommu) {
    this.ctl = u.regs.dwordOffset(MMIO.CONTROL);
  }

  /**
   * True while the processor runs (Status.CmdBufRun): CmdBufEn && IommuEn and not stopped by
   * an illegal command or an unreadable buffer.
   */
  get running(): boolean {
    const w = this.u.regs.words;
    return CMD_BUF_EN.get(w, this.ctl) === 1 && IOMMU_EN.get(w, this.ctl) === 1 && !this.stopped;
  }

  /** Schedules the next command if the processor runs and none is scheduled. */
  kick(): void {
    if (this.scheduled || !this.running) return;
    this.scheduled = true;
    const u = this.u;
    u.clock.after(u.cfg.commandNs ?? 200, this.processNext, `iommu${u.cfg.index}:cmd`, PRIO.HW);
  }

  private processOne(): void {
    this.scheduled = false;
    if (!this.running) return;
    const u = this.u;
    const { base, size, head, tail } = ringState(u.regs, CMD_RING);
    if (head === tail) return;
    const addr = base + head;
    // Each command gets words of its own: observers may keep them (commands are few).
    const w = dwords(4);
    if (!u.mem.isRam(addr, COMMAND_BYTES)) {
      u.logEvent("COMMAND_HARDWARE_ERROR", { Type: 1, Address: addr });
      for (const o of u.observers) o.command?.("UNKNOWN", w, addr, "read failed");
      this.stopped = true;
      return;
    }
    u.mem.readDwords(addr, 4, w);
    const name = commandName(commandOpcode(w));
    u.counters.commands++;
    if (!name || COMMAND_LAYOUTS[name].reservedBitsSet(w)) {
      u.logEvent("ILLEGAL_COMMAND_ERROR", { Address: addr });
      for (const o of u.observers) o.command?.(name ?? "UNKNOWN", w, addr, "illegal");
      this.stopped = true; // the processor stops; CmdBufRun reads 0 until re-enabled
      return;
    }
    const result = this.execute(name, w, addr);
    for (const o of u.observers) o.command?.(name, w, addr, result);
    if (result === "stopped") {
      this.stopped = true;
      return;
    }
    u.regs.setField(MMIO.CMD_HEAD, "Ptr", ((head + COMMAND_BYTES) % size) / 16);
    this.kick();
  }

  private execute(name: CommandName, w: Dwords, addr: number): string {
    const u = this.u;
    const L = COMMAND_LAYOUTS[name];
    switch (name) {
      case "COMPLETION_WAIT": {
        if (L.get(w, "S")) {
          const at = L.get(w, "StoreAddress") * 8;
          // Under SEV-SNP the store must fall inside the completion store range (the
          // re-purposed exclusion base/limit, §2.12.2.2/3 as the 2024 report quotes it). What
          // the hardware does with one outside is not in our sources: the model drops the
          // store and completes the command (no event), so software waits in vain.
          if (u.snpEnforced && !u.inCompletionStoreRange(at)) {
            return "ok (store outside the completion store range: dropped)";
          }
          if (!u.mem.isRam(at, 8)) {
            u.logEvent("COMMAND_HARDWARE_ERROR", { Type: 1, Address: at });
            return "stopped";
          }
          u.mem.write32(at, w[2]);
          u.mem.write32(at + 4, w[3]);
        }
        if (L.get(w, "I")) {
          u.regs.setField(MMIO.STATUS, "ComWaitInt", 1);
          if (u.control("ComWaitIntEn")) u.irq("comwait");
        }
        return "ok";
      }
      case "INVALIDATE_DEVTAB_ENTRY":
        u.dteCache.invalidate(L.get(w, "DeviceID"));
        return "ok";
      case "INVALIDATE_IOMMU_PAGES": {
        const [first, size] = decodeRange(w[2], w[3], L.get(w, "S"));
        const n = u.iotlb.invalidateRange(L.get(w, "DomainID"), first, size);
        return `ok (${n} entries)`;
      }
      case "INVALIDATE_IOTLB_PAGES":
        return "ok (no remote IOTLBs modelled)";
      case "INVALIDATE_INTERRUPT_TABLE":
        return "ok"; // no IRTE cache: the table is re-read on every interrupt
      case "PREFETCH_IOMMU_PAGES":
        return "ok (ignored)";
      case "COMPLETE_PPR_REQUEST":
        u.pprResponse(
          L.get(w, "DeviceID"),
          L.get(w, "PASID"),
          L.get(w, "CompletionTag"),
          L.get(w, "Status"),
        );
        return "ok";
      case "INVALIDATE_IOMMU_ALL":
        if (!u.feature("IASup")) {
          u.logEvent("ILLEGAL_COMMAND_ERROR", { Address: addr });
          return "stopped";
        }
        u.dteCache.clear();
        u.iotlb.clear();
        return "ok";
    }
  }
}
