/**
 * The AMD IOMMU's structures and their decoders (`@kdump-lab/kdump-lab/hw`): every hardware
 * structure is declared once as data — name, 64-bit word, low bit, width — in a
 * {@link Layout}, and encoding, decoding, JSON and the `kdump-lab decode` views all derive
 * from that declaration.
 *
 * @example Read fields of a device table entry
 * ```ts
 * import { DTE, decodeDte } from "./hw.ts";
 *
 * const w = DTE.encode({ V: 1, TV: 1, Mode: 3, IR: 1, IW: 1, DomainID: 0x10 });
 * console.log(DTE.get(w, "Mode"), DTE.qwords(w)); // 3, [ "0000000000000603", … ]
 * console.log(decodeDte([0x6000003f9e2a0603n, 0x10n, 0x2000003f9d4b2011n, 0n]).json.IntTabLen);
 * ```
 *
 * @example Decode a line the kernel printed
 * ```ts
 * import { decodeEventLines } from "./hw.ts";
 *
 * const [fault] = decodeEventLines(
 *   "bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0003 " +
 *     "address=0x00000000fffba000 flags=0x0020]",
 * );
 * console.log(fault.raw, fault.json.DomainID); // [ "event[0]=0x00000100", … ] 3
 * ```
 *
 * @module
 */

// ---- the layout engine --------------------------------------------------------------------

export { f, hex, Layout, rsvd } from "./runtime/hw/bits.ts";
export type { CompositeSpec, Dwords, Field, FieldRow, FieldSpec } from "./runtime/hw/bits.ts";

// ---- structures ---------------------------------------------------------------------------

export { DTE, DTE_BYTES, INTCTL } from "./runtime/hw/layouts/dte.ts";
export type { DteField } from "./runtime/hw/layouts/dte.ts";
export { PDE, PTE } from "./runtime/hw/layouts/pte.ts";
export type { PdeField, PteField } from "./runtime/hw/layouts/pte.ts";
export { IRTE, IRTE_GA } from "./runtime/hw/layouts/irte.ts";
export type { IrteField, IrteGaField } from "./runtime/hw/layouts/irte.ts";
export { EVENT_BYTES, EVENT_CODES, EVENT_LAYOUTS, PPR_ENTRY } from "./runtime/hw/layouts/event.ts";
export type { EventName } from "./runtime/hw/layouts/event.ts";
export { CMD_OPCODES, COMMAND_BYTES, COMMAND_LAYOUTS } from "./runtime/hw/layouts/command.ts";
export type { CommandName } from "./runtime/hw/layouts/command.ts";
export { CONTROL, DEV_TAB_BASE, EFR, MMIO, REGISTERS, STATUS } from "./runtime/hw/layouts/mmio.ts";
export type { MmioOffsets, RegisterDef } from "./runtime/hw/layouts/mmio.ts";
export { NIC_CTRL, NIC_REG } from "./runtime/hw/pci/nic.ts";
/** `BB:DD.F` of a 16-bit DeviceID, the way dmesg prints it. */
export { bdfText } from "./runtime/hw/memory.ts";

// ---- decoders -----------------------------------------------------------------------------

export {
  decodeDte,
  decodeEvent,
  decodeEventLines,
  decodeIrte,
  decodeIrteGa,
  decodePte,
  decodeRegister,
  dteWordsFromText,
  registers,
} from "./runtime/lab/decode.ts";
export type { Decoded, DecodedRow, Note, RegisterInfo } from "./runtime/lab/decode.ts";
export { InputError } from "./runtime/lab/input.ts";
