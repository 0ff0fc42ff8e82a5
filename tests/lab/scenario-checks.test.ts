/**
 * What no machine can be (runtime/lab/scenario-checks.ts, scenario-limits.ts): each cause the
 * scenario fuzzer found, reproduced from the default scenario with one change, is refused
 * with the path of the value and the reason — every problem of a file, one line each — and
 * the kernel's own allocation failures end in a verdict.
 */
import assert from "node:assert/strict";
import { InputError } from "../../runtime/lab/input.ts";
import { ReportSchema, VERDICTS } from "../../runtime/lab/report.ts";
import { run, simulate } from "../../runtime/lab/run.ts";
import { parseScenarioText } from "../../runtime/lab/scenario-source.ts";
import { ScenarioSchema } from "../../runtime/lab/scenario.ts";
import { EFR_FIELDS, SCENARIO_CHECKS, workEstimate } from "../../runtime/lab/scenario-checks.ts";
import { LIMITS, lineRate } from "../../runtime/lab/scenario-limits.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { GUEST_TRANSLATION } from "../../runtime/lab/scenarios/variants.ts";
import type { Bnx2Driver } from "../../runtime/kernel/drivers/bnx2.ts";
import type { Kernel } from "../../runtime/kernel/kernel.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

/** A scenario file's problems (the lines after `f: `) for `base` with one change. */
function problems(change: (s: Loose) => void, base: unknown = DEFAULT_SCENARIO): string[] {
  const s = structuredClone(base) as Loose;
  change(s);
  try {
    parseScenarioText(JSON.stringify(s), "json", "f");
  } catch (e) {
    assert.ok(e instanceof InputError, `an InputError, not ${e}`);
    for (const p of e.problems) assert.equal(p.includes("\n"), false, "one line per problem");
    return e.problems.map((p) => p.replace(/^f: /, ""));
  }
  assert.fail("the change must be refused");
}

/** The scenario with one change, which must be accepted. */
function accepted(change: (s: Loose) => void, base: unknown = DEFAULT_SCENARIO): Loose {
  const s = structuredClone(base) as Loose;
  change(s);
  const r = ScenarioSchema.safeParse(s);
  assert.ok(r.success, r.success ? "" : JSON.stringify(r.error.issues));
  return s;
}

Deno.test("every built-in scenario passes every check", () => {
  for (const [name, s] of Object.entries(SCENARIOS)) {
    const parsed = ScenarioSchema.parse(s);
    for (const c of SCENARIO_CHECKS) assert.deepEqual(c.check(parsed), [], `${name}: ${c.name}`);
  }
});

Deno.test("cause 1: a region of size 0, or one past 2^52, is refused at its size", () => {
  assert.deepEqual(problems((s) => (s.machine.memoryMap[1].size = 0)), [
    "machine.memoryMap[1].size: region memoryMap[1] (BIOS) of size 0",
  ]);
  assert.deepEqual(problems((s) => (s.machine.memoryMap[5].size = 2 ** 53)), [
    "machine.memoryMap[5].size: expected a non-negative integer, got 9007199254740992",
  ]);
  assert.deepEqual(problems((s) => (s.machine.memoryMap[5].size = "0x10000000000000")), [
    "machine.memoryMap[5].size: region memoryMap[5] (System RAM) 0x100000000–0x100000ffffffff " +
    "ends above 2^52 (AMD64 physical addresses have at most 52 bits)",
    "machine.memoryMap: 4096.0 TiB of RAM is more than 16 TiB (more RAM than any x86-64 server " +
    "has)",
  ]);
  assert.match(
    problems((s) => (s.machine.memoryMap[5].size = "0x400000000000000000"))[0],
    /^machine\.memoryMap\[5\]\.size: "0x4000+" is above 2\^53/,
  );
});

