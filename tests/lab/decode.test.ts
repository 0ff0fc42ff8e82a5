/**
 * The decoders behind `kdump-lab decode` (runtime/lab/decode.ts, dmesg.ts, input.ts,
 * linux-log.ts): values from real kernel logs in, field values and Linux's own text out.
 *
 * Expected values are computed here independently from the reference (bit positions written
 * out by hand), so a wrong layout or a wrong decoder fails these tests.
 */
import assert from "node:assert/strict";
import {
  decodeDte,
  decodeEvent,
  decodeIrte,
  decodeIrteGa,
  decodePte,
  decodeRegister,
  dteWords,
  dteWordsFromText,
  formatSize,
  InputError,
  registers,
  reservedRows,
} from "../../runtime/lab/decode.ts";
import { parseHex, qwordsToDwords } from "../../runtime/lab/input.ts";

/** A DTE from a real 4.x log: V TV Mode=3 IR IW, domain 0x10, IRQ remapping with 256 IRTEs. */
const REAL_DTE = ["6000003f9e2a0603", "0000000000000010", "2000003f9d4b2011", "0"];

const DTE_KEYS = [
  "V",
  "TV",
  "Mode",
  "PageTableRootPtr",
  "PPR",
  "GPRP",
  "GIoV",
  "GV",
  "GLX",
  "GCR3TableRootPtr",
  "IR",
  "IW",
  "DomainID",
  "I",
  "SE",
  "SA",
  "IoCtl",
  "Cache",
  "SD",
  "EX",
  "SysMgt",
  "IV",
  "IntTabLen",
  "IG",
  "InterruptTableRootPtr",
  "InitPass",
  "EIntPass",
  "NMIPass",
  "IntCtl",
  "Lint0Pass",
  "Lint1Pass",
];

/** Event dwords the way the reference lays them out: dw1 = code<<28 | flags<<16 | domain. */
function eventDwords(code: number, devid: number, flags: number, domain: number, addr: bigint) {
  const dw1 = ((code << 28) | (flags << 16) | domain) >>> 0;
  return [devid, dw1, Number(addr & 0xffff_ffffn), Number(addr >> 32n)].map((d) =>
    "0x" + d.toString(16).padStart(8, "0")
  );
}

Deno.test("input: hexadecimal with or without 0x, any case; everything else is refused", () => {
  assert.equal(parseHex("6000003f9e2a0603", "w", 64), 0x6000003f9e2a0603n);
  assert.equal(parseHex("0x00000010", "w", 64), 0x10n);
  assert.equal(parseHex("0XfF", "w", 8), 0xffn);
  assert.equal(parseHex("0000000000000000000001", "w", 32), 1n, "leading zeros are fine");
  for (const bad of ["0xZZ", "", "0x", "-1", "1 2", "12h", "0o17", "+5", "0x1_0"]) {
    assert.throws(() => parseHex(bad, "word 2", 64), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.message, `word 2 ${JSON.stringify(bad)} is not hexadecimal`);
      return true;
    });
  }
  assert.throws(
    () => parseHex("0x100000000", "event[1]", 32),
    { name: "InputError", message: 'event[1] "0x100000000" does not fit in 32 bits' },
  );
  assert.throws(() => parseHex("1" + "0".repeat(16), "word 0", 64), /does not fit in 64 bits/);
});

Deno.test("input: qwords become little-endian dword pairs", () => {
  assert.deepEqual([...qwordsToDwords([0x1122334455667788n, 0xffn])], [
    0x55667788,
    0x11223344,
    0xff,
    0,
  ]);
});

