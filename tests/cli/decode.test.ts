/**
 * `kdump-lab decode …` end to end: spawns `deno run -A runtime/cli/main.ts` the way
 * `deno task lab` does and checks stdout, JSON, stdin parsing of pasted dmesg lines, colours,
 * and that bad input exits 2 with exactly one line on stderr.
 */
import assert from "node:assert/strict";
import { spawnLab, stripAnsi } from "./lab-kit.ts";

/** Runs the CLI with `args`, stdin (`stdin` text, else empty) and the colour switches given. */
const lab = (args: string[], stdin?: string, env: Record<string, string> = {}) =>
  spawnLab(args, { stdin: stdin ?? "", env });

const REAL_DTE = ["6000003f9e2a0603", "0000000000000010", "2000003f9d4b2011", "0"];
const FAULT = ["0x00000500", "0x20700012", "0xff6101b0", "0x00000000"];
const FAULT_LINE =
  "IO_PAGE_FAULT device=05:00.0 domain=0x0012 address=0x00000000ff6101b0 flags=0x0070";

Deno.test("cli decode dte --json: one JSON object with the spec field names", async () => {
  const r = await lab(["decode", "dte", ...REAL_DTE, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const j = JSON.parse(r.stdout);
  assert.deepEqual(
    Object.keys(j).join(" "),
    "V TV Mode PageTableRootPtr PPR GPRP GIoV GV GLX GCR3TableRootPtr IR IW DomainID I SE SA " +
      "IoCtl Cache SD EX SysMgt IV IntTabLen IG InterruptTableRootPtr InitPass EIntPass NMIPass " +
      "IntCtl Lint0Pass Lint1Pass",
  );
  assert.deepEqual(
    [j.V, j.TV, j.Mode, j.IR, j.IW, j.DomainID, j.IV, j.IntTabLen, j.IntCtl],
    [1, 1, 3, 1, 1, 0x10, 1, 8, 2],
  );
  assert.equal(j.PageTableRootPtr, "0x3f9e2a0000");
  assert.equal(j.InterruptTableRootPtr, "0x3f9d4b2000");
  assert.equal(j.GCR3TableRootPtr, "0x0");
});

Deno.test("cli decode dte: three words (W3 = 0) give the same result as four", async () => {
  const four = await lab(["decode", "dte", ...REAL_DTE, "--json"]);
  const three = await lab(["decode", "dte", "--json", ...REAL_DTE.slice(0, 3)]);
  assert.equal(three.code, 0, three.stderr);
  assert.deepEqual(JSON.parse(three.stdout), JSON.parse(four.stdout));
});

Deno.test("cli decode dte: human view, no colour when piped", async () => {
  const r = await lab(["decode", "dte", ...REAL_DTE]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.includes("\x1b["), false, "no ANSI escapes on a pipe");
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "DTE (device table entry)");
  assert.equal(lines[1], "  6000003f9e2a0603 0000000000000010 2000003f9d4b2011 0000000000000000");
  const row = (name: string) => lines.find((l) => l.trim().split(/\s+/)[0] === name)?.trim();
  assert.match(row("Mode")!, /^Mode\s+3\s+q0\[11:9\]\s+3 levels \(512 GiB\)$/);
  assert.match(row("DomainID")!, /^DomainID\s+0x10\s+q1\[15:0\]/);
  assert.match(row("IntCtl")!, /^IntCtl\s+2\s+q2\[61:60\]\s+remapped$/);
  assert.match(row("InterruptTableRootPtr")!, /0x3f9d4b2000/);
  assert.match(r.stdout, /interrupt table:\s+256 entries/);
  assert.equal(r.stdout.includes("RESERVED"), false);
});

Deno.test("cli colours: FORCE_COLOR turns them on, NO_COLOR keeps them off", async () => {
  const forced = await lab(["decode", "pte", "0x6000000123400e01"], undefined, {
    FORCE_COLOR: "1",
  });
  assert.equal(forced.code, 0);
  assert.ok(forced.stdout.includes("\x1b["), "FORCE_COLOR gives ANSI escapes");
  const plain = await lab(["decode", "pte", "0x6000000123400e01"], undefined, { NO_COLOR: "1" });
  assert.equal(plain.stdout.includes("\x1b["), false);
  // Same text once escapes are stripped.
  assert.equal(stripAnsi(forced.stdout), plain.stdout);
});

Deno.test("cli decode dte: stdin with dmesg lines as the kernel prints them", async () => {
  const paste = [
    "[   12.034567] AMD-Vi: Event logged [ILLEGAL_DEV_TABLE_ENTRY device=05:00.0 address=0x0]",
    "[   12.034570] AMD-Vi: DTE[0]: 6000003f9e2a0603",
    "[   12.034571] AMD-Vi: DTE[1]: 0000000000000010",
    "[   12.034572] AMD-Vi: DTE[2]: 0x2000003f9d4b2011",
    "[   12.034573] AMD-Vi: DTE[3]: 0000000000000000",
    "",
  ].join("\n");
  const r = await lab(["decode", "dte", "--json"], paste);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.Mode, j.DomainID, j.IntTabLen, j.IntCtl], [3, 0x10, 8, 2]);
  assert.equal(j.PageTableRootPtr, "0x3f9e2a0000");
  // Plain words on stdin work too.
  const words = await lab(["decode", "dte", "--json"], REAL_DTE.join(" "));
  assert.deepEqual(JSON.parse(words.stdout), j);
});