Deno.test("cause 2: frames above the port's line rate; at the line rate a run ends in a verdict", () => {
  // 1 GbE at 64-byte frames: 10^9 / ((64 + 20) * 8) = 1,488,095 frames/s.
  assert.equal(lineRate(1000, 64), 1_488_095);
  assert.deepEqual(
    problems((
      s,
    ) => (s.machine.devices[1].traffic = { framesPerSecond: 1_500_000, frameBytes: 64 })),
    [
      "machine.devices[1].traffic.framesPerSecond: 1500000 frames/s of 64 bytes is above the " +
      "1000 Mb/s line rate (1488095 frames/s: 1000·10^6 / ((64 + 20) · 8))",
    ],
  );
  assert.deepEqual(problems((s) => (s.machine.devices[1].traffic.linkMbps = 40000)), [
    "machine.devices[1].traffic.linkMbps: a bnx2 port runs at 10, 100, 1000, 2500, 10000 Mb/s, " +
    "not 40000",
  ]);
  // 1,000,000 frames/s (the fuzzer's case): a burst of interrupts during a NAPI poll used to
  // run a second poll inside the first, which unmapped one buffer twice (free_iova threw).
  const s = accepted((
    s,
  ) => (s.machine.devices[1].traffic = { framesPerSecond: 1e6, frameBytes: 64 }));
  s.firstKernel.uptimeMs = 40;
  const sim = simulate(s);
  assert.ok(VERDICTS.includes(sim.report.verdict));
  assert.ok(sim.report.stats.nicFrames > 30_000, `${sim.report.stats.nicFrames} frames`);
  // Mechanism: every RX slot of both ports still holds its own IOVA (none freed twice and
  // handed out again).
  const bnx2 = sim.kernel1!.drivers.find((d) => d.name === "bnx2") as Bnx2Driver;
  const iovas = [...bnx2.devs.values()].flatMap((bp) => bp.slots.map((x) => x.dma));
  assert.equal(new Set(iovas).size, iovas.length, "distinct IOVAs");
});

Deno.test("cause 3: two identical IOMMUs are refused (one address, one BDF, one device range)", () => {
  assert.deepEqual(problems((s) => s.machine.iommus.push(structuredClone(s.machine.iommus[0]))), [
    "machine.iommus[1].mmioBase: 0xfeb80000: two IOMMUs at one address (iommus[0] is at 0xfeb80000)",
    "machine.iommus[1].devices: covers devices iommus[0] covers too (a device sits behind one IOMMU)",
    "machine.iommus[1].devid: 00:00.2 is also iommus[0]'s PCI address",
  ]);
  assert.deepEqual(problems((s) => (s.machine.iommus[0].mmioBase = "0xfeb81000")), [
    "machine.iommus[0].mmioBase: 0xfeb81000 is not 16 KiB aligned (the IOMMU's MMIO window is " +
    "16 KiB, 16 KiB aligned)",
  ]);
});

Deno.test("cause 3: 50 NICs run to a verdict, each RX buffer with its own IOVA", () => {
  const s = accepted((s) => {
    for (let i = 0; i < 48; i++) {
      s.machine.devices.push({
        ...structuredClone(s.machine.devices[1]),
        bdf: `04:${(i >> 3).toString(16).padStart(2, "0")}.${i & 7}`,
        bar: `0x${(0xf1000000 + i * 0x10000).toString(16)}`,
      });
    }
  });
  s.firstKernel.uptimeMs = 20;
  const sim = simulate(s);
  assert.ok(VERDICTS.includes(sim.report.verdict));
  const k1 = sim.kernel1!;
  const bnx2 = k1.drivers.find((d) => d.name === "bnx2") as Bnx2Driver;
  assert.equal(bnx2.devs.size, 50);
  // Each IOMMU group has its own DMA domain (and IOVA space): distinct IOVAs within each.
  const byDomain = new Map<number, number[]>();
  for (const bp of bnx2.devs.values()) {
    const dom = k1.amd.dev_data.get(bp.dev.devid)!.domain!.id;
    byDomain.set(dom, [...(byDomain.get(dom) ?? []), ...bp.slots.map((x) => x.dma)]);
  }
  assert.equal(byDomain.size, 49, "the two ports of 01:00 share one domain");
  for (const [dom, iovas] of byDomain) {
    assert.equal(new Set(iovas).size, iovas.length, `distinct IOVAs in domain ${dom}`);
  }
});

Deno.test("cause 4: two devices with one BDF; a shared group naming no device", () => {
  assert.deepEqual(problems((s) => (s.machine.devices[2].bdf = "01:00.1")), [
    "machine.devices[2].bdf: 01:00.1 is also devices[1]'s PCI address",
  ]);
  assert.deepEqual(problems((s) => (s.machine.devices[2].bdf = "00:00.2")), [
    "machine.devices[2].bdf: 00:00.2 is also iommus[0]'s PCI address",
  ]);
  assert.deepEqual(problems((s) => (s.machine.sharedGroups = [["01:00.0", "09:00.0"]])), [
    "machine.sharedGroups[0][1]: no device 09:00.0",
  ]);
});

Deno.test("cause 5: panic.resetIommus naming an IOMMU that does not exist", () => {
  assert.deepEqual(
    problems((s) => (s.firstKernel.panic = { during: "fatal-error", resetIommus: [5] })),
    ["firstKernel.panic.resetIommus[0]: no IOMMU 5: the machine has 1 (index 0)"],
  );
});