Deno.test("decode dte: the real log entry decodes to the expected fields and JSON keys", () => {
  const d = decodeDte(dteWords(REAL_DTE));
  assert.equal(d.structure, "DTE");
  assert.deepEqual(Object.keys(d.json), DTE_KEYS);
  assert.deepEqual(
    {
      V: d.json.V,
      TV: d.json.TV,
      Mode: d.json.Mode,
      IR: d.json.IR,
      IW: d.json.IW,
      DomainID: d.json.DomainID,
      IV: d.json.IV,
      IntTabLen: d.json.IntTabLen,
      IntCtl: d.json.IntCtl,
      SA: d.json.SA,
      GV: d.json.GV,
    },
    {
      V: 1,
      TV: 1,
      Mode: 3,
      IR: 1,
      IW: 1,
      DomainID: 0x10,
      IV: 1,
      IntTabLen: 8,
      IntCtl: 2,
      SA: 0,
      GV: 0,
    },
  );
  // q0 51:12 and q2 51:6 as byte addresses.
  assert.equal(d.json.PageTableRootPtr, "0x3f9e2a0000");
  assert.equal(d.json.InterruptTableRootPtr, "0x3f9d4b2000");
  assert.equal(d.json.GCR3TableRootPtr, "0x0");
  for (const k of DTE_KEYS) {
    const v = d.json[k];
    if (k.endsWith("RootPtr")) assert.match(String(v), /^0x[0-9a-f]+$/, k);
    else assert.equal(typeof v, "number", k);
  }
  assert.deepEqual(d.raw, REAL_DTE.slice(0, 3).concat("0000000000000000"));
  const row = (n: string) => d.rows.find((r) => r.name === n)!;
  assert.equal(row("Mode").meaning, "3 levels (512 GiB)");
  assert.equal(row("IntCtl").meaning, "remapped");
  assert.equal(row("IntTabLen").bits, "q2[4:1]");
  assert.deepEqual(reservedRows(d), []);
  assert.deepEqual(d.notes, [{ label: "interrupt table", value: "256 entries (2^IntTabLen)" }]);
});

Deno.test("decode dte: GCR3 root pointer is reassembled from parts A, B and C", () => {
  const gcr3 = 0xabcd_1234_5000n; // bits 51:12
  const a = (gcr3 >> 12n) & 0x7n; // -> q0 60:58
  const b = (gcr3 >> 15n) & 0xffffn; // -> q1 31:16
  const c = (gcr3 >> 31n) & 0x1f_ffffn; // -> q1 63:43
  const q0 = (a << 58n) | (1n << 55n) | 0x3n; // GV, TV, V
  const q1 = (b << 16n) | (c << 43n) | 0x22n;
  const d = decodeDte([q0, q1, 0n, 0n]);
  assert.equal(d.json.GCR3TableRootPtr, "0xabcd12345000");
  assert.equal(d.json.GV, 1);
  assert.equal(d.json.DomainID, 0x22);
  const row = d.rows.find((r) => r.name === "GCR3TableRootPtr")!;
  assert.equal(row.value, "0xabcd12345000");
  assert.equal(row.bits, "q0[60:58],q1[31:16],q1[63:43]");
});

Deno.test("decode dte: reserved bits set are flagged and kept out of the JSON", () => {
  // q0 bit 2 (reserved 6:2) and q3 bit 0 (reserved) set.
  const d = decodeDte([0x6000003f9e2a0607n, 0x10n, 0x2000003f9d4b2011n, 1n]);
  assert.deepEqual(
    reservedRows(d).map((r) => [r.name, r.value, r.bits]),
    [["Rsvd0", "0x1", "q0[8:2]"], ["Rsvd5", "0x1", "q3[63:0]"]],
  );
  assert.equal(Object.keys(d.json).some((k) => k.startsWith("Rsvd")), false);
  assert.equal(d.json.TV, 1);
});

Deno.test("decode dte: three or four words; W3 defaults to 0", () => {
  assert.deepEqual(dteWords(["1", "0x2", "3"]), [1n, 2n, 3n, 0n]);
  assert.throws(() => dteWords(["1", "2"]), {
    message: "expected 3 or 4 DTE words (W0 W1 W2 [W3]), got 2",
  });
  assert.throws(() => dteWords(["1", "2", "3", "4", "5"]), /got 5/);
  assert.throws(() => dteWords(["1", "2", "0xZZ"]), {
    message: 'word 2 "0xZZ" is not hexadecimal',
  });
  assert.throws(() => decodeDte([1n, 2n]), InputError);
});

Deno.test("dmesg: DTE lines pasted with timestamps and prefixes", () => {
  const log = [
    "[    5.113581] AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=05:00.0 address=0x0",
    "[    5.113590] AMD-Vi: DTE[0]: 6000003f9e2a0603",
    "[    5.113594] AMD-Vi: DTE[1]: 0x0000000000000010",
    "Oct  2 12:00:01 host kernel: AMD-Vi: DTE[2]: 2000003F9D4B2011",
    "pci 0000:00:00.2: AMD-Vi: DTE[3]: 0000000000000004",
  ].join("\n");
  assert.deepEqual(dteWordsFromText(log), [
    0x6000003f9e2a0603n,
    0x10n,
    0x2000003f9d4b2011n,
    4n,
  ]);
  // DTE[3] missing: 0; lines out of order are fine.
  assert.deepEqual(dteWordsFromText("DTE[2]: 3\r\nDTE[0]: 1\nDTE[1]: 2\n"), [1n, 2n, 3n, 0n]);
  // No DTE[] lines: plain words.
  assert.deepEqual(dteWordsFromText("  6000003f9e2a0603 10\n2000003f9d4b2011\n"), [
    0x6000003f9e2a0603n,
    0x10n,
    0x2000003f9d4b2011n,
    0n,
  ]);
});

