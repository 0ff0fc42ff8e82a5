/**
 * Event-log entries as Linux 4.13/4.14 prints them (`iommu_print_event`, reference §6.1):
 * `IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070`.
 *
 * The kernel model's formatter (runtime/kernel/amd_iommu/events.ts) is the one used here.
 *
 * @module
 */
import type { Dwords } from "../hw/bits.ts";
import { eventText } from "../kernel/amd_iommu/events.ts";

/**
 * The text Linux 4.13/4.14 prints inside `AMD-Vi: Event logged [` … `]` for the event-log
 * entry in `w` (four dwords), e.g.
 * `IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070`.
 */
export function linuxEventText(w: Dwords): string {
  return eventText(w);
}
