/**
 * Decoders for values pasted from kernel logs: device table entries, event-log entries, I/O
 * page-table entries, IRTEs and MMIO registers.
 *
 * Every decoder is a pure function of its input that returns a {@link Decoded}: the rows and the
 * JSON view both come from the hardware layout declarations (`Layout.describe`/`toJSON`), so no
 * bit position is written down twice. Bad input raises {@link InputError}.
 *
 * @module
 */
import { type FieldRow, hex, type Layout } from "../hw/bits.ts";
import { DTE, DTE_BYTES } from "../hw/layouts/dte.ts";
import { EVENT_BYTES, EVENT_LAYOUTS, eventCode, eventName } from "../hw/layouts/event.ts";
import { COMMAND_BYTES } from "../hw/layouts/command.ts";
import { IRTE, IRTE_GA } from "../hw/layouts/irte.ts";
import { CONTROL, DEV_TAB_BASE, REGISTERS } from "../hw/layouts/mmio.ts";
import { PDE, PTE } from "../hw/layouts/pte.ts";
import { largePageSize } from "../hw/iommu/walk.ts";
import { bdfText, PAGE_SIZE } from "../hw/memory.ts";
import { InputError, parseHex, parseHexList, qwordsToDwords } from "./input.ts";
import { linuxEventText } from "./linux-log.ts";
import { eventsFromText, looksLikeEventLines } from "./event-lines.ts";

export { InputError } from "./input.ts";
export { dteWords, dteWordsFromText } from "./dmesg.ts";

/** A decoded field: the layout's row plus whether it is a reserved field with bits set. */
export interface DecodedRow extends FieldRow {
  /** True for a reserved field (only present in the rows when some of its bits are set). */
  reserved: boolean;
}

/** A derived fact printed under the fields, e.g. `page size: 2 MiB`. */
export interface Note {
  /** What the fact is, e.g. `page size`. */
  label: string;
  /** Its value as printed, e.g. `2 MiB`. */
  value: string;
}

/** The result of decoding one structure. */
export interface Decoded {
  /** Layout name, e.g. `DTE`, `PTE`, `IO_PAGE_FAULT`, `Control`. */
  structure: string;
  /** One-line human title. */
  title: string;
  /** The raw words as given, in the form the kernel prints them. */
  raw: string[];
  /** One row per visible field (`Layout.describe`), reserved fields with set bits flagged. */
  rows: DecodedRow[];
  /** The JSON view (`Layout.toJSON`): field names as keys. */
  json: Record<string, number | string>;
  /** Facts derived from the fields (sizes, counts, flag names). */
  notes: Note[];
  /** Events only: what Linux 4.13/4.14 prints inside `AMD-Vi: Event logged [` … `]`. */
  linux?: string;
}

/** Rows of `layout` for the structure in `w`, reserved fields marked. */
function rowsOf(layout: Layout, w: Uint32Array): DecodedRow[] {
  const reserved = new Set(layout.fields.filter((f) => f.reserved).map((f) => f.name));
  return layout.describe(w).map((r) => ({ ...r, reserved: reserved.has(r.name) }));
}

function result(
  layout: Layout,
  w: Uint32Array,
  title: string,
  raw: string[],
  notes: Note[] = [],
): Decoded {
  return {
    structure: layout.name,
    title,
    raw,
    rows: rowsOf(layout, w),
    json: layout.toJSON(w),
    notes,
  };
}

/** Rows whose reserved bits are set (empty when the structure is clean). */
export function reservedRows(d: Decoded): DecodedRow[] {
  return d.rows.filter((r) => r.reserved);
}

const SIZE_UNITS: readonly [string, bigint][] = [
  ["EiB", 1n << 60n],
  ["PiB", 1n << 50n],
  ["TiB", 1n << 40n],
  ["GiB", 1n << 30n],
  ["MiB", 1n << 20n],
  ["KiB", 1n << 10n],
];

/** A byte count in the largest binary unit that divides it exactly: `2 MiB`, `12 KiB`, `7 B`. */
export function formatSize(bytes: bigint | number): string {
  const b = BigInt(bytes);
  for (const [unit, size] of SIZE_UNITS) {
    if (b >= size && b % size === 0n) return `${b / size} ${unit}`;
  }
  return `${b} B`;
}

/**
 * Decodes a device table entry from its four 64-bit words (q0..q3).
 *
 * @throws {InputError} when not given exactly four words
 */
export function decodeDte(words: readonly bigint[]): Decoded {
  if (words.length !== 4) throw new InputError(`a DTE has 4 words, got ${words.length}`);
  const w = qwordsToDwords(words);
  const notes: Note[] = [];
  if (DTE.get(w, "IV") === 1) {
    const n = 2 ** DTE.get(w, "IntTabLen");
    notes.push({ label: "interrupt table", value: `${n} entries (2^IntTabLen)` });
  }
  return result(DTE, w, "DTE (device table entry)", DTE.qwords(w), notes);
}