Deno.test("dmesg: broken pastes are refused with one line naming the problem", () => {
  const cases: [string, string][] = [
    ["AMD-Vi: DTE[0]: 1\nAMD-Vi: DTE[2]: 3\n", "DTE[1] line is missing"],
    ["DTE[0]: 1\nDTE[1]: 2\nDTE[2]: 0xZZ\n", 'DTE[2] "0xZZ" is not hexadecimal'],
    ["DTE[0]: 1\nDTE[1]: 2\nDTE[2]: 3\nDTE[4]: 5\n", "DTE[4]: a DTE has only DTE[0]..DTE[3]"],
    ["DTE[0]: 1\nDTE[0]: 2\n", "DTE[0] appears twice with different values; paste one entry"],
    [" \n\n", 'no DTE on stdin: expected W0 W1 W2 [W3] or lines "AMD-Vi: DTE[0]: …"'],
    ["hello world again", 'word 0 "hello" is not hexadecimal'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => dteWordsFromText(text), (e: unknown) => {
      assert.ok(e instanceof InputError, text);
      assert.equal(e.message, message);
      assert.equal(e.message.includes("\n"), false);
      return true;
    });
  }
  // The same word twice with the same value (a paste repeated) is accepted.
  assert.deepEqual(dteWordsFromText("DTE[0]: 1\nDTE[0]: 0x1\nDTE[1]: 2\nDTE[2]: 3"), [
    1n,
    2n,
    3n,
    0n,
  ]);
});

Deno.test("decode event: the real IO_PAGE_FAULT decodes and prints like Linux 4.14", () => {
  const dw = eventDwords(0x2, 0x0500, 0x070, 0x0012, 0xff6101b0n);
  assert.deepEqual(dw, ["0x00000500", "0x20700012", "0xff6101b0", "0x00000000"]);
  const d = decodeEvent(dw);
  assert.equal(d.structure, "IO_PAGE_FAULT");
  assert.equal(
    d.linux,
    "IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070",
  );
  assert.equal(d.json.DeviceID, 0x0500);
  assert.equal(d.json.DomainID, 0x0012);
  assert.equal(d.json.EventCode, 2);
  assert.equal(d.json.Address, "0xff6101b0");
  assert.deepEqual(
    ["GN", "NX", "US", "I", "PR", "RW", "PE", "RZ", "TR"].map((k) => d.json[k]),
    [0, 0, 0, 0, 1, 1, 1, 0, 0],
  );
  assert.deepEqual(d.notes, [
    { label: "device", value: "05:00.0 (DeviceID 0x0500)" },
    { label: "flags set", value: "PR RW PE" },
  ]);
  assert.deepEqual(d.raw, [
    "event[0]=0x00000500",
    "event[1]=0x20700012",
    "event[2]=0xff6101b0",
    "event[3]=0x00000000",
  ]);
  // The same entry as two qwords.
  const q = decodeEvent(["0x2070001200000500", "00000000ff6101b0"]);
  assert.deepEqual(q.json, d.json);
  assert.equal(q.linux, d.linux);
});