Deno.test("cli decode dte: reserved bits are flagged (stdout) or warned about (--json)", async () => {
  const words = ["6000003f9e2a0607", "10", "2000003f9d4b2011"];
  const human = await lab(["decode", "dte", ...words]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /Rsvd0 !\s+0x1\s+q0\[8:2\]\s+RESERVED BITS SET/);
  assert.match(human.stdout, /! DTE: reserved bits set \(must be zero\): Rsvd0=0x1 q0\[8:2\]/);
  const json = await lab(["decode", "dte", "--json", ...words]);
  assert.equal(json.code, 0);
  assert.equal(JSON.parse(json.stdout).TV, 1);
  assert.equal(
    json.stderr.trim(),
    "kdump-lab: decode dte: warning: DTE: reserved bits set (must be zero): Rsvd0=0x1 q0[8:2]",
  );
});

Deno.test("cli decode event: fields and the Linux one-liner", async () => {
  const r = await lab(["decode", "event", ...FAULT]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^IO_PAGE_FAULT event \(code 0x2\)/);
  assert.ok(r.stdout.includes(`AMD-Vi: Event logged [${FAULT_LINE}]`), r.stdout);
  assert.match(r.stdout, /device:\s+05:00\.0 \(DeviceID 0x0500\)/);
  assert.match(r.stdout, /flags set:\s+PR RW PE/);
  const j = JSON.parse((await lab(["decode", "event", "--json", ...FAULT])).stdout);
  assert.deepEqual([j.DeviceID, j.DomainID, j.PR, j.RW, j.PE, j.EventCode], [
    0x500,
    0x12,
    1,
    1,
    1,
    2,
  ]);
  assert.equal(j.Address, "0xff6101b0");
  const q = await lab(["decode", "event", "2070001200000500", "00000000ff6101b0"]);
  assert.ok(q.stdout.includes(FAULT_LINE));
});