/**
 * Decodes an event-log entry: four dwords in the order Linux prints them (`event[0]=0x%08x`
 * .. `event[3]`), two qwords (q0 q1), or the line the kernel prints for it (`AMD-Vi: Event
 * logged [IO_PAGE_FAULT device=01:00.1 domain=0x0002 address=0x… flags=0x0070]`, see
 * {@link decodeEventLines}) split into words or not.
 *
 * @throws {InputError} on a wrong count, a bad value, an event code this model does not know,
 *   or a kernel line that is not one event as Linux prints it
 */
export function decodeEvent(tokens: readonly string[]): Decoded {
  const text = tokens.join(" ");
  if (looksLikeEventLines(text)) {
    const all = decodeEventLines(text);
    if (all.length !== 1) {
      throw new InputError(`expected one event, found ${all.length}; pipe them to decode each`);
    }
    return all[0];
  }
  let w: Uint32Array;
  const bare = tokens.map((t) => t.replace(/^event\[\d\]=/, ""));
  if (bare.length === 4) {
    w = Uint32Array.from(bare.map((t, i) => Number(parseHex(t, `event[${i}]`, 32))));
  } else if (bare.length === 2) {
    w = qwordsToDwords(parseHexList(bare, "qword", 64));
  } else {
    throw new InputError(
      `expected 4 dwords (event[0]..event[3]), 2 qwords or a line "AMD-Vi: Event logged [...]", ` +
        `got ${tokens.length} values`,
    );
  }
  return decodeEventWords(w);
}

/**
 * Decodes every event in text pasted from a kernel log: the one-line pr_err and dev_err forms,
 * the two records of other event types, with or without dmesg timestamps. Each is encoded
 * back into its dwords through the event layouts and decoded like {@link decodeEvent}'s
 * words; fields Linux does not print (a PASID, say) are 0 and named in a note.
 *
 * @throws {InputError} when the text has no event, an `UNKNOWN type=` event (Linux printed
 *   nothing to decode) or operands Linux does not print for that type
 */
export function decodeEventLines(text: string): Decoded[] {
  return eventsFromText(text).map((e) => {
    const d = decodeEventWords(e.words);
    d.notes.unshift({ label: "from the line", value: e.text });
    if (e.unprinted.length > 0) {
      d.notes.push({ label: "not printed", value: `${e.unprinted.join(", ")} (taken as 0)` });
    }
    return d;
  });
}

/** Decodes the four dwords of an event-log entry. */
function decodeEventWords(w: Uint32Array): Decoded {
  const code = eventCode(w);
  const name = eventName(code);
  if (!name) {
    throw new InputError(
      `event code ${hex(code)} is not a known event type; Linux prints "UNKNOWN type=${
        hex(code, 2)
      }"`,
    );
  }
  const layout = EVENT_LAYOUTS[name];
  const notes: Note[] = [];
  if (layout.has("DeviceID")) {
    const dev = layout.value(w, "DeviceID");
    notes.push({ label: "device", value: `${bdfText(dev)} (DeviceID ${hex(dev, 4)})` });
  }
  // The 1-bit operand flags of q0 59:48, named as the layout declares them.
  const set = layout.fields
    .filter((f) => !f.reserved && f.q === 0 && f.lo >= 48 && f.lo < 60 && f.width === 1)
    .filter((f) => f.get(w) === 1)
    .map((f) => f.name);
  if (set.length > 0) notes.push({ label: "flags set", value: set.join(" ") });
  const raw = Array.from(w, (d, i) => `event[${i}]=${hex(d, 8)}`);
  const d = result(layout, w, `${name} event (code ${hex(code)})`, raw, notes);
  d.linux = linuxEventText(w);
  return d;
}

/**
 * Decodes a 64-bit I/O page-table entry: a PDE when Next Level is 1..6, a PTE when it is 0 or
 * 7. For Next Level 7 the notes give the page size encoded in the address bits.
 *
 * @throws {InputError} when the value is not a 64-bit hexadecimal number
 */
export function decodePte(token: string): Decoded {
  const w = qwordsToDwords([parseHex(token, "value", 64)]);
  const level = PTE.get(w, "NextLevel");
  const layout = level >= 1 && level <= 6 ? PDE : PTE;
  const notes: Note[] = [];
  if (layout.get(w, "PR") === 0) {
    notes.push({ label: "present", value: "no: a walk that reaches it faults (PR=0)" });
  }
  if (layout === PDE) {
    notes.push({ label: "kind", value: `PDE: points to a level-${level} table` });
  } else if (level === 0) {
    notes.push({
      label: "page size",
      value: "default for its table's level (L1 4 KiB, L2 2 MiB, L3 1 GiB)",
    });
  } else {
    const addrField = PTE.field("Address");
    const shift = BigInt(addrField.addrShift ?? 0);
    const size = BigInt(largePageSize(w[0], w[1]));
    // size is 2^(shift + 1 + ones): its binary form has shift + 2 + ones digits.
    const ones = size.toString(2).length - Number(shift) - 2;
    const base = (addrField.big(w) << shift) & ~(size - 1n);
    notes.push({
      label: "page size",
      value: `${formatSize(size)} (${ones} one bits from address bit ${shift})`,
    });
    notes.push({ label: "page base", value: hex(base) });
  }
  const title = layout === PDE ? "PDE (page directory entry)" : "PTE (page table entry)";
  return result(layout, w, title, layout.qwords(w), notes);
}

