/**
 * The lab's recorder: subscribes to the machine's bus and IOMMU observers and keeps what a
 * report needs — event counts, suppressed faults, stray DMA writes (a write that landed on
 * a page that is not a DMA buffer of the writing device, and whose owner it was), which
 * pages changed after the panic and by whom, and a timeline.
 *
 * @module
 */
import { hex, joinQword } from "../hw/bits.ts";
import { EVENT_LAYOUTS, EVENT_NAMES, type EventName } from "../hw/layouts/event.ts";
import { REGISTERS } from "../hw/layouts/mmio.ts";
import type { DmaRecord, Machine } from "../hw/machine.ts";
import { bdfText, ownerText, PAGE_SIZE } from "../hw/memory.ts";
import type { FaultClass, StrayWrite, TimelineEntry } from "./report.ts";

/** Which kernel was running. */
export type Phase = "kernel1" | "between" | "kernel2";

const CAP = { stray: 200, faults: 200, events: 300, mmio: 400, commands: 100 } as const;
const TRACED_REGS = new Set([0x0000, 0x0008, 0x0010, 0x0018, 0x0038, 0x00e0]);
const REG_NAME = new Map(REGISTERS.map((r) => [r.offset, r.name]));

/** How the pages written after the panic were written. */
export interface PostPanicWrites {
  /** true while every write to the page came from the device owning it as a DMA buffer. */
  legit: boolean;
  writers: Set<number>;
}

/** Records one run. */
export class Recorder {
  phase: Phase = "kernel1";
  readonly events = Object.fromEntries(EVENT_NAMES.map((n) => [n, 0])) as Record<EventName, number>;
  eventsDropped = 0;
  faultsSuppressed = 0;
  readonly strays: StrayWrite[] = [];
  strayCount = 0;
  readonly afterPanic: Map<number, PostPanicWrites> = new Map();
  readonly timeline: TimelineEntry[] = [];
  private readonly caps = { stray: 0, faults: 0, events: 0, mmio: 0, commands: 0 };
  readonly stats = {
    dmaWrites: 0,
    dmaReads: 0,
    dmaAborts: 0,
    masterAborts: 0,
    msis: 0,
    msisBlocked: 0,
  };

  constructor(private readonly m: Machine) {
    m.observers.push({
      dma: (r) => this.dma(r),
      msi: (r) => {
        this.stats.msis++;
        if (r.outcome.kind === "blocked") this.stats.msisBlocked++;
      },
    });
    for (const u of m.iommus) {
      u.observers.push({
        event: (name, words, result) => {
          if (result === "written") this.events[name]++;
          else this.eventsDropped++;
          if (this.caps.events++ < CAP.events) {
            const layout = EVENT_LAYOUTS[name];
            const dev = layout.has("DeviceID")
              ? bdfText(layout.value(words, "DeviceID"))
              : undefined;
            const addr = joinQword(words[2], words[3]);
            this.push(
              "event",
              `${name} ${result}${dev ? ` device=${dev}` : ""} address=${hex(addr)}`,
              dev,
            );
          }
        },
        suppressed: () => {
          this.faultsSuppressed++;
        },
        mmioWrite: (offset, value) => {
          const base = offset & ~7;
          if (!TRACED_REGS.has(base) || this.caps.mmio++ >= CAP.mmio) return;
          this.push(
            "mmio",
            `IOMMU ${u.cfg.index} ${REG_NAME.get(base)}${offset & 4 ? "[63:32]" : "[31:0]"} <= ${
              hex(value)
            }`,
          );
        },
        command: (name, _w, _addr, result) => {
          if (name !== "INVALIDATE_IOMMU_ALL" && result === "ok") return;
          if (this.caps.commands++ < CAP.commands) {
            this.push("command", `IOMMU ${u.cfg.index} ${name}: ${result}`);
          }
        },
      });
    }
  }

  /** Appends a timeline entry at the current time. */
  push(kind: TimelineEntry["kind"], text: string, device?: string, fault?: FaultClass): void {
    this.timeline.push({
      t: this.m.clock.now,
      kind,
      kernel: this.phase,
      text,
      ...(device ? { device } : {}),
      ...(fault ? { fault } : {}),
    });
  }

  private dma(r: DmaRecord): void {
    if (r.write) this.stats.dmaWrites++;
    else this.stats.dmaReads++;
    if (r.outcome.kind === "abort") {
      this.stats.dmaAborts++;
      if (this.caps.faults++ < CAP.faults) {
        const o = r.outcome;
        const fault: FaultClass = o.logged
          ? "logged"
          : o.suppressedBy
          ? "suppressed"
          : o.event
          ? "unlogged"
          : "other";
        const ev = fault === "logged"
          ? `; ${o.event} logged`
          : fault === "suppressed"
          ? `; ${o.event} suppressed by ${o.suppressedBy}`
          : fault === "unlogged"
          ? `; ${o.event} not logged`
          : "";
        this.push(
          "dma-fault",
          `${r.write ? "write" : "read"} ${hex(r.iova)} aborted: ${o.why}${ev}`,
          bdfText(r.devid),
          fault,
        );
      }
      return;
    }
    if (r.masterAbort) {
      this.stats.masterAborts++;
      if (this.caps.faults++ < CAP.faults) {
        this.push(
          "dma-fault",
          `${r.write ? "write" : "read"} ${hex(r.iova)} → ${
            hex(r.outcome.spa)
          }: master abort (no RAM)`,
          bdfText(r.devid),
          "master-abort",
        );
      }
      return;
    }
    if (!r.write) return;
    const spa = r.outcome.spa;
    const owner = this.m.mem.ownerOf(spa);
    // A write is legitimate on a DMA buffer mapped for the writing device — or wherever a
    // PASID (shared virtual memory) translation leads into the running kernel's memory: the
    // bound process's pages. After the panic the first kernel's process is gone; a process
    // the kdump kernel binds lives in the kdump kernel's memory.
    const pasidOk = r.pasid !== undefined && r.outcome.kind === "translated" &&
      (this.phase === "kernel1" || owner.who === "kernel2");
    const legit = (owner.dev === r.devid && (owner.who === "kernel1" || owner.who === "kernel2")) ||
      pasidOk;
    if (this.phase !== "kernel1") {
      const pfn = Math.floor(spa / PAGE_SIZE);
      const w = this.afterPanic.get(pfn);
      if (w) {
        w.legit &&= legit;
        w.writers.add(r.devid);
      } else this.afterPanic.set(pfn, { legit, writers: new Set([r.devid]) });
    }
    if (legit) return;
    this.strayCount++;
    const keep = this.strays.length < CAP.stray, trace = this.caps.stray++ < CAP.stray;
    if (!keep && !trace) return; // counted only: format nothing
    const dev = bdfText(r.devid);
    const how = r.outcome.kind === "translated" ? "translated" : r.outcome.why;
    if (keep) {
      this.strays.push({
        device: dev,
        address: hex(spa),
        iova: hex(r.iova),
        owner: ownerText(owner),
        time: r.t,
        kernel: this.phase,
        how,
      });
    }
    if (trace) {
      this.push(
        "stray",
        `write ${hex(r.iova)} → ${hex(spa)} (${how}) hit ${ownerText(owner)}`,
        dev,
      );
    }
  }
}
