/**
 * runtime/lab/event-lines.ts: events read back out of the lines Linux prints for them. A
 * property test (fast-check, fixed seed printed below) builds event-log entries of every type
 * from their layouts, prints them with the kernel model's formatter in each form Linux uses
 * (pr_err, dev_err, two records, with dmesg timestamps) and reads them back to the same
 * dwords; a run of the model gives real lines; bad lines are refused with one message.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { bdfText } from "../../runtime/hw/memory.ts";
import {
  EVENT_CODES,
  EVENT_LAYOUTS,
  EVENT_NAMES,
  type EventName,
} from "../../runtime/hw/layouts/event.ts";
import { decodeEvent, decodeEventLines } from "../../runtime/lab/decode.ts";
import { eventsFromText, looksLikeEventLines } from "../../runtime/lab/event-lines.ts";
import { InputError } from "../../runtime/lab/input.ts";
import { linuxEventText } from "../../runtime/lab/linux-log.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { simulate } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

const SEED = 20170901;
console.log(`event-lines.test.ts: fast-check seed ${SEED}`);

/** Types Linux prints with operands (INVALID_PPR_REQUEST is "UNKNOWN type=0x09" in 4.13). */
const PRINTED = EVENT_NAMES.filter((n) => !linuxEventText(entry(n, {})).startsWith("UNKNOWN"));

/** An entry of type `name` with the given field values (the others 0). */
function entry(name: EventName, values: Record<string, number>): Uint32Array {
  const layout = EVENT_LAYOUTS[name];
  const w = new Uint32Array(4);
  for (const [k, v] of Object.entries(values)) if (layout.has(k)) layout.setValue(w, k, v);
  layout.setValue(w, "EventCode", EVENT_CODES[name]);
  return w;
}

/** Fields Linux prints: the DeviceID, DomainID, Address and the flag bits q0 59:48. */
function printedFields(name: EventName) {
  return EVENT_LAYOUTS[name].fields.filter((f) =>
    !f.reserved && f.name !== "EventCode" &&
    (["DeviceID", "DomainID", "Address"].includes(f.name) || (f.q === 0 && f.lo >= 48))
  );
}

Deno.test("event lines: every printed form of every type reads back to the same dwords", () => {
  const arb = fc.constantFrom(...PRINTED).chain((name) =>
    fc.record({
      name: fc.constant(name),
      values: fc.record(
        Object.fromEntries(
          printedFields(name).map((f) => [
            f.name,
            f.name === "Address"
              ? fc.integer({ min: 0, max: 2 ** 52 - 1 })
              : fc.integer({ min: 0, max: 2 ** f.width - 1 }),
          ]),
        ),
      ),
      stamp: fc.integer({ min: 0, max: 99_999_999 }),
    })
  );
  fc.assert(
    fc.property(arb, ({ name, values, stamp }) => {
      const w = entry(name, values);
      const text = linuxEventText(w);
      const ts = `[${String(Math.floor(stamp / 1e6)).padStart(5)}.${
        String(stamp % 1e6).padStart(6, "0")
      }] `;
      const forms = [
        `AMD-Vi: Event logged [${text}]`,
        `${ts}AMD-Vi: Event logged [\n${ts}${text}]`,
        `<3>${ts}AMD-Vi: Event logged [${text}]`,
      ];
      if (name === "IO_PAGE_FAULT") {
        // dev_err: the device is in the prefix, not in the brackets.
        const dev = EVENT_LAYOUTS[name].value(w, "DeviceID");
        const short = text.replace(/ device=\S+/, "");
        forms.push(`${ts}bnx2 0000:${bdfText(dev)}: AMD-Vi: Event logged [${short}]`);
      }
      for (const form of forms) {
        assert.ok(looksLikeEventLines(form));
        const got = eventsFromText(form);
        assert.equal(got.length, 1, form);
        assert.deepEqual([...got[0].words], [...w], form);
      }
    }),
    { seed: SEED, numRuns: 400 },
  );
});