Deno.test("decode event: high address bits and other event types", () => {
  const high = decodeEvent(eventDwords(0x2, 0x0100, 0x000, 0x0001, 0x8000_0001_0000_0000n));
  assert.equal(high.json.Address, "0x8000000100000000");
  assert.equal(
    high.linux,
    "IO_PAGE_FAULT device=01:00.0 domain=0x0001 address=0x8000000100000000 flags=0x0000",
  );

  const ill = decodeEvent(eventDwords(0x1, 0x00a1, 0x080, 0, 0x1000n));
  assert.equal(ill.structure, "ILLEGAL_DEV_TABLE_ENTRY");
  assert.equal(ill.json.RZ, 1);
  assert.equal(
    ill.linux,
    "ILLEGAL_DEV_TABLE_ENTRY device=00:14.1 address=0x0000000000001000 flags=0x0080",
  );

  // INVALID_DEVICE_REQUEST flags=0x0a00 is Type 5 (a real 4.9 log, reference §6).
  const idr = decodeEvent(eventDwords(0x8, 0x0010, 0xa00, 0, 0xfee00000n));
  assert.equal(idr.json.Type, 5);
  assert.equal(
    idr.linux,
    "INVALID_DEVICE_REQUEST device=00:02.0 address=0x00000000fee00000 flags=0x0a00",
  );

  const cmd = decodeEvent(eventDwords(0x5, 0, 0, 0, 0x80_2040n));
  assert.equal(cmd.linux, "ILLEGAL_COMMAND_ERROR address=0x0000000000802040");

  const tmo = decodeEvent(eventDwords(0x7, 0x0300, 0, 0, 0x80_0010n));
  assert.equal(tmo.linux, "IOTLB_INV_TIMEOUT device=03:00.0 address=0x0000000000800010");

  // 4.14 has no INVALID_PPR_REQUEST case.
  assert.equal(decodeEvent(eventDwords(0x9, 0x0300, 0, 0, 0n)).linux, "UNKNOWN type=0x09");
});

Deno.test("decode event: wrong counts, bad dwords and unknown codes are input errors", () => {
  assert.throws(() => decodeEvent(["1", "2", "3"]), {
    name: "InputError",
    message:
      'expected 4 dwords (event[0]..event[3]), 2 qwords or a line "AMD-Vi: Event logged [...]", got 3 values',
  });
  assert.throws(() => decodeEvent(["0x500", "0x1ffffffff", "0", "0"]), {
    message: 'event[1] "0x1ffffffff" does not fit in 32 bits',
  });
  assert.throws(() => decodeEvent(["0", "0", "0", "0"]), {
    message: 'event code 0x0 is not a known event type; Linux prints "UNKNOWN type=0x00"',
  });
  assert.throws(() => decodeEvent(["0", "0xd0000000", "0", "0"]), /UNKNOWN type=0x0d/);
});

