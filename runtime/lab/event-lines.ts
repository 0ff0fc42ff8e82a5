/**
 * Event-log entries read back out of the lines Linux 4.13/4.14 prints for them
 * (iommu_print_event, amd_iommu_report_page_fault):
 *
 * - `AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.1 domain=0x0002 address=0x… flags=0x0070]`
 *   (a pr_err when the device has no driver data or its ratelimit ran out);
 * - `bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 address=… flags=…]`
 *   (a dev_err: the device is in the prefix);
 * - the two records of every other type: `AMD-Vi: Event logged [` then, on the next line,
 *   `ILLEGAL_DEV_TABLE_ENTRY device=… address=… flags=…]`;
 * - any of these behind a dmesg timestamp (`[    0.564364] `) or a syslog header.
 *
 * Each event is encoded back into its four dwords through the event's layout declaration
 * (runtime/hw/layouts/event.ts), then printed again by the same formatter the kernel model
 * uses; a line whose operands are not the ones Linux prints for that type is refused.
 *
 * @module
 */
import { hex, type Layout } from "../hw/bits.ts";
import { EVENT_CODES, EVENT_LAYOUTS, EVENT_NAMES, type EventName } from "../hw/layouts/event.ts";
import { linuxEventText } from "./linux-log.ts";
import { InputError, parseHex } from "./input.ts";

/** One event found in the text. */
export interface EventLine {
  /** The event's four dwords, as the IOMMU wrote them to the log (as far as Linux printed). */
  words: Uint32Array;
  /** The line as found (timestamps and prefixes removed, two records joined). */
  text: string;
  /** Event-log bits the kernel does not print, left 0 here (e.g. the PASID). */
  unprinted: string[];
}

/** A dmesg timestamp `[    0.564364] ` at the start of a line. */
const TIMESTAMP = /^\s*\[\s*\d+\.\d+\]\s?/;
/** The dev_err prefix of amd_iommu_report_page_fault: `bnx2 0000:01:00.0: `. */
const DEV_PREFIX = /(?:^|\s)\S+ (?:[0-9a-f]{4}:)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]): $/i;
/** A record: the type, then `key=value` operands. */
const RECORD = new RegExp(
  String.raw`\b(${EVENT_NAMES.join("|")}|UNKNOWN)((?:\s+[a-z]+=[^\s\]]+)*)\s*\]?`,
  "g",
);
const BDF = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/** True when `text` looks like kernel log lines rather than bare hexadecimal words. */
export function looksLikeEventLines(text: string): boolean {
  return /Event logged|\b[A-Z]+_[A-Z_]+\s+[a-z]+=|UNKNOWN type=/.test(text);
}

/**
 * The lines of `text` without their timestamps, a two-record event joined into one line
 * (`AMD-Vi: Event logged [` followed by the details line).
 */
function joinedLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(TIMESTAMP, "").trimEnd();
    if (!line.trim()) continue;
    const prev = out.at(-1);
    if (prev !== undefined && /Event logged \[$/.test(prev)) out[out.length - 1] = prev + line;
    else out.push(line);
  }
  return out;
}

/** A BDF `01:00.1` as a DeviceID. */
function deviceId(text: string, what: string): number {
  const m = BDF.exec(text);
  if (!m) throw new InputError(`${what} ${JSON.stringify(text)} is not a PCI address BB:DD.F`);
  return (parseInt(m[1], 16) << 8) | (parseInt(m[2], 16) << 3) | parseInt(m[3], 16);
}

/** Writes a bigint into a field of any width (Field.set takes numbers, exact to 2^53). */
function setBig(layout: Layout, w: Uint32Array, name: string, v: bigint): void {
  const f = layout.field(name);
  for (let i = 0; i < f.width; i++) {
    const b = f.bit + i;
    if ((v >> BigInt(i)) & 1n) w[b >>> 5] = (w[b >>> 5] | (1 << (b & 31))) >>> 0;
  }
}

/**
 * Sets the bits of Linux's 12-bit `flags=` (q0 59:48) through the layout's fields: each set
 * bit lands in the field declared at that position — a reserved one when the layout has no
 * flag there, which the decoder then reports.
 */
