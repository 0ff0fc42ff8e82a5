/**
 * The console view of a report's kernel log (runtime/lab/console.ts): `[%5lu.%06lu] text`,
 * kernel-relative times truncated to microseconds, and the kexec separator between kernels.
 */
import assert from "node:assert/strict";
import {
  consoleLine,
  consoleLog,
  consoleTimestamp,
  kexecSeparator,
} from "../../runtime/lab/console.ts";
import { fakeReport, line } from "./report-kit.ts";

Deno.test("consoleTimestamp: seconds padded to 5, microseconds truncated to 6 digits", () => {
  assert.equal(consoleTimestamp(0), "[    0.000000]");
  assert.equal(consoleTimestamp(431_069_744), "[    0.431069]");
  assert.equal(consoleTimestamp(350_548.78), "[    0.000350]");
  assert.equal(consoleTimestamp(1_234_567_999), "[    1.234567]");
  assert.equal(consoleTimestamp(123_456 * 1e9 + 7_000), "[123456.000007]");
});

Deno.test("consoleLog: both kernels with the crash-kernel separator between them", () => {
  const r = fakeReport({
    dmesg: [
      line("kernel1", 0, "Linux version 4.13.0"),
      line("kernel1", 633_871_274, "Kernel panic - not syncing: Fatal exception", "emerg"),
      line("kernel2", 0, "Linux version 4.13.0"),
      line("kernel2", 2_031_089_000, "kdump: saving to /dev/nvme0n1"),
    ],
  });
  assert.deepEqual(consoleLog(r), [
    "[    0.000000] Linux version 4.13.0",
    "[    0.633871] Kernel panic - not syncing: Fatal exception",
    "---- kexec: crash kernel ----",
    "[    0.000000] Linux version 4.13.0",
    "[    2.031089] kdump: saving to /dev/nvme0n1",
  ]);
  assert.equal(consoleLine(r.dmesg[3]), "[    2.031089] kdump: saving to /dev/nvme0n1");
});

Deno.test("kexecSeparator: a plain kexec reboot starts a new kernel, not a crash kernel", () => {
  const reboot = fakeReport({ timeline: [{ t: 1, kind: "stage", text: "kexec reboot" }] });
  assert.equal(kexecSeparator(reboot), "---- kexec: new kernel ----");
  assert.equal(kexecSeparator(fakeReport()), "---- kexec: crash kernel ----");
  // No second kernel, no separator.
  assert.deepEqual(consoleLog(fakeReport({ dmesg: [line("kernel1", 1000, "x")] })), [
    "[    0.000001] x",
  ]);
});