Deno.test("decode pte: Next Level picks PDE (1..6) or PTE (0, 7)", () => {
  // PDE: next level 3, table at 0x123456000, PR IR IW.
  const pde = decodePte("0x6000000123456601");
  assert.equal(pde.structure, "PDE");
  assert.deepEqual(Object.keys(pde.json), ["PR", "A", "NextLevel", "Address", "IR", "IW"]);
  assert.deepEqual(pde.json, {
    PR: 1,
    A: 0,
    NextLevel: 3,
    Address: "0x123456000",
    IR: 1,
    IW: 1,
  });

  // PTE, default size: FC, IW only, dirty and accessed.
  const pte = decodePte("50000000abcde061");
  assert.equal(pte.structure, "PTE");
  assert.deepEqual(pte.json, {
    PR: 1,
    A: 1,
    D: 1,
    NextLevel: 0,
    Address: "0xabcde000",
    U: 0,
    FC: 1,
    IR: 0,
    IW: 1,
  });
  assert.match(pte.notes[0].value, /^default for its table's level/);

  // Not present.
  assert.equal(decodePte("0").structure, "PTE");
  assert.equal(decodePte("0").notes[0].label, "present");
});

Deno.test("decode pte: Next Level 7 encodes the page size in the address bits", () => {
  // 2 MiB page at 1 GiB: address bits 19:12 are ones, bit 20 zero -> 2^(13+8).
  const v = (0x4000_0000n | 0xff000n | (7n << 9n) | 1n | (3n << 61n)).toString(16);
  const d = decodePte(v);
  assert.equal(d.structure, "PTE");
  assert.equal(d.json.NextLevel, 7);
  const note = (l: string) => d.notes.find((n) => n.label === l)?.value;
  assert.equal(note("page size"), "2 MiB (8 one bits from address bit 12)");
  assert.equal(note("page base"), "0x40000000");
  // 8 KiB: no one bits.
  const small = decodePte("0x6000000123400e01");
  assert.equal(small.notes.find((n) => n.label === "page size")?.value.split(" (")[0], "8 KiB");
  // 32 KiB page: bits 13:12 ones.
  const p32 = decodePte((0x8000n | 0x3000n | (7n << 9n) | 1n).toString(16));
  assert.equal(p32.notes.find((n) => n.label === "page size")?.value.split(" (")[0], "32 KiB");
  assert.equal(p32.notes.find((n) => n.label === "page base")?.value, "0x8000");
});

Deno.test("decode irte: legacy 32-bit and 128-bit GA forms", () => {
  // Vector 0x41, destination APIC 3, logical, remapping enabled.
  const d = decodeIrte("0x00410341");
  assert.equal(d.structure, "IRTE");
  assert.deepEqual(d.json, {
    RemapEn: 1,
    SupIOPF: 0,
    IntType: 0,
    RqEoi: 0,
    DM: 1,
    GuestMode: 0,
    Destination: 3,
    Vector: 0x41,
  });
  assert.deepEqual(d.raw, ["0x00410341"]);
  assert.throws(() => decodeIrte("0x100000000"), /does not fit in 32 bits/);

  // lo: RemapEn, DestinationLo = 0x000001, GATag = 0x1234; hi: vector 0x41, DestinationHi 0x01.
  const ga = decodeIrteGa(["0x0000123400000101", "0x0100000000000041"]);
  assert.equal(ga.structure, "IRTE_GA");
  assert.equal(ga.json.RemapEn, 1);
  assert.equal(ga.json.GATag, 0x1234);
  assert.equal(ga.json.Vector, 0x41);
  assert.equal(Number(ga.json.Destination), 0x0100_0001, "Destination = Hi<<24 | Lo");
  assert.throws(() => decodeIrteGa(["1"]), {
    message: "expected 2 qwords (lo hi) for a 128-bit IRTE, got 1",
  });
});

Deno.test("decode registers: devtab-base sizes, ring sizes, Control", () => {
  const dt = decodeRegister("devtab-base", "0x00000000abc001ff");
  assert.deepEqual(dt.json, { Size: 0x1ff, DevTabBase: "0xabc00000" });
  assert.deepEqual(dt.notes, [
    { label: "table bytes", value: "2097152 (2 MiB, (Size+1)*4096)" },
    { label: "entries", value: "65536 (DeviceIDs 0x0000..0xffff)" },
  ]);
  const one = decodeRegister("devtab-base", "1000");
  assert.equal(one.json.Size, 0);
  assert.equal(one.notes[0].value, "4096 (4 KiB, (Size+1)*4096)");
  assert.equal(one.notes[1].value, "128 (DeviceIDs 0x0000..0x007f)");

  const evt = decodeRegister("evtlog-base", "0x0900000012345000");
  assert.equal(evt.json.EventLen, 9);
  assert.equal(evt.json.Base, "0x12345000");
  assert.deepEqual(evt.notes, [
    { label: "ring entries", value: "512 (2^EventLen)" },
    { label: "ring bytes", value: "8192 (8 KiB)" },
  ]);

  // IommuEn EventLogEn ComWaitIntEn CmdBufEn GAEn, InvTimeOut 1 ms.
  const ctl = decodeRegister(
    "control",
    (1 | 4 | 16 | (1 << 5) | (1 << 12) | (1 << 17)).toString(16),
  );
  assert.equal(ctl.structure, "Control");
  assert.deepEqual(
    ["IommuEn", "HtTunEn", "EventLogEn", "ComWaitIntEn", "InvTimeOut", "CmdBufEn", "GAEn"].map(
      (k) => ctl.json[k],
    ),
    [1, 0, 1, 1, 1, 1, 1],
  );
  assert.equal(ctl.rows.find((r) => r.name === "InvTimeOut")?.meaning, "1 ms");
  assert.equal(ctl.notes[0].value, "128-bit (decode irte --ga)");
  // Reserved Control bit 43 set.
  const bad = decodeRegister("control", (1n << 43n).toString(16));
  assert.deepEqual(reservedRows(bad).map((r) => r.name), ["Rsvd0"]);

  assert.ok(registers().some((r) => r.name === "control" && r.offset === 0x18));
  assert.throws(() => decodeRegister("nope", "0"), /unknown register "nope"/);
  assert.throws(() => decodeRegister("control", "0xZZ"), {
    message: 'value "0xZZ" is not hexadecimal',
  });
});

Deno.test("formatSize: largest exact binary unit", () => {
  assert.equal(formatSize(4096), "4 KiB");
  assert.equal(formatSize(3 * 4096), "12 KiB");
  assert.equal(formatSize(2n ** 21n), "2 MiB");
  assert.equal(formatSize(2n ** 39n), "512 GiB");
  assert.equal(formatSize(1000), "1000 B");
});
