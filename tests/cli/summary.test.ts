/**
 * The human summary of a report (runtime/cli/summary.ts), on hand-made reports: verdict tones,
 * which log lines count as key lines, how runs of repeated lines collapse, the stray-write and
 * dump sections, and that the wall-clock time appears only when given.
 */
import assert from "node:assert/strict";
import { VERDICTS } from "../../runtime/lab/report.ts";
import {
  collapseRuns,
  eventSummary,
  isKeyLine,
  keyDmesgLines,
  renderSummary,
  strayLine,
  verdictTone,
} from "../../runtime/cli/summary.ts";
import { fakeReport, line } from "../lab/report-kit.ts";
import { stripAnsi } from "./lab-kit.ts";

const plain = (lines: string[]) => lines.map(stripAnsi);

const stray = (i: number, kernel: "kernel1" | "kernel2" | "between" = "kernel2") => ({
  device: "01:00.1",
  address: `0x${(0xbf28b + i).toString(16)}000`,
  iova: `0x${(0x1000 + i).toString(16)}000`,
  owner: "kernel1:slab",
  time: 45_000_000 + 30_069_000 + i,
  kernel,
  how: "iommu-off",
});

Deno.test("verdictTone: dump-ok and boot-ok good, skipped neutral, the rest bad", () => {
  const tones = Object.fromEntries(VERDICTS.map((v) => [v, verdictTone(v)]));
  assert.deepEqual(tones, {
    "dump-ok": "good",
    "dump-corrupt": "bad",
    "dump-failed": "bad",
    hang: "bad",
    panic: "bad",
    "boot-ok": "good",
    "plugin-error": "bad",
    "plugin-timeout": "bad",
    "plugin-oom": "bad",
    skipped: "neutral",
  });
});

Deno.test("isKeyLine: warnings and worse, banners, IOMMU/panic/kdump/I/O lines", () => {
  const keys = [
    line("kernel1", 0, "Linux version 4.13.0-kdump-lab (gcc version 7.2.1) #1 SMP"),
    line("kernel2", 0, "AMD-Vi: Completion-Wait loop timed out", "alert"),
    line("kernel2", 0, "print_req_error: I/O error, dev nvme0n1, sector 8", "err"),
    line("kernel2", 0, "IO_PAGE_FAULT device=01:00.1 domain=0x0000]", "warn"),
    line("kernel2", 0, "kdump: saving vmcore complete"),
    line("kernel1", 0, "kexec: Starting crash kernel"),
  ];
  for (const k of keys) assert.equal(isKeyLine(k), true, k.text);
  const others = [
    line("kernel1", 0, "pci 0000:01:00.0: [1022:0000] type 00 class 0x020000"),
    line("kernel1", 0, "bnx2 0000:01:00.0: eth0: NIC Copper Link is Up, 1000 Mbps full duplex"),
    line("kernel2", 0, "Command line: BOOT_IMAGE=/vmlinuz-4.13.0 irqpoll", "notice"),
  ];
  for (const o of others) assert.equal(isKeyLine(o), false, o.text);
});

Deno.test("collapseRuns: 3+ alike lines collapse; 2 stay; ungrouped lines never merge", () => {
  const g = (text: string) => ({ group: text, line: `> ${text}` });
  assert.deepEqual(collapseRuns([g("a 1"), g("a 1"), g("a 1"), g("a 1"), g("b")]), [
    "> a 1",
    "(… 3 more)",
    "> b",
  ]);
  assert.deepEqual(collapseRuns([g("v 0x50"), g("v 0x49"), g("v 0x50")]), [
    "> v 0x50",
    "(… 2 more like it)",
  ]);
  assert.deepEqual(collapseRuns([g("x"), g("x"), g("y")]), ["> x", "> x", "> y"]);
  assert.deepEqual(collapseRuns([{ line: "--" }, { line: "--" }, { line: "--" }]), [
    "--",
    "--",
    "--",
  ]);
});