Deno.test("cli decode event: the lines the kernel prints, as arguments or on stdin", async () => {
  // dmesg as the model prints it (run --series all --dmesg): the dev_err form, timestamps.
  const dmesg = [
    "[    0.564364] bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0003 address=0x00000000fffba000 flags=0x0020]",
    "[    0.564365] pci 0000:00:00.2: something else",
    "[    0.600000] AMD-Vi: Event logged [",
    "[    0.600000] ILLEGAL_DEV_TABLE_ENTRY device=01:01.0 address=0x0000000000005000 flags=0x00a0]",
    "[    0.600001] AMD-Vi: DTE[0]: 0000000000000007",
    "",
  ].join("\n");
  const piped = await lab(["decode", "event", "--json"], dmesg);
  assert.equal(piped.code, 0, piped.stderr);
  const [fault, illegal] = JSON.parse(piped.stdout);
  assert.deepEqual([fault.DeviceID, fault.DomainID, fault.RW, fault.EventCode], [0x100, 3, 1, 2]);
  assert.equal(fault.Address, "0xfffba000");
  assert.deepEqual([illegal.DeviceID, illegal.RW, illegal.RZ, illegal.EventCode], [0x108, 1, 1, 1]);
  // One line as an argument (quoted or split by the shell) gives the same words.
  const one = await lab(["decode", "event", `AMD-Vi: Event logged [${FAULT_LINE}]`]);
  assert.equal(one.code, 0, one.stderr);
  assert.ok(one.stdout.includes(FAULT.map((d, i) => `event[${i}]=${d}`).join(" ")), one.stdout);
  const split = await lab([
    "decode",
    "event",
    "--json",
    ...`AMD-Vi: Event logged [${FAULT_LINE}]`.split(" "),
  ]);
  assert.deepEqual(
    JSON.parse(split.stdout),
    JSON.parse((await lab(["decode", "event", "--json", ...FAULT])).stdout),
  );
  // Dwords on stdin still work.
  const words = await lab(["decode", "event", "--json"], FAULT.join(" "));
  assert.equal(JSON.parse(words.stdout).DomainID, 0x12);
  // A DTE's dmesg lines as arguments.
  const dte = await lab([
    "decode",
    "dte",
    "--json",
    ...REAL_DTE.map((w, i) => `[   12.03457${i}] AMD-Vi: DTE[${i}]: ${w.padStart(16, "0")}`),
  ]);
  assert.equal(dte.code, 0, dte.stderr);
  assert.deepEqual(
    JSON.parse(dte.stdout),
    JSON.parse((await lab(["decode", "dte", "--json", ...REAL_DTE])).stdout),
  );
  // UNKNOWN type=0x09 (guest-translation's INVALID_PPR_REQUEST): one line, exit 2.
  const unknown = await lab(["decode", "event"], "AMD-Vi: Event logged [\nUNKNOWN type=0x09]\n");
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr.trim(),
    /^kdump-lab: decode event: event line 1: .*nothing more to decode/,
  );
});

