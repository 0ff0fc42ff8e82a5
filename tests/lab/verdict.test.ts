/**
 * judgeRun (runtime/lab/verdict.ts): the verdict as a pure function of a run's outcome — each
 * verdict from the outcome that gives it, with its cause, and the stray writes appended.
 */
import assert from "node:assert/strict";
import { judgeRun, type RunOutcome } from "../../runtime/lab/verdict.ts";
import type { DumpCheck } from "../../runtime/lab/verify.ts";

const none: RunOutcome["strays"] = { count: 0 };
const complete = {
  result: "complete" as const,
  pages: 10,
  pagesWritten: 10,
  ioErrors: 0,
  ioTimeouts: 0,
};
const check = (over: Partial<DumpCheck> = {}): DumpCheck => ({
  readable: true,
  pages: 10,
  badPages: 0,
  volatilePages: 2,
  examples: [],
  ...over,
});

Deno.test("judgeRun: a complete capture whose pages all match is dump-ok", () => {
  const j = judgeRun({
    mode: "kdump",
    capture: complete,
    check: check(),
    disk: "02:00.0",
    strays: none,
  });
  assert.equal(j.verdict, "dump-ok");
  assert.equal(
    j.cause,
    "all 10 dumped pages match memory at the panic (2 DMA buffers their own device kept writing)",
  );
  assert.deepEqual(j.dump, {
    result: "complete",
    pages: 10,
    pagesWritten: 10,
    badPages: 0,
    volatilePages: 2,
    examples: [],
  });
});

Deno.test("judgeRun: bad pages or an unreadable header are dump-corrupt", () => {
  const ex = {
    pfn: "0xbf28b",
    owner: "kernel1:slab",
    why: "page was unused at the panic; written after it",
  };
  const bad = judgeRun({
    mode: "kdump",
    capture: complete,
    check: check({ badPages: 3, examples: [ex] }),
    strays: none,
  });
  assert.equal(bad.verdict, "dump-corrupt");
  assert.equal(
    bad.cause,
    `3 page(s) of the dump differ from memory at the panic; e.g. pfn 0xbf28b (kernel1:slab): ${ex.why}`,
  );
  assert.equal(bad.dump!.badPages, 3);
  const unreadable = judgeRun({
    mode: "kdump",
    capture: complete,
    check: check({ readable: false }),
    strays: none,
  });
  assert.deepEqual([unreadable.verdict, unreadable.cause], [
    "dump-corrupt",
    "the dump on disk has no readable header",
  ]);
});

Deno.test("judgeRun: a capture that times out hangs, one that fails or finds no disk is dump-failed", () => {
  const hang = judgeRun({
    mode: "kdump",
    capture: { ...complete, result: "timeout", pagesWritten: 0, ioTimeouts: 3 },
    disk: "02:00.0",
    strays: none,
  });
  assert.deepEqual([hang.verdict, hang.cause], [
    "hang",
    "the capture did not finish: 3 disk I/O timeouts (no completion from 02:00.0)",
  ]);
  assert.equal(hang.dump!.result, "timeout");
  const failed = judgeRun({
    mode: "kdump",
    capture: { ...complete, result: "failed", ioErrors: 9 },
    disk: "02:00.0",
    strays: none,
  });
  assert.equal(failed.verdict, "dump-failed");
  assert.match(failed.cause, /after 9 disk I\/O errors from 02:00\.0/);
  const noDisk = judgeRun({ mode: "kdump", strays: none });
  assert.deepEqual([noDisk.verdict, noDisk.dump], ["dump-failed", undefined]);
});

Deno.test("judgeRun: a panic or a plugin error ends the run whatever the capture; a kexec reboot that gets there is boot-ok", () => {
  const panic = judgeRun({
    mode: "kdump",
    failure: {
      kind: "panic",
      kernel: "second",
      reason: "timer doesn't work through Interrupt-remapped IO-APIC",
    },
    capture: complete,
    strays: {
      count: 2,
      first: { device: "01:00.1", address: "0x1000", owner: "kernel1:slab", how: "iommu-off" },
    },
  });
  assert.equal(panic.verdict, "panic");
  assert.equal(
    panic.cause,
    "the second kernel panicked: timer doesn't work through Interrupt-remapped IO-APIC; 2 stray DMA write(s), first from 01:00.1 to 0x1000 (kernel1:slab, iommu-off)",
  );
  assert.equal(panic.dump, undefined);
  const err = judgeRun({
    mode: "kdump",
    failure: { kind: "plugin-error", plugin: "p", hook: "h", message: "boom" },
    strays: { count: 5, first: { device: "a", address: "b", owner: "c", how: "d" } },
  });
  assert.deepEqual(err, {
    verdict: "plugin-error",
    cause: "plugin p failed at h: boom",
    pluginError: { plugin: "p", hook: "h", message: "boom" },
  }, "no stray note on a plugin error");
  assert.equal(judgeRun({ mode: "kexec", strays: none }).verdict, "boot-ok");
});
