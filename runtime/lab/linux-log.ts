/**
 * Event-log entries as Linux 4.13/4.14 prints them (`iommu_print_event`, reference §6.1):
 * `IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070`.
 *
 * The operands are read through the event layouts; only the print format lives here.
 *
 * @module
 */
import type { Dwords } from "../hw/bits.ts";
import { EVENT_LAYOUTS, eventCode, eventFlags, eventName } from "../hw/layouts/event.ts";
import type { EventName } from "../hw/layouts/event.ts";
import { bdfText } from "../hw/memory.ts";

type Operand = "device" | "domain" | "address" | "flags";

/** Operands Linux 4.13/4.14 prints for each event, in print order; none for unknown events. */
const PRINTED: Readonly<Record<EventName, readonly Operand[] | undefined>> = {
  ILLEGAL_DEV_TABLE_ENTRY: ["device", "address", "flags"],
  IO_PAGE_FAULT: ["device", "domain", "address", "flags"],
  DEV_TAB_HARDWARE_ERROR: ["device", "address", "flags"],
  PAGE_TAB_HARDWARE_ERROR: ["device", "domain", "address", "flags"],
  ILLEGAL_COMMAND_ERROR: ["address"],
  COMMAND_HARDWARE_ERROR: ["address", "flags"],
  IOTLB_INV_TIMEOUT: ["device", "address"],
  INVALID_DEVICE_REQUEST: ["device", "address", "flags"],
  // 4.14 has no case for INVALID_PPR_REQUEST: it falls through to "UNKNOWN type=0x09".
  INVALID_PPR_REQUEST: undefined,
};

const hex = (v: bigint | number, digits: number) => "0x" + v.toString(16).padStart(digits, "0");

/**
 * The text Linux 4.13/4.14 prints inside `AMD-Vi: Event logged [` … `]` for the event-log
 * entry in `w` (four dwords), e.g.
 * `IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070`.
 */
export function linuxEventText(w: Dwords): string {
  const code = eventCode(w);
  const name = eventName(code);
  const operands = name && PRINTED[name];
  if (!name || !operands) return `UNKNOWN type=${hex(code, 2)}`;
  const layout = EVENT_LAYOUTS[name];
  const parts: string[] = [name];
  for (const op of operands) {
    if (op === "device") parts.push(`device=${bdfText(layout.value(w, "DeviceID"))}`);
    if (op === "domain") parts.push(`domain=${hex(layout.value(w, "DomainID"), 4)}`);
    if (op === "address") parts.push(`address=${hex(layout.field("Address").big(w), 16)}`);
    if (op === "flags") parts.push(`flags=${hex(eventFlags(w), 4)}`);
  }
  return parts.join(" ");
}