/**
 * Decodes a legacy 32-bit interrupt remapping table entry (Control.GAEn = 0).
 *
 * @throws {InputError} when the value is not a 32-bit hexadecimal number
 */
export function decodeIrte(token: string): Decoded {
  const w = Uint32Array.of(Number(parseHex(token, "value", 32)));
  return result(IRTE, w, "IRTE (legacy 32-bit)", [hex(w[0], 8)]);
}

/**
 * Decodes a 128-bit guest-virtual-APIC IRTE (Control.GAEn = 1) from its two qwords, low
 * (`irte_ga_lo`) first.
 *
 * @throws {InputError} on a wrong count or a bad value
 */
export function decodeIrteGa(tokens: readonly string[]): Decoded {
  if (tokens.length !== 2) {
    throw new InputError(`expected 2 qwords (lo hi) for a 128-bit IRTE, got ${tokens.length}`);
  }
  const w = qwordsToDwords(parseHexList(tokens, "qword", 64));
  return result(IRTE_GA, w, "IRTE_GA (128-bit, GAEn=1)", IRTE_GA.qwords(w));
}

/** A register the decoder knows: its CLI name, MMIO offset and Linux offset name. */
export interface RegisterInfo {
  /** The decoder CLI's name, e.g. `control`. */
  name: string;
  /** Byte offset from the IOMMU's MMIO base. */
  offset: number;
  /** Linux's MMIO_*_OFFSET name. */
  linux: string;
  /** Layout name, e.g. `Control`. */
  structure: string;
}

/** The MMIO registers `decodeRegister` accepts, in offset order. */
export function registers(): RegisterInfo[] {
  return REGISTERS.map((r) => ({
    name: r.name,
    offset: r.offset,
    linux: r.linux,
    structure: r.layout.name,
  }));
}

/** Entry size of the rings whose base registers carry a `…Len` field. */
const RING_ENTRY_BYTES: Readonly<Record<string, number>> = {
  "cmdbuf-base": COMMAND_BYTES,
  "evtlog-base": EVENT_BYTES,
  "pprlog-base": 16, // PPR log entries are 16 bytes (reference §8)
};

/**
 * Decodes a 64-bit MMIO register value; `name` is the register's CLI name (`control`,
 * `devtab-base`, … see {@link registers}). Derived notes: the device table's size and entry
 * count, ring sizes, and which IRTE format Control selects.
 *
 * @throws {InputError} on an unknown register or a bad value
 */
export function decodeRegister(name: string, token: string): Decoded {
  const def = REGISTERS.find((r) => r.name === name);
  if (!def) {
    throw new InputError(
      `unknown register ${JSON.stringify(name)} (known: ${
        REGISTERS.map((r) => r.name).join(", ")
      })`,
    );
  }
  const layout = def.layout;
  const w = qwordsToDwords([parseHex(token, "value", 64)]);
  const notes: Note[] = [];
  if (layout === DEV_TAB_BASE) {
    const bytes = (DEV_TAB_BASE.get(w, "Size") + 1) * PAGE_SIZE;
    const entries = bytes / DTE_BYTES;
    notes.push({ label: "table bytes", value: `${bytes} (${formatSize(bytes)}, (Size+1)*4096)` });
    notes.push({
      label: "entries",
      value: `${entries} (DeviceIDs 0x0000..${hex(entries - 1, 4)})`,
    });
  }
  const lenField = layout.fields.find((f) => !f.reserved && f.name.endsWith("Len"));
  const entryBytes = RING_ENTRY_BYTES[def.name];
  if (lenField && entryBytes) {
    const entries = 2 ** lenField.get(w);
    notes.push({ label: "ring entries", value: `${entries} (2^${lenField.name})` });
    notes.push({
      label: "ring bytes",
      value: `${entries * entryBytes} (${formatSize(entries * entryBytes)})`,
    });
  }
  if (layout === CONTROL) {
    notes.push({
      label: "IRTE format",
      value: CONTROL.get(w, "GAEn") ? "128-bit (decode irte --ga)" : "legacy 32-bit (decode irte)",
    });
  }
  const title = `${layout.name} register (MMIO ${hex(def.offset, 4)}, ${def.linux})`;
  return result(layout, w, title, layout.qwords(w), notes);
}