Deno.test("keyDmesgLines: filtered, collapsed, separated, and capped", () => {
  const r = fakeReport({
    dmesg: [
      line("kernel1", 0, "Linux version 4.13.0"),
      line("kernel1", 1_000, "pci 0000:01:00.0: [1022:0000] type 00 class 0x020000"),
      line("kernel1", 633_871_274, "Kernel panic - not syncing: Fatal exception", "emerg"),
      ...[50, 49, 50, 50].map((v, i) =>
        line("kernel2", 350_000 + i * 1000, `do_IRQ: 0.${v} No irq handler for vector`, "emerg")
      ),
      line("kernel2", 2_000_000_000, "kdump: saving vmcore complete"),
    ],
  });
  assert.deepEqual(plain(keyDmesgLines(r)), [
    "[    0.000000] Linux version 4.13.0",
    "[    0.633871] Kernel panic - not syncing: Fatal exception",
    "---- kexec: crash kernel ----",
    "[    0.000350] do_IRQ: 0.50 No irq handler for vector",
    "(… 3 more like it)",
    "[    2.000000] kdump: saving vmcore complete",
  ]);
  assert.deepEqual(plain(keyDmesgLines(r, 2)), [
    "[    0.000000] Linux version 4.13.0",
    "[    0.633871] Kernel panic - not syncing: Fatal exception",
    "(… 4 more; --dmesg prints the log)",
  ]);
});

Deno.test("strayLine and eventSummary: what, where, whose, how, when", () => {
  const r = fakeReport();
  assert.equal(
    strayLine(stray(0), r.timing),
    "01:00.1  IOVA 0x1000000 → 0xbf28b000  kernel1:slab  iommu-off  kernel2 [    0.030069]",
  );
  assert.match(strayLine(stray(0, "between"), r.timing), /\[ {4}0\.070069\] after the panic$/);
  assert.match(
    strayLine({ ...stray(0, "kernel1"), time: 2_500_000 }, r.timing),
    /kernel1 \[ {4}0\.002500\]$/,
  );
  assert.equal(eventSummary(r), "none logged; faultsSuppressed 0; faultsPrinted 0");
  const events = { ...r.events, IO_PAGE_FAULT: 3, ILLEGAL_DEV_TABLE_ENTRY: 1 };
  assert.equal(
    eventSummary(fakeReport({ events, eventsDropped: 2, faultsSuppressed: 4, faultsPrinted: 3 })),
    "ILLEGAL_DEV_TABLE_ENTRY 1, IO_PAGE_FAULT 3; dropped 2; faultsSuppressed 4; faultsPrinted 3",
  );
});

Deno.test("renderSummary: header, strays (5 + more), dump (3 examples), time only if given", () => {
  const r = fakeReport({
    series: ["amd-iommu-detect-pre-enabled", "amd-iommu-copy-old-dev-table"],
    verdict: "dump-corrupt",
    cause: "2 page(s) of the dump differ",
    strayWrites: Array.from({ length: 7 }, (_, i) => stray(i)),
    strayWriteCount: 9,
    dump: {
      result: "complete",
      pages: 855,
      pagesWritten: 850,
      badPages: 4,
      volatilePages: 455,
      examples: [0, 1, 2, 3].map((i) => ({
        pfn: `0xbf28${i}`,
        owner: "kernel1:slab",
        why: "written after the panic",
      })),
    },
    stats: { simulatedNs: 2_716_004_814 },
  });
  const out = plain(renderSummary(r, { elapsedMs: 84.4 }));
  assert.deepEqual(out.slice(0, 7), [
    "scenario  fake",
    "seed      3",
    "series    2 plugin(s): amd-iommu-detect-pre-enabled, amd-iommu-copy-old-dev-table",
    "verdict   dump-corrupt",
    "cause     2 page(s) of the dump differ",
    "iommu     none logged; faultsSuppressed 0; faultsPrinted 0",
    "stray DMA 9 write(s)",
  ]);
  assert.equal(out.filter((l) => l.includes("IOVA ")).length, 5);
  assert.equal(out[12], "          (… 4 more)");
  assert.equal(out[13], "dump      complete: 855 pages (850 written), 4 bad, 455 volatile");
  assert.deepEqual(out.slice(14, 17), [
    "          pfn 0xbf280 (kernel1:slab): written after the panic",
    "          pfn 0xbf281 (kernel1:slab): written after the panic",
    "          pfn 0xbf282 (kernel1:slab): written after the panic",
  ]);
  assert.equal(out.at(-1), "ran in 84 ms (simulated 2.716 s)");
  assert.equal(out.includes("kernel log (key lines)"), false, "no log, no log section");

  const bare = plain(renderSummary(fakeReport({ missing: [{ plugin: "p2", requires: "p1" }] })));
  assert.equal(bare[2], "series    none (4.13 baseline)");
  assert.equal(bare[3], "missing   p2 requires p1");
  assert.ok(bare.includes("stray DMA 0 write(s)"));
  assert.ok(bare.includes("dump      none"));
  assert.equal(bare.some((l) => l.startsWith("ran in")), false);
});