Deno.test("cause 6: time fields beyond their bounds; at the bounds the Report validates", () => {
  assert.deepEqual(problems((s) => (s.second.serviceDelayMs = 1e308)), [
    "second.serviceDelayMs: at most 300,000 ms (5 simulated minutes keep a run bounded)",
  ]);
  const [uptime, work] = problems((s) => (s.firstKernel.uptimeMs = 1e6));
  assert.equal(
    uptime,
    "firstKernel.uptimeMs: at most 300,000 ms (5 simulated minutes keep a run bounded)",
  );
  // (Even at its bound, 300 s of port 1's 2000 frames/s is above the work budget.)
  assert.match(
    work,
    /^machine\.devices\[1\]\.traffic\.framesPerSecond: the run would simulate ~611,433 device operations \(NIC frames 606,000, /,
  );
  assert.deepEqual(
    problems((s) => {
      s.second.kexecDelayMs = 1e9;
      s.second.deadlineS = 601;
    }),
    [
      "second.kexecDelayMs: at most 60,000 ms (1 simulated minute keeps a run bounded)",
      "second.deadlineS: at most 600 s (10 simulated minutes keep a run bounded)",
    ],
  );
  // The longest waits the bounds allow: the run ends, and its numbers fit the Report schema.
  const s = accepted((s) => {
    s.second.serviceDelayMs = LIMITS.serviceDelayMs.value;
    s.second.kexecDelayMs = LIMITS.kexecDelayMs.value;
    s.second.deadlineS = LIMITS.deadlineS.value;
    s.machine.devices[0].driver.statsTicksUs = 10_000_000;
    s.machine.devices[1].driver.statsTicksUs = 10_000_000;
  });
  const r = run(s);
  assert.ok(ReportSchema.safeParse(JSON.parse(JSON.stringify(r))).success);
  assert.ok(r.timing.dumpStart >= r.timing.panic + (60_000 + 300_000) * 1e6, "the waits ran");
});

Deno.test("cause 7: a BAR not aligned to its size, outside the PCI windows, or over RAM", () => {
  assert.deepEqual(problems((s) => (s.machine.devices[2].bar = "0x1")), [
    "machine.devices[2].bar: 0x1 is not aligned to the BAR's size 0x1000 (a BAR is naturally " +
    "aligned)",
  ]);
  assert.deepEqual(problems((s) => (s.machine.devices[2].bar = "0x200000000")), [
    "machine.devices[2].bar: BAR 0x200000000–0x200000fff overlaps RAM: memoryMap[5] (System RAM)",
    "machine.devices[2].bar: BAR 0x200000000–0x200000fff is outside the PCI windows " +
    "(0xc0000000–0xfebfffff)",
  ]);
  assert.deepEqual(problems((s) => (s.machine.devices[2].bar = "0xf0010000")), [
    "machine.devices[2].bar: BAR 0xf0010000–0xf0010fff overlaps devices[1]'s BAR " +
    "0xf0010000–0xf0010fff",
  ]);
  assert.deepEqual(
    problems((s) => (s.machine.pciWindows[0] = { base: "0xb0000000", size: "0x4ec00000" })),
    [
      "machine.pciWindows[0]: PCI window 0xb0000000–0xfebfffff overlaps RAM: memoryMap[2] " +
      "(System RAM)",
    ],
  );
});

Deno.test("cause 8: an unknown EFR field, or a value wider than its field", () => {
  const [unknown] = problems((s) => (s.machine.iommus[0].efr.Bogus = 1));
  assert.equal(
    unknown,
    `machine.iommus[0].efr.Bogus: not an EFR field; the fields are ${EFR_FIELDS.join(", ")}`,
  );
  assert.ok(EFR_FIELDS.includes("PASMax") && !EFR_FIELDS.includes("Rsvd0"));
  assert.deepEqual(problems((s) => (s.machine.iommus[0].efr.HATS = 4)), [
    "machine.iommus[0].efr.HATS: 4 does not fit in the 2-bit field (at most 3)",
  ]);
});

Deno.test("cause 9: SVM devices with absurd page counts or rates", () => {
  assert.deepEqual(problems((s) => (s.machine.devices[3].driver.pages = 1e9), GUEST_TRANSLATION), [
    "machine.devices[3].driver.pages: 1000000000 pages from 0x7f0000000000 end above 2^47 " +
    "(x86-64 user addresses (4-level paging) end at 2^47)",
  ]);
  assert.deepEqual(
    problems((s) => (s.machine.devices[3].driver.resident = 65), GUEST_TRANSLATION),
    [
      "machine.devices[3].driver.resident: 65 resident pages in a buffer of 64",
    ],
  );
  const [rate] = problems((s) => {
    s.machine.devices[3].driver.pages = 1e6;
    s.machine.devices[3].driver.intervalUs = 1;
  }, GUEST_TRANSLATION);
  assert.match(
    rate,
    /^machine\.devices\[3\]\.driver\.intervalUs: the run would simulate ~121,6\d\d,\d+ device operations \(.*accelerator jobs 121,640,000.*\), above 200,000/,
  );
});

Deno.test("impossible memory maps and crashkernel placements", () => {
  assert.deepEqual(
    problems((s) =>
      s.machine.memoryMap.push({ base: "0x200000000", size: "4G", kind: "ram", name: "dup" })
    ),
    ["machine.memoryMap[6]: ram 0x200000000–0x2ffffffff overlaps memoryMap[5] (System RAM)"],
  );
  assert.deepEqual(
    problems((
      s,
    ) => (s.machine.memoryMap = s.machine.memoryMap.filter((r: Loose) => r.kind !== "ram"))),
    [
      "machine.memoryMap: no RAM: no region is of kind ram",
      "crashkernel[0].base: 0x28000000–0x37ffffff is not in RAM: it lies above all RAM (RAM " +
      "ends at 0x0)",
    ],
  );
  assert.deepEqual(problems((s) => (s.crashkernel[0].base = "0xd0000000")), [
    "crashkernel[0].base: 0xd0000000–0xdfffffff is not in RAM: it lies in memoryMap[4] (PCI " +
    "MMIO, a hole)",
  ]);
  assert.deepEqual(problems((s) => (s.crashkernel[0].base = "0x1000000000")), [
    "crashkernel[0].base: 0x1000000000–0x100fffffff is not in RAM: it lies above all RAM (RAM " +
    "ends at 0x440000000)",
  ]);
  assert.deepEqual(problems((s) => (s.crashkernel[0].base = "0x2000000")), [
    "crashkernel[0].base: 0x2000000–0x11ffffff overlaps the first kernel's image at " +
    "0x1000000–0x4ffffff",
  ]);
  assert.deepEqual(problems((s) => (s.crashkernel[0].size = "32M")), [
    "crashkernel[0].size: 0x2000000 bytes cannot hold the crash kernel: its image and early " +
    "allocations take 0x4000000",
  ]);
});

Deno.test("IOMMU device ranges given backwards", () => {
  assert.deepEqual(
    problems((s) => (s.machine.iommus[0].devices = [{ first: "07:1f.7", last: "00:00.0" }])),
    ["machine.iommus[0].devices[0]: given backwards: first 07:1f.7 is after last 00:00.0"],
  );
});

Deno.test("the work estimate: the default scenario is far below the budget", () => {
  const { total, parts } = workEstimate(ScenarioSchema.parse(DEFAULT_SCENARIO));
  assert.ok(total > 4_000 && total < 10_000, `${total}`);
  assert.ok(total < LIMITS.work.value / 20);
  // Port 1: 2000 frames/s for 100 ms before the panic.
  assert.deepEqual(parts[3].slice(0, 2), ["NIC frames", 200]);
});

Deno.test("-ENOMEM: a first kernel short of memory ends in a verdict, its failed allocations counted", () => {
  // 224 MiB of RAM; crashkernel=128M at 80 MiB leaves the first kernel 16 MiB: not enough
  // for port 0's 2040 jumbo buffers.
  const s = accepted((s) => {
    s.machine.memoryMap = [{ base: "0x0", size: "224M", kind: "ram", name: "System RAM" }];
    s.crashkernel = [{ base: "0x5000000", size: "128M" }];
  });
  const sim = simulate(s);
  assert.ok(VERDICTS.includes(sim.report.verdict));
  assert.ok((sim.kernel1 as Kernel).alloc.failures > 0, "allocations failed");
  // The accelerator's driver: no pages for the bound process → probe fails with -ENOMEM.
  const g = accepted((g) => {
    g.machine.memoryMap = [{ base: "0x0", size: "224M", kind: "ram", name: "System RAM" }];
    g.crashkernel = [{ base: "0x5000000", size: "128M" }];
    g.machine.devices[3].driver.pages = 50_000;
    g.machine.devices[3].driver.resident = 50_000;
  }, GUEST_TRANSLATION);
  const r = run(g);
  assert.ok(
    r.dmesg.some((l) => /cannot allocate the bound process's pages \(-ENOMEM\)/.test(l.text)),
  );
});

Deno.test("sme: a C-bit inside the memory map is refused at machine.memoryEncryption.cbit; above it, accepted", () => {
  assert.deepEqual(
    problems((s) => s.machine.memoryEncryption = { cbit: 32 }),
    [
      "machine.memoryEncryption.cbit: the C-bit (bit 32) lies inside the memory map, which reaches 0x440000000: it must be above every physical address",
    ],
  );
  assert.equal(
    accepted((s) => s.machine.memoryEncryption = { cbit: 47 }).machine.memoryEncryption.cbit,
    47,
  );
});