function setFlags(layout: Layout, w: Uint32Array, flags: number): void {
  for (let bit = 0; bit < 12; bit++) {
    if (!(flags & (1 << bit))) continue;
    const at = 48 + bit;
    const f = layout.fields.find((fd) => fd.q === 0 && fd.lo <= at && at < fd.lo + fd.width);
    if (!f) throw new InputError(`flags bit ${hex(1 << bit, 3)} has no field in ${layout.name}`);
    w[(f.q * 64 + at) >>> 5] |= 1 << (at & 31);
  }
}

/** The operand names a printed line carries, in order. */
const operandNames = (text: string) => [...text.matchAll(/\s([a-z]+)=/g)].map((m) => m[1]);

/** Encodes one record (`NAME key=value …`) into an event's dwords. */
function encodeRecord(
  name: EventName,
  operands: string,
  devFromPrefix: number | undefined,
  where: string,
): EventLine {
  const layout = EVENT_LAYOUTS[name];
  const w = new Uint32Array(4);
  layout.set(w, "EventCode", EVENT_CODES[name]);
  const seen = new Set<string>();
  for (const m of operands.matchAll(/([a-z]+)=([^\s\]]+)/g)) {
    const [, key, value] = m;
    const what = `${where}: ${key}=`;
    if (seen.has(key)) throw new InputError(`${what} appears twice`);
    seen.add(key);
    if (key === "device" && layout.has("DeviceID")) {
      layout.set(w, "DeviceID", deviceId(value, what));
    } else if (key === "domain" && layout.has("DomainID")) {
      layout.set(w, "DomainID", Number(parseHex(value, what, 16)));
    } else if (key === "address") {
      setBig(layout, w, "Address", parseHex(value, what, 64));
    } else if (key === "flags") {
      setFlags(layout, w, Number(parseHex(value, what, 12)));
    } else {
      throw new InputError(`${where}: Linux prints no ${key}= for ${name}`);
    }
  }
  let given = operandNames(` ${operands}`);
  if (devFromPrefix !== undefined && !seen.has("device") && layout.has("DeviceID")) {
    layout.set(w, "DeviceID", devFromPrefix);
    given = ["device", ...given];
  }
  // Printed again by the kernel model's formatter: the same operands, in the same order.
  const again = linuxEventText(w);
  const expected = operandNames(again);
  if (given.join(" ") !== expected.join(" ")) {
    const hint = expected[0] === "device" && !given.includes("device")
      ? ' (the device is in the dev_err prefix, e.g. "bnx2 0000:01:00.0: AMD-Vi: …", or add device=BB:DD.F)'
      : "";
    throw new InputError(
      `${where}: Linux prints ${name} as "${again.replace(/=\S+/g, "=…")}", not with ${
        given.join(", ") || "no operands"
      }${hint}`,
    );
  }
  const unprinted = layout.fields
    .filter((f) =>
      !f.reserved && !["EventCode", "DeviceID", "DomainID", "Address"].includes(f.name)
    )
    .filter((f) => !(f.q === 0 && f.lo >= 48 && f.lo < 60))
    .map((f) => f.name);
  return { words: w, text: `${name}${operands}`, unprinted };
}

/**
 * Every event in pasted kernel log text (see the module documentation), in order.
 *
 * @throws {InputError} when the text has no event, an event Linux printed without operands
 *   (`UNKNOWN type=0x09`), or operands that are not the ones Linux prints for the type
 */
export function eventsFromText(text: string): EventLine[] {
  const events: EventLine[] = [];
  for (const [i, line] of joinedLines(text).entries()) {
    for (const m of line.matchAll(RECORD)) {
      const where = `event line ${i + 1}`;
      if (m[1] === "UNKNOWN") {
        throw new InputError(
          `${where}: "${m[0].trim()}" is all Linux prints of an event type it does not know; ` +
            "there is nothing more to decode (paste the event-log entry's dwords instead)",
        );
      }
      const before = line.slice(0, m.index);
      const pre = /AMD-Vi: Event logged \[$/.exec(before)
        ? DEV_PREFIX.exec(before.replace(/AMD-Vi: Event logged \[$/, ""))
        : null;
      const dev = pre
        ? (parseInt(pre[1], 16) << 8) | (parseInt(pre[2], 16) << 3) | parseInt(pre[3], 16)
        : undefined;
      events.push(encodeRecord(m[1] as EventName, m[2], dev, where));
    }
  }
  if (events.length === 0) {
    throw new InputError(
      'no event found: expected lines like "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.1 ' +
        'domain=0x0002 address=0x00000000bf28b000 flags=0x0070]", or 4 dwords / 2 qwords',
    );
  }
  return events;
}