Deno.test("event lines: the model's own dmesg decodes to the faults its IOMMU logged", () => {
  // The series with the older bnx2 (no kdump wait): the NIC's deferred attach makes its old
  // IOVAs fault, and bnx2's dev_err prints each (the device only in the prefix).
  const sim = simulate(SCENARIOS.default, { series: seriesFromSpec("all,bnx2-no-kdump-wait") });
  const r = sim.report;
  const lines = r.dmesg.filter((l) => l.text.includes("Event logged"));
  // What the kdump kernel's event handler read out of the IOMMU's event log and printed.
  const logged = sim.kernel2!.amd.events.seen.filter((e) => e.printed);
  assert.equal(logged.length, lines.length);
  assert.ok(lines.length > 0, "the model printed faults");
  const text = lines.map((l) => `[${l.time.toFixed(6).padStart(12)}] ${l.text}`).join("\n");
  const decoded = decodeEventLines(text);
  assert.equal(decoded.length, lines.length);
  assert.equal(decoded.length, r.faultsPrinted);
  for (const [i, d] of decoded.entries()) {
    const m = /^(\S+) 0000:(\S+): AMD-Vi: Event logged \[(IO_PAGE_FAULT) (.*)\]$/.exec(
      lines[i].text,
    );
    assert.ok(m, lines[i].text);
    assert.equal(d.structure, "IO_PAGE_FAULT");
    assert.equal(d.linux, `IO_PAGE_FAULT device=${m[2]} ${m[4]}`);
    const [dom, addr] = [/domain=(\S+)/.exec(m[4])![1], /address=(\S+)/.exec(m[4])![1]];
    assert.equal(d.json.DomainID, Number(dom));
    assert.equal(BigInt(d.json.Address as string), BigInt(addr));
    assert.equal(bdfText(d.json.DeviceID as number), m[2]);
    // The mechanism: the entry the IOMMU wrote (device, domain, address, flags).
    const e = logged[i];
    assert.deepEqual(
      [d.json.DeviceID, d.json.DomainID, Number(BigInt(d.json.Address as string))],
      [e.devid, e.domid, e.address],
    );
    assert.equal(Number(/flags=(\S+)/.exec(m[4])![1]), e.flags);
  }
});

Deno.test("event lines: one event as arguments; several, UNKNOWN and wrong operands refused", () => {
  const line =
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.1 domain=0x0002 address=0x00000000bf28b000 flags=0x0070]";
  const d = decodeEvent(line.split(" "));
  assert.deepEqual(d.raw, [
    "event[0]=0x00000101",
    "event[1]=0x20700002",
    "event[2]=0xbf28b000",
    "event[3]=0x00000000",
  ]);
  assert.deepEqual([d.json.PR, d.json.RW, d.json.PE], [1, 1, 1]);
  const refused = (text: string, re: RegExp) =>
    assert.throws(
      () => decodeEventLines(text),
      (e) => e instanceof InputError && re.test(e.message),
      text,
    );
  assert.throws(() => decodeEvent([line, line]), /expected one event, found 2/);
  refused(
    "[    0.431456] AMD-Vi: Event logged [\n[    0.431456] UNKNOWN type=0x09]",
    /nothing more to decode/,
  );
  refused(
    "AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0002 address=0x0 flags=0x0070]",
    /device is in the dev_err prefix/,
  );
  refused(
    "AMD-Vi: Event logged [IOTLB_INV_TIMEOUT device=01:00.0 domain=0x1 address=0x0]",
    /no domain= for IOTLB_INV_TIMEOUT/,
  );
  refused(
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=1:0 domain=0x2 address=0x0 flags=0x0]",
    /not a PCI address/,
  );
  refused(
    "AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 domain=0x12345 address=0x0 flags=0x0]",
    /does not fit in 16 bits/,
  );
  refused("hello", /no event found/);
});