Deno.test("cli decode --help: examples to paste, each of which decodes", async () => {
  const help = await lab(["decode", "event", "--help"]);
  assert.equal(help.code, 0);
  const examples = help.stdout.split("\n").filter((l) => /^\s+kdump-lab decode \w+ /.test(l));
  assert.ok(examples.length >= 5, help.stdout);
  for (const ex of examples) {
    const args = [...ex.trim().matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(1);
    const r = await lab(args);
    assert.equal(r.code, 0, `${ex}: ${r.stderr}`);
  }
});

Deno.test("cli decode pte / irte / control / devtab-base", async () => {
  const big = await lab([
    "decode",
    "pte",
    (0x4000_0000n | 0xff000n | (7n << 9n) | 1n).toString(16),
  ]);
  assert.equal(big.code, 0, big.stderr);
  assert.match(big.stdout, /^PTE \(page table entry\)/);
  assert.match(big.stdout, /page size:\s+2 MiB/);
  assert.match(big.stdout, /page base:\s+0x40000000/);

  const pde = JSON.parse((await lab(["decode", "pte", "--json", "0x6000000123456601"])).stdout);
  assert.deepEqual(pde, { PR: 1, A: 0, NextLevel: 3, Address: "0x123456000", IR: 1, IW: 1 });

  const irte = JSON.parse((await lab(["decode", "irte", "--json", "00410341"])).stdout);
  assert.deepEqual([irte.RemapEn, irte.DM, irte.Destination, irte.Vector], [1, 1, 3, 0x41]);
  const ga = JSON.parse(
    (await lab(["decode", "irte", "--ga", "--json", "0x0000123400000101", "0x0100000000000041"]))
      .stdout,
  );
  assert.deepEqual([ga.GATag, ga.Vector, Number(ga.Destination)], [0x1234, 0x41, 0x0100_0001]);

  const ctl = JSON.parse((await lab(["decode", "control", "--json", "0x31015"])).stdout);
  assert.deepEqual(
    [ctl.IommuEn, ctl.EventLogEn, ctl.ComWaitIntEn, ctl.CmdBufEn, ctl.GTEn, ctl.GAEn],
    [1, 1, 1, 1, 1, 1],
  );

  const dt = await lab(["decode", "devtab-base", "0x00000000abc001ff"]);
  assert.equal(dt.code, 0, dt.stderr);
  assert.match(dt.stdout, /DevTabBase\s+0xabc00000\s+q0\[51:12\]/);
  assert.match(dt.stdout, /table bytes:\s+2097152 \(2 MiB/);
  assert.match(dt.stdout, /entries:\s+65536/);
});

Deno.test("cli: bad input exits 2 with exactly one line on stderr and no stack", async () => {
  const cases: [string[], string | RegExp, string?][] = [
    [
      ["decode", "dte", "6000003f9e2a0603", "0x10", "0xZZ"],
      'kdump-lab: decode dte: word 2 "0xZZ" is not hexadecimal',
    ],
    [
      ["decode", "dte", "1", "2"],
      "kdump-lab: decode dte: expected 3 or 4 DTE words (W0 W1 W2 [W3]), got 2",
    ],
    [
      ["decode", "dte"],
      'kdump-lab: decode dte: DTE[2] "zz" is not hexadecimal',
      "AMD-Vi: DTE[0]: 1\nAMD-Vi: DTE[1]: 2\nAMD-Vi: DTE[2]: zz\n",
    ],
    [["decode", "dte"], "kdump-lab: decode dte: DTE[1] line is missing", "DTE[0]: 1\nDTE[2]: 3\n"],
    [
      ["decode", "event", "1", "2", "3"],
      'kdump-lab: decode event: expected 4 dwords (event[0]..event[3]), 2 qwords or a line "AMD-Vi: Event logged [...]", got 3 values',
    ],
    [
      ["decode", "event", "0x500", "0x120700012", "0", "0"],
      'kdump-lab: decode event: event[1] "0x120700012" does not fit in 32 bits',
    ],
    [["decode", "pte", "12g"], 'kdump-lab: decode pte: value "12g" is not hexadecimal'],
    [["decode", "irte", "1", "2"], /^kdump-lab: decode irte: expected one 32-bit value/],
    [["decode", "control", "0x"], 'kdump-lab: decode control: value "0x" is not hexadecimal'],
    [["decode", "pte"], "kdump-lab: decode pte: missing required argument 'value'"],
    [["decode", "pte", "1", "2"], /^kdump-lab: decode pte: too many arguments/],
    [["decode", "dte", "--bogus"], "kdump-lab: decode dte: unknown option '--bogus'"],
    [["frobnicate"], "kdump-lab: unknown command 'frobnicate'"],
    [["decode", "dtx", "1"], /^kdump-lab: decode: unknown command 'dtx' \(Did you mean dte\?\)$/],
  ];
  for (const [args, expected, stdin] of cases) {
    const r = await lab(args, stdin);
    const what = args.join(" ");
    assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.stderr})`);
    assert.equal(r.stdout, "", `${what}: nothing on stdout`);
    assert.ok(r.stderr.endsWith("\n"), what);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${what}: one line, got ${JSON.stringify(r.stderr)}`);
    assert.equal(/\bat .*:\d+:\d+/.test(r.stderr), false, `${what}: no stack trace`);
    if (typeof expected === "string") assert.equal(lines[0], expected, what);
    else assert.match(lines[0], expected, what);
  }
});

Deno.test("cli: --help exits 0; no command is a usage error (2)", async () => {
  const help = await lab(["decode", "--help"]);
  assert.equal(help.code, 0);
  for (const sub of ["dte", "event", "pte", "irte", "control", "devtab-base"]) {
    assert.match(help.stdout, new RegExp(`^  ${sub} `, "m"), sub);
  }
  const none = await lab([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: kdump-lab/);
});
