/**
 * The "Fix kdump faults" series on the default scenario: the full series (with 4.13's bnx2, which
 * waits for in-flight DMA at probe, and with the older bnx2 that does not), each patch left out,
 * reordering, replacing a patch, and a failing plugin — each
 * outcome checked together with the mechanism behind it (which register write, which DTE,
 * which address).
 *
 * Some tests add a probe plugin that only reads (the hardware's view of a DTE, a NIC register)
 * at hook points; the first test checks that a probed run is byte-identical to an unprobed one.
 */
import assert from "node:assert/strict";
import { SERIES_IDS } from "../../plugins/series/mod.ts";
import { walkHost } from "../../runtime/hw/iommu/walk.ts";
import { DTE, DTE_BYTES } from "../../runtime/hw/layouts/dte.ts";
import { PAGE_SIZE } from "../../runtime/hw/memory.ts";
import { type Nic, NIC_CTRL, NIC_REG, NIC_STATUS } from "../../runtime/hw/pci/nic.ts";
import { readDteWords } from "../../runtime/kernel/amd_iommu/domain.ts";
import type { Bnx2Driver } from "../../runtime/kernel/drivers/bnx2.ts";
import { type Kernel, machineOf } from "../../runtime/kernel/kernel.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import type { Report } from "../../runtime/lab/report.ts";
import { type RunOptions, simulateLab } from "../../runtime/lab/run.ts";
import { DEFAULT_SCENARIO } from "../../runtime/lab/scenarios/default.ts";
import { definePlugin, hookPoint, type Series } from "../../runtime/plugin/mod.ts";

const NIC0 = 0x100, NIC1 = 0x101, DISK = 0x200;
const FOUR_GIB = 2 ** 32;
const COPY_TRY = "Translation is already enabled - trying to copy translation structures";
const COPIED = "Copied DEV table from previous kernel.";
const COPY_FAILED = "Failed to copy DEV table from previous kernel.";

// ---- helpers ----------------------------------------------------------------------------------

/** What a DTE says, as the IOMMU would read it. */
interface DteView {
  V: number;
  TV: number;
  SA: number;
  IR: number;
  IW: number;
  domain: number;
  root: number;
}

function dteView(w: Uint32Array): DteView {
  return {
    V: DTE.get(w, "V"),
    TV: DTE.get(w, "TV"),
    SA: DTE.get(w, "SA"),
    IR: DTE.get(w, "IR"),
    IW: DTE.get(w, "IW"),
    domain: DTE.get(w, "DomainID"),
    root: DTE.get(w, "PageTableRootPtr") * PAGE_SIZE,
  };
}

const hwDte = (k: Kernel, devid: number) => dteView(machineOf(k).iommus[0].peekDte(devid));

/** What the probe saw. */
type ProbeEntry =
  | {
    at: "set_dte_entry";
    kernel: string;
    t: number;
    devid: number;
    /** Inside get_domain(): the deferred attach, on a driver's DMA-API call. */
    inGetDomain: boolean;
    before: DteView;
    after: DteView;
  }
  | {
    at: "bnx2_init_one";
    kernel: string;
    t: number;
    devid: number;
    ctrl: number;
    status: number;
    dte: DteView;
  };

/**
 * A read-only probe: the hardware's view of a DTE around every set_dte_entry(), and the NIC's
 * registers and DTE at bnx2_init_one (after the plugins before it in the series ran).
 */
function probe() {
  const log: ProbeEntry[] = [];
  let inGetDomain = 0;
  const plugin = definePlugin({
    id: "test-probe",
    title: "test: read-only probe of DTEs and NIC registers",
    hooks: {
      "amd_iommu.get_domain": (_ctx, next) => {
        inGetDomain++;
        try {
          return next();
        } finally {
          inGetDomain--;
        }
      },
      "amd_iommu.set_dte_entry": ({ k, devid }, next) => {
        const before = hwDte(k, devid);
        next();
        log.push({
          at: "set_dte_entry",
          kernel: k.id,
          t: machineOf(k).clock.now,
          devid,
          inGetDomain: inGetDomain > 0,
          before,
          after: hwDte(k, devid),
        });
      },
      "bnx2.bnx2_init_one": ({ k, dev }) => {
        const nic = machineOf(k).devices.get(dev.devid) as Nic;
        log.push({
          at: "bnx2_init_one",
          kernel: k.id,
          t: machineOf(k).clock.now,
          devid: dev.devid,
          ctrl: nic.read32(NIC_REG.CTRL),
          status: nic.read32(NIC_REG.STATUS),
          dte: hwDte(k, dev.devid),
        });
      },
    },
  });
  const attach = (devid: number) =>
    log.filter((e) =>
      e.at === "set_dte_entry" && e.kernel === "kernel2" && e.devid === devid
    ) as Extract<ProbeEntry, { at: "set_dte_entry" }>[];
  const atProbe = (devid: number) =>
    log.find((e) => e.at === "bnx2_init_one" && e.kernel === "kernel2" && e.devid === devid) as
      | Extract<ProbeEntry, { at: "bnx2_init_one" }>
      | undefined;
  return { plugin, log, attach, atProbe };
}

/** A series from a spec, minus some ids. */
function series(spec: string, ...without: string[]): Series {
  const s = seriesFromSpec(spec);
  for (const id of without) s.remove(id);
  return s;
}

// The tests' probes read the machine (instrumentation): they are run as instrumented plugins.
const run = (s: Series, opts: Omit<RunOptions, "series"> = {}) =>
  simulateLab(DEFAULT_SCENARIO, { ...opts, series: s, instrumented: s.resolve().plugins });

/**
 * The report without the list of applied plugins and the version banner that follows from it
 * (for "same run, other series" checks).
 */
const sansSeries = (r: Report) =>
  JSON.stringify({
    ...r,
    series: [],
    dmesg: r.dmesg.filter((l) => !l.text.startsWith("Linux version ")),
  });
/** Whether two reports describe the same run (without printing both on failure). */
const sameRun = (a: Report, b: Report) => sansSeries(a) === sansSeries(b);
/** What a run came to: verdict, IOMMU events, faults, stray writes, the dump. */
const outcome = (r: Report) =>
  JSON.stringify([
    r.verdict,
    r.events,
    r.faultsPrinted,
    r.faultsSuppressed,
    r.strayWrites,
    r.dump,
  ]);

/** Writes to one IOMMU register in a kernel's part of the timeline: [time, value]. */
function regWrites(r: Report, kernel: string, reg: string, half = "[31:0]"): [number, number][] {
  const head = `IOMMU 0 ${reg}${half} <= `;
  return r.timeline
    .filter((t) => t.kind === "mmio" && t.kernel === kernel && t.text.startsWith(head))
    .map((t) => [t.t, parseInt(t.text.slice(head.length), 16)]);
}

/** kernel2's dmesg texts. */
const k2lines = (r: Report) => r.dmesg.filter((l) => l.kernel === "kernel2").map((l) => l.text);

/** Absolute time of the first kernel2 line containing `text`. */
function k2lineAt(r: Report, text: string): number {
  const l = r.dmesg.find((l) => l.kernel === "kernel2" && l.text.includes(text));
  assert.ok(l, `kernel2 printed "${text}"`);
  return r.timing.kernel2Start + l.time;
}

/** The time of a stage entry of the timeline. */
function stageAt(r: Report, name: string): number {
  const s = r.timeline.find((t) => t.kind === "stage" && t.text === name);
  assert.ok(s, `stage ${name}`);
  return s.t;
}

const bnx2 = (k: Kernel) => k.drivers.find((d) => d.name === "bnx2") as Bnx2Driver;
const domainOf = (k: Kernel, devid: number) => k.amd.dev_data.get(devid)!.domain!;

/** kernel2's DMA faults, with the IOVA and direction parsed. */
function k2faults(r: Report) {
  return r.timeline.filter((t) => t.kind === "dma-fault" && t.kernel === "kernel2").map((t) => ({
    t: t.t,
    device: t.device!,
    write: t.text.startsWith("write"),
    iova: parseInt(/^(?:read|write) (0x[0-9a-f]+)/.exec(t.text)![1], 16),
    text: t.text,
  }));
}

// ---- the full series ---------------------------------------------------------------------------

const FULL = run(seriesFromSpec("all"));

Deno.test("full series (4.14): the dump is clean because translation never stops and bnx2's kdump wait stops the NIC right after its deferred attach", () => {
  const p = probe();
  const sim = run(seriesFromSpec("all").insert(p.plugin));
  const r = sim.report, k1 = sim.kernel1!, k2 = sim.kernel2!;
  assert.ok(sameRun(r, FULL.report), "the probe changes nothing");

  // Outcome.
  assert.equal(r.verdict, "dump-ok");
  assert.deepEqual(r.missing, []);
  assert.equal(r.events.IO_PAGE_FAULT, 0);
  assert.equal(r.faultsPrinted, 0);
  assert.equal(r.faultsSuppressed, 0);
  assert.equal(r.strayWriteCount, 0);
  assert.equal(r.dump!.badPages, 0);
  assert.equal(k2faults(r).length, 0);

  // The kdump kernel copied the old device table...
  const lines = k2lines(r);
  const iTry = lines.indexOf(COPY_TRY), iCopied = lines.indexOf(COPIED);
  assert.ok(iTry >= 0 && iCopied > iTry, "tried, then copied");
  assert.ok(!lines.includes(COPY_FAILED));

  // ...without ever turning translation off: every control write kept IommuEn = 1, including
  // the ones that re-programmed the command buffer and event log around the table switch.
  const ctl = regWrites(r, "kernel2", "control");
  assert.ok(ctl.length > 0);
  for (const [, v] of ctl) assert.equal(v & 1, 1, "IommuEn stays 1");
  assert.ok(
    ctl.some(([, v]) => (v & (1 << 12)) === 0),
    "CmdBufEn was cleared (new command buffer)",
  );
  // The Device Table Base was rewritten once, to the copy, as two 32-bit halves with an
  // unchanged (zero) high half: the copy is below 4 GiB.
  const copy = k2.amd.dev_table;
  const size = k2.amd.dev_table_size;
  assert.deepEqual(regWrites(r, "kernel2", "devtab-base").map(([, v]) => v), [
    copy + size / PAGE_SIZE - 1,
  ]);
  assert.deepEqual(regWrites(r, "kernel2", "devtab-base", "[63:32]").map(([, v]) => v), [0]);
  const [devtabT] = regWrites(r, "kernel2", "devtab-base")[0];
  assert.ok(ctl.some(([t]) => t < devtabT) && ctl.some(([t]) => t > devtabT));
  assert.equal(sim.machine.iommus[0].control("IommuEn"), 1);
  assert.equal(sim.machine.iommus[0].deviceTable()[0], copy, "the IOMMU reads the copy");
  assert.ok(copy < FOUR_GIB);
  assert.notEqual(copy, k1.amd.dev_table);
  assert.deepEqual(
    sim.machine.mem.ownerOf(copy),
    sim.machine.mem.ownerOf(copy + size - 1),
    "one allocation of the kdump kernel",
  );
  assert.equal(sim.machine.mem.ownerOf(copy).who, "kernel2");
  // An entry nobody rewrote is still the crashed kernel's, word for word.
  const unused = 0x300;
  const oldW = readDteWords(k1.amd, unused), nowW = new Uint32Array(8);
  sim.machine.mem.readDwords(copy + unused * DTE_BYTES, 8, nowW);
  assert.ok(oldW.some((x) => x !== 0));
  assert.deepEqual([...nowW], [...oldW]);

  // The NIC's copied DTE kept the crashed kernel's domain and page table until bnx2's first
  // DMA-API call (inside bnx2_init_board) attached it — the deferred attach, in get_domain().
  const oldDom = domainOf(k1, NIC0), newDom = domainOf(k2, NIC0);
  for (const devid of [NIC0, NIC1]) {
    const [a, ...more] = p.attach(devid);
    assert.equal(more.length, 0, "attached once in kernel2, no attach at IOMMU init");
    assert.ok(a.inGetDomain, "deferred to the driver's DMA-API call");
    assert.ok(a.t > stageAt(r, "kernel2: drivers"));
    assert.deepEqual(
      [a.before.V, a.before.TV, a.before.IR, a.before.IW, a.before.domain, a.before.root],
      [1, 1, 1, 1, oldDom.id, oldDom.pt_root],
    );
    assert.deepEqual([a.after.domain, a.after.root], [newDom.id, newDom.pt_root]);
    // bnx2's kdump wait ran right after: at the end of bnx2_init_one the chip's DMA is stopped.
    const at = p.atProbe(devid)!;
    assert.ok(at.t > a.t);
    assert.equal(at.ctrl & NIC_CTRL.ENABLE, 0, "DMA_STOP cleared ENABLE");
    assert.equal(at.status & (NIC_STATUS.ACTIVE | NIC_STATUS.PENDING), 0, "and it drained");
  }
  // The disk's attach was deferred the same way.
  assert.ok(p.attach(DISK).length === 1 && p.attach(DISK)[0].inGetDomain);

  // Until then the NICs' DMA went through the old tables into their own old buffers.
  const nicPages = [...sim.recorder.afterPanic.values()].filter((w) =>
    w.writers.has(NIC0) || w.writers.has(NIC1)
  );
  assert.ok(nicPages.length > 0);
  assert.ok(nicPages.every((w) => w.legit), "every page a NIC wrote after the panic was its own");

  // Old domain IDs are reserved in the kdump kernel, new domains get fresh ones.
  const oldIds = k1.amd.domains.map((d) => d.id), newIds = k2.amd.domains.map((d) => d.id);
  assert.deepEqual(oldIds, [1, 2]);
  for (const id of oldIds) assert.equal(k2.amd.pd_alloc_bitmap[id], 1);
  assert.ok(newIds.every((id) => !oldIds.includes(id)), `${newIds} vs ${oldIds}`);
  assert.ok(newDom.id !== oldDom.id);

  // The chips were stopped with DMA_STOP, not reset: the only reset is kernel1's bnx2_open.
  for (const nic of sim.built.nics) {
    assert.equal(nic.counters.resets, 1);
    assert.equal(nic.read32(NIC_REG.CTRL) & NIC_CTRL.ENABLE, 0);
  }
});

Deno.test("full series with the older bnx2 (no kdump wait): after the deferred attach the NIC's old IOVAs fault in the new domain, and the kdump kernel prints them", () => {
  const p = probe();
  const sim = run(seriesFromSpec("all,bnx2-no-kdump-wait").insert(p.plugin));
  const r = sim.report, k1 = sim.kernel1!, k2 = sim.kernel2!;
  assert.equal(r.verdict, "dump-ok", "the faults abort the NIC's DMA; the dump itself is fine");
  assert.equal(r.strayWriteCount, 0);
  assert.ok(r.events.IO_PAGE_FAULT > 0);
  assert.equal(r.faultsSuppressed, 0, "no SA: faults are reported");
  assert.ok(r.faultsPrinted > 0 && r.faultsPrinted <= r.events.IO_PAGE_FAULT);

  const faults = k2faults(r);
  assert.equal(faults.length, r.events.IO_PAGE_FAULT, "every aborted DMA was logged");
  const newDom = domainOf(k2, NIC0), oldDom = domainOf(k1, NIC0);
  assert.equal(domainOf(k2, NIC1), newDom, "one group, one domain");
  const oldDrv = bnx2(k1);
  for (const f of faults) {
    assert.ok(f.device === "01:00.0" || f.device === "01:00.1", f.device);
    const devid = f.device === "01:00.0" ? NIC0 : NIC1;
    assert.match(f.text, /IO_PAGE_FAULT logged$/);
    // After this device's deferred attach...
    const [a] = p.attach(devid);
    assert.ok(f.t > a.t, "the old DTE translated these IOVAs until the attach");
    // ...to an IOVA the first kernel's driver gave the chip,
    const bp = oldDrv.devs.get(devid)!;
    const old = [
      [bp.blk!.dma, PAGE_SIZE],
      [bp.ring!.dma, bp.p.rxRingSize * 16],
      ...bp.slots.map((s) => [s.dma, bp.p.rxBufBytes]),
    ];
    assert.ok(old.some(([lo, n]) => f.iova >= lo && f.iova < lo + n), `0x${f.iova.toString(16)}`);
    // which the old page table maps and the new domain's does not.
    const was = walkHost(sim.machine.mem, oldDom.pt_root, oldDom.mode, f.iova, f.write);
    const now = walkHost(sim.machine.mem, newDom.pt_root, newDom.mode, f.iova, f.write);
    assert.ok(was.ok, "mapped in the crashed kernel's table");
    assert.ok(!now.ok && now.fault.kind === "IO_PAGE_FAULT", "not in the kdump kernel's");
  }
  // The NIC's DTE now points at the new domain.
  const dte = hwDte(k2, NIC0);
  assert.deepEqual([dte.domain, dte.root], [newDom.id, newDom.pt_root]);
  // The kdump kernel printed them with the NIC's device prefix and the new domain ID.
  const printed = r.dmesg.filter((l) => l.kernel === "kernel2" && l.text.includes("IO_PAGE_FAULT"));
  assert.equal(printed.length, r.faultsPrinted);
  for (const l of printed) {
    assert.match(
      l.text,
      /^bnx2 0000:01:00\.[01]: AMD-Vi: Event logged \[IO_PAGE_FAULT domain=0x([0-9a-f]{4}) address=0x[0-9a-f]{16} flags=0x[0-9a-f]{4}\]$/,
    );
    assert.equal(parseInt(/domain=0x([0-9a-f]{4})/.exec(l.text)![1], 16), newDom.id);
  }
  // Without the reset the chips are still running at the end.
  for (const nic of sim.built.nics) {
    assert.equal(nic.read32(NIC_REG.CTRL) & NIC_CTRL.ENABLE, NIC_CTRL.ENABLE);
  }
  assert.equal(p.atProbe(NIC0)!.ctrl & NIC_CTRL.ENABLE, NIC_CTRL.ENABLE);
});

// ---- each patch left out ------------------------------------------------------------------------

/** The dependencies left unmet when each patch is left out of `all`. */
const WOULD_NOT_BUILD: Record<string, [string, string][]> = {
  "detect-pre-enabled": [
    ["copy-dev-tables", "detect-pre-enabled"],
    ["copy-old-trans-table", "detect-pre-enabled"],
    ["amd-use-attach-deferred", "detect-pre-enabled"],
    ["drop-gcr3-root", "detect-pre-enabled"],
    ["disable-only-if-off", "detect-pre-enabled"],
  ],
  "helper-functions": [["copy-old-trans-table", "helper-functions"]],
  "dte-bit-fields": [
    ["copy-dev-tables", "dte-bit-fields"],
    ["sanity-check-old-dte", "dte-bit-fields"],
    ["drop-gcr3-root", "dte-bit-fields"],
  ],
  "copy-dev-tables": [
    ["copy-old-trans-table", "copy-dev-tables"],
    ["sanity-check-old-dte", "copy-dev-tables"],
    ["sanity-check-old-dte", "hook:amd_iommu.copy_device_table.entries"],
    ["dev-table-below-4g", "copy-dev-tables"],
    ["dev-table-below-4g", "hook:amd_iommu.copy_device_table.old_table"],
    ["drop-gcr3-root", "copy-dev-tables"],
    ["drop-gcr3-root", "hook:amd_iommu.copy_device_table.entries"],
  ],
  "sanity-check-old-dte": [["drop-gcr3-root", "sanity-check-old-dte"]],
  "iommu-is-attach-deferred": [
    ["amd-use-attach-deferred", "iommu-is-attach-deferred"],
    ["amd-use-attach-deferred", "hook:iommu_ops.is_attach_deferred"],
  ],
  "amd-use-attach-deferred": [["drop-gcr3-root", "amd-use-attach-deferred"]],
};

/** Runs of `all` minus one patch (not forced), by id. */
const LEFT_OUT = new Map(
  SERIES_IDS.map((id) => [id, run(series("all", id))] as const),
);

Deno.test("each patch left out: patches others build on make the series 'skipped', naming what is missing", () => {
  for (const [id, missing] of Object.entries(WOULD_NOT_BUILD)) {
    const sim = LEFT_OUT.get(id)!;
    const r = sim.report;
    assert.equal(r.verdict, "skipped", id);
    assert.deepEqual(r.missing, missing.map(([plugin, requires]) => ({ plugin, requires })), id);
    assert.ok(!r.series.includes(id));
    assert.match(r.cause, /^would not build: /);
    for (const [plugin, requires] of missing) {
      assert.ok(r.cause.includes(`${plugin} requires ${requires}`), r.cause);
    }
    // Nothing ran.
    assert.equal(sim.kernel1, undefined);
    assert.deepEqual([r.dmesg.length, r.timeline.length, r.strayWriteCount], [0, 0, 0]);
  }
  // Forcing one of them runs it: the missing symbol is then a link error, attributed.
  const forced = run(series("all", "helper-functions"), { force: true }).report;
  assert.equal(forced.verdict, "plugin-error");
  assert.deepEqual(forced.pluginError, {
    plugin: "copy-old-trans-table",
    hook: "amd_iommu.early_enable_iommus",
    message: "undefined symbol early_enable_iommu (no applied plugin provides it)",
  });
  assert.deepEqual(forced.missing, [{
    plugin: "copy-old-trans-table",
    requires: "helper-functions",
  }]);
});

Deno.test("each patch left out: the runnable ones — verdicts and what changed", () => {
  const runnable = SERIES_IDS.filter((id) => !(id in WOULD_NOT_BUILD));
  assert.deepEqual(runnable, [
    "revert-suppress-io-page-faults",
    "copy-old-trans-table",
    "dev-table-below-4g",
    "drop-gcr3-root",
    "disable-only-if-off",
  ]);
  const verdict = (id: string) => LEFT_OUT.get(id)!.report.verdict;
  for (const id of runnable) assert.deepEqual(LEFT_OUT.get(id)!.report.missing, [], id);

  // Patches whose absence changes no outcome on this machine, and why.
  for (const id of ["revert-suppress-io-page-faults", "dev-table-below-4g", "drop-gcr3-root"]) {
    assert.equal(verdict(id), "dump-ok", id);
    assert.equal(outcome(LEFT_OUT.get(id)!.report), outcome(FULL.report), id);
  }
  //  - dev-table-below-4g: the first kernel (same build) put its table above 4 GiB, and the
  //    kdump kernel, no longer refusing such an old table, copied it; the copy still landed
  //    below 4 GiB because all of the crash kernel's memory is. Rewriting the register moved
  //    its high half from 4 to 0 while translation was on: for the time between the two
  //    32-bit writes the IOMMU pointed at 0x4_xxxxxxxx. No DMA fell into that window here.
  const below = LEFT_OUT.get("dev-table-below-4g")!;
  const bk1 = below.kernel1!, bk2 = below.kernel2!;
  assert.ok(bk1.amd.dev_table >= FOUR_GIB && FULL.kernel1!.amd.dev_table < FOUR_GIB);
  assert.ok(below.built.usable2.every((r) => r.base + r.size <= FOUR_GIB));
  assert.ok(bk2.amd.dev_table < FOUR_GIB);
  assert.ok(k2lines(below.report).includes(COPIED));
  const hi1 = regWrites(below.report, "kernel1", "devtab-base", "[63:32]");
  const lo2 = regWrites(below.report, "kernel2", "devtab-base");
  const hi2 = regWrites(below.report, "kernel2", "devtab-base", "[63:32]");
  assert.deepEqual([hi1.map(([, v]) => v), hi2.map(([, v]) => v)], [[4], [0]]);
  assert.ok(hi2[0][0] > lo2[0][0], "low half first: a torn window");
  assert.ok(regWrites(below.report, "kernel2", "control").every(([, v]) => v & 1));
  assert.equal(below.report.events.DEV_TAB_HARDWARE_ERROR, 0);
  assert.equal(below.report.events.ILLEGAL_DEV_TABLE_ENTRY, 0);
  //  - drop-gcr3-root: no device had guest translation (GV) in the crashed kernel, so the run
  //    is the very same.
  assert.ok(sameRun(LEFT_OUT.get("drop-gcr3-root")!.report, FULL.report));
  const k1 = FULL.kernel1!;
  for (let devid = 0; devid <= k1.amd.last_bdf; devid++) {
    if (DTE.get(readDteWords(k1.amd, devid), "GV")) assert.fail(`DTE ${devid} has GV`);
  }
  //  - revert-suppress-io-page-faults: bnx2 stops its chip at probe, so nothing faults and SA
  //    has nothing to suppress (with the older bnx2: a test below); setting it costs CPU time.
  assert.ok(!sameRun(LEFT_OUT.get("revert-suppress-io-page-faults")!.report, FULL.report));

  // copy-old-trans-table left out: nobody calls copy_device_table(), so early_enable_iommus is
  // the old loop (helper-functions): IOMMU off, fresh zeroed table, on again. In between and
  // until the iommu core runs, the NIC's DMA passes a V=0 DTE untranslated into kernel1 memory.
  const noCopy = LEFT_OUT.get("copy-old-trans-table")!.report;
  assert.equal(verdict("copy-old-trans-table"), "dump-corrupt");
  const lines = k2lines(noCopy);
  assert.ok(![COPY_TRY, COPIED, COPY_FAILED].some((l) => lines.includes(l)));
  const ctl = regWrites(noCopy, "kernel2", "control");
  const off = ctl.find(([, v]) => (v & 1) === 0);
  assert.ok(off, "kernel2 turned translation off");
  const on = ctl.find(([t, v]) => t > off[0] && v & 1);
  assert.ok(off && on, "kernel2 turned translation off and on");
  assert.ok(noCopy.strayWriteCount > 0 && noCopy.dump!.badPages > 0);
  for (const s of noCopy.strayWrites) {
    assert.deepEqual([s.device, s.how, s.address], ["01:00.1", "dte-invalid", s.iova]);
    assert.ok(s.time > on[0] && s.time < noCopy.timing["kernel2.iommuInitialized"]);
    assert.match(s.owner, /^kernel1:/);
  }

  // amd-use-attach-deferred left out (with drop-gcr3-root, which uses its defer_attach): the iommu
  // core attaches the NICs to their new domain at IOMMU init, so their old IOVAs fault until
  // bnx2's kdump wait stops the chips at probe.
  const eager = run(series("all", "amd-use-attach-deferred", "drop-gcr3-root"));
  assert.deepEqual(eager.report.missing, []);
  assert.equal(eager.report.verdict, "dump-ok");
  const faults = k2faults(eager.report);
  assert.ok(faults.length > 0);
  assert.equal(eager.report.events.IO_PAGE_FAULT, faults.length);
  const probeLine = k2lineAt(eager.report, "bnx2 0000:01:00.0 eth0:");
  for (const f of faults) {
    assert.ok(f.t > stageAt(eager.report, "kernel2: iommu-init") && f.t < probeLine);
    assert.ok(f.device.startsWith("01:00."));
  }
  assert.equal(eager.report.strayWriteCount, 0);

  // disable-only-if-off left out: the kdump kernel panics in its timer check (next test).
  assert.equal(verdict("disable-only-if-off"), "panic");
});

Deno.test("disable-only-if-off left out: disable_iommus turns translation off before the copy; the copy path never turns it on again, so commands stall and the timer check panics", () => {
  const sim = LEFT_OUT.get("disable-only-if-off")!;
  const r = sim.report, k2 = sim.kernel2!;
  assert.equal(r.verdict, "panic");
  assert.deepEqual(r.missing, []);

  // early_amd_iommu_init() cleared IommuEn (during iommu-prepare, before early_enable_iommus)...
  const ctl = regWrites(r, "kernel2", "control");
  const offAt = ctl.findIndex(([, v]) => (v & 1) === 0);
  assert.ok(offAt >= 0);
  const [offT] = ctl[offAt];
  assert.ok(
    offT > stageAt(r, "kernel2: iommu-prepare") && offT < stageAt(r, "kernel2: iommu-enable"),
  );
  assert.ok(ctl.slice(0, offAt).every(([, v]) => v & 1), "it was on until then");
  // ...the copy still happened (detection ran earlier, in init_iommu_one), the Device Table
  // Base was switched to the copy — and no control write in kernel2 ever set IommuEn again.
  const lines = k2lines(r);
  assert.ok(lines.indexOf(COPY_TRY) >= 0 && lines.indexOf(COPIED) > lines.indexOf(COPY_TRY));
  assert.ok(k2lineAt(r, COPY_TRY) > offT);
  assert.deepEqual(regWrites(r, "kernel2", "devtab-base").map(([, v]) => v & ~0xfff), [
    k2.amd.dev_table,
  ]);
  assert.ok(ctl.slice(offAt).every(([, v]) => (v & 1) === 0));
  const iommu = sim.machine.iommus[0];
  assert.equal(iommu.control("IommuEn"), 0);
  assert.equal(iommu.control("CmdBufEn"), 1, "the command buffer is enabled...");
  assert.equal(iommu.commandsRunning, false, "...but does not run without IommuEn");

  // Consequence 1: the command processor never reaches a command. Every completion wait
  // spins LOOP_TIMEOUT x 1 us, prints the alert and gives up.
  const alerts = r.dmesg.filter((l) =>
    l.kernel === "kernel2" && l.text === "AMD-Vi: Completion-Wait loop timed out"
  );
  assert.ok(alerts.length >= 1);
  assert.equal(k2.amd.cmdStats.timeouts, alerts.length);
  const cmdsRun = r.timeline.filter((t) => t.kind === "command" && t.kernel === "kernel2");
  assert.deepEqual(cmdsRun, [], "no command executed in kernel2");
  assert.ok(
    FULL.report.timeline.some((t) => t.kind === "command" && t.kernel === "kernel2"),
    "with the patch, kernel2's commands run (and are recorded)",
  );
  for (let i = 1; i < alerts.length; i++) {
    assert.ok(alerts[i].time - alerts[i - 1].time >= 100_000_000, "about 100 ms each");
  }

  // Consequence 2: the timer's IO-APIC message is not remapped; it reaches the CPU with the
  // IRTE index (2) as its vector, jiffies never move, and check_timer() panics.
  assert.equal(k2.jiffies, 0);
  assert.ok(k2.apicErrors >= 10, `${k2.apicErrors} timer messages arrived as vector 2`);
  assert.equal(k2.panicked, "timer doesn't work through Interrupt-remapped IO-APIC");
  assert.equal(
    lines.at(-1),
    "Kernel panic - not syncing: timer doesn't work through Interrupt-remapped IO-APIC",
  );
  assert.ok(k2lineAt(r, "Kernel panic") > k2lineAt(r, "Completion-Wait loop timed out"));
  assert.match(r.cause, /the second kernel panicked: timer doesn't work/);
  assert.equal(r.dump, undefined, "no capture");

  // Consequence 3: untranslated DMA is never aborted, so nothing is logged; the NIC's old IOVAs
  // are used as physical addresses and land in the crashed kernel's memory.
  assert.equal(r.events.IO_PAGE_FAULT, 0);
  assert.ok(r.strayWriteCount > 0);
  for (const s of r.strayWrites) {
    assert.deepEqual([s.device, s.how, s.kernel, s.address], [
      "01:00.1",
      "iommu-off",
      "kernel2",
      s.iova,
    ]);
    assert.ok(s.time > offT);
    assert.match(s.owner, /^kernel1:/);
  }
});

Deno.test("revert-suppress-io-page-faults left out (older bnx2): SA is set on the copied DTEs, but the deferred attach clears it before anything faults", () => {
  const p = probe(), q = probe();
  const withSa = run(
    series("all,bnx2-no-kdump-wait", "revert-suppress-io-page-faults").insert(p.plugin),
  );
  const full = run(seriesFromSpec("all,bnx2-no-kdump-wait").insert(q.plugin));
  const r = withSa.report;
  assert.deepEqual(r.missing, []);
  assert.equal(r.verdict, "dump-ok");
  // The 4.13 kdump default of init_device_table_dma set SA on every DeviceID of the copy...
  assert.equal(hwDte(withSa.kernel2!, 0x300).SA, 1);
  assert.equal(hwDte(full.kernel2!, 0x300).SA, 0);
  // ...including the NICs' copied entries; set_dte_entry() clears SA when the deferred attach
  // rewrites them (4.13's q1 mask: SA and DomainID), and every fault comes after that.
  for (const devid of [NIC0, NIC1]) {
    const [a] = p.attach(devid), [b] = q.attach(devid);
    assert.ok(a.inGetDomain);
    assert.deepEqual([a.before.SA, a.after.SA], [1, 0]);
    assert.deepEqual([b.before.SA, b.after.SA], [0, 0]);
    for (
      const f of k2faults(r).filter((f) => f.device === (devid === NIC0 ? "01:00.0" : "01:00.1"))
    ) {
      assert.ok(f.t > a.t);
    }
  }
  // So in this model nothing is suppressed: the faults are logged and printed as with the revert.
  assert.equal(r.faultsSuppressed, 0);
  assert.ok(r.events.IO_PAGE_FAULT > 0);
  assert.equal(r.events.IO_PAGE_FAULT, full.report.events.IO_PAGE_FAULT);
  assert.equal(r.faultsPrinted, full.report.faultsPrinted);
  assert.ok(k2faults(r).every((f) => f.text.endsWith("IO_PAGE_FAULT logged")));
});

// ---- reordering -----------------------------------------------------------------------------------

Deno.test("reordering: moving a patch whose hooks overlap nobody changes nothing; moving a wrapper changes who wraps whom", () => {
  const moved = seriesFromSpec("all").move("disable-only-if-off", {
    before: "detect-pre-enabled",
  });
  assert.deepEqual(moved.resolve().missing, []);
  const m = run(moved).report;
  assert.equal(m.series[0], "disable-only-if-off");
  assert.equal(m.verdict, "dump-ok");
  assert.ok(sameRun(m, FULL.report), "the same run");

  // copy-old-trans-table and helper-functions both wrap early_enable_iommus and neither calls
  // next(): the later one in the series is outermost and wins. Moved first, the copy patch is
  // inside helper-functions' loop and never runs — the same run as leaving it out.
  const swapped = seriesFromSpec("all").move("copy-old-trans-table", {
    before: "helper-functions",
  });
  const s = run(swapped).report;
  assert.deepEqual(s.series.slice(0, 3), [
    "detect-pre-enabled",
    "copy-old-trans-table",
    "helper-functions",
  ]);
  assert.deepEqual(s.missing, []);
  assert.equal(s.verdict, "dump-corrupt");
  assert.ok(!k2lines(s).includes(COPY_TRY));
  assert.ok(regWrites(s, "kernel2", "control").some(([, v]) => (v & 1) === 0));
  assert.ok(sameRun(s, LEFT_OUT.get("copy-old-trans-table")!.report), "as if left out");
});

Deno.test("ordering hints: a wrapper with before: ['bnx2-no-kdump-wait'] resolves inside it at bnx2_init_one's wait — and, the plugin not calling next(), never runs", () => {
  const order: string[] = [];
  const peek = (id: string, before: string[] = []) =>
    definePlugin({
      id,
      title: `test: ${id}`,
      before,
      hooks: {
        "bnx2.bnx2_init_one.wait_dma": ({ k, dev }, next) => {
          if (!k.is_kdump_kernel()) return next();
          const nic = machineOf(k).devices.get(dev.devid) as Nic;
          next();
          const on = (nic.read32(NIC_REG.CTRL) & NIC_CTRL.ENABLE) !== 0;
          order.push(`${id} ${dev.devid.toString(16)} ${on ? "running" : "stopped"}`);
        },
      },
    });
  const s = seriesFromSpec("all,bnx2-no-kdump-wait").insert(peek("peek-early", [
    "bnx2-no-kdump-wait",
  ])).insert(peek("peek-late"));
  // Listed after bnx2-no-kdump-wait, but resolved ahead of it.
  assert.deepEqual(s.ids().slice(-3), ["bnx2-no-kdump-wait", "peek-early", "peek-late"]);
  const resolved = s.resolve().plugins.map((p) => p.id);
  assert.deepEqual(resolved.slice(-3), ["peek-early", "bnx2-no-kdump-wait", "peek-late"]);
  const r = run(s).report;
  assert.deepEqual(r.series.slice(-3), ["peek-early", "bnx2-no-kdump-wait", "peek-late"]);
  // Later wrappers wrap earlier ones: peek-late is outermost, calls next() into
  // bnx2-no-kdump-wait, which replaces the wait and does not call next(): peek-early (and the
  // 4.13 wait inside it) never run, and the chip is still running.
  assert.deepEqual(order, ["peek-late 100 running", "peek-late 101 running"]);
  const older = run(seriesFromSpec("all,bnx2-no-kdump-wait")).report;
  assert.ok(sameRun(r, older), "the peeks only read");
});

// ---- replacing a patch -------------------------------------------------------------------------

Deno.test("replacing copy-dev-tables with a plugin that refuses to copy takes the fallback path, and its consequences follow", () => {
  const calls: string[] = [];
  const mine = definePlugin({
    id: "my-copy-dev-tables",
    title: "iommu/amd: never trust the old device table",
    defines: {
      "amd_iommu.copy_device_table.old_table": hookPoint("run-all", "old table read", "-"),
      "amd_iommu.copy_device_table.entries": hookPoint("run-all", "a page of old DTEs", "-"),
    },
    provides: {
      copy_device_table: ({ k }) => () => {
        calls.push(k.id);
        return false;
      },
      old_dev_tbl_cpy: () => () => undefined,
    },
  });
  const s = seriesFromSpec("all").replace("copy-dev-tables", mine);
  assert.equal(s.ids()[4], "my-copy-dev-tables");
  assert.ok(!s.has("copy-dev-tables"));
  // It stands in for copy-dev-tables: the patches requiring that are satisfied.
  assert.deepEqual(s.resolve().missing, []);
  const p = probe();
  const sim = run(s.insert(p.plugin));
  const r = sim.report, k1 = sim.kernel1!, k2 = sim.kernel2!;
  assert.deepEqual(r.missing, []);
  assert.ok(r.series.includes("my-copy-dev-tables") && !r.series.includes("copy-dev-tables"));
  assert.deepEqual(calls, ["kernel1", "kernel2"], "called by copy-old-trans-table in both kernels");

  // The fallback of copy-old-trans-table: the message (translation was pre-enabled)...
  const lines = k2lines(r);
  assert.ok(lines.includes(COPY_FAILED));
  assert.ok(!lines.includes(COPY_TRY) && !lines.includes(COPIED));
  // ...then early_enable_iommu() per IOMMU: off, the fresh table, on again.
  const ctl = regWrites(r, "kernel2", "control");
  const off = ctl.find(([, v]) => (v & 1) === 0);
  assert.ok(off);
  const on = ctl.find(([t, v]) => t > off[0] && v & 1);
  assert.ok(off && on);
  const [[devtabT, devtab]] = regWrites(r, "kernel2", "devtab-base");
  assert.ok(devtabT > off[0] && devtabT < on[0], "table switched while translation was off");
  assert.equal(devtab & ~0xfff, k2.amd.dev_table);
  assert.equal(sim.machine.iommus[0].deviceTable()[0], k2.amd.dev_table);

  // The pre-enabled flags were cleared, so nothing is deferred: the NICs were attached at
  // IOMMU init, their DTEs going from the fresh table's zeroed entry (V=0) to the new domain.
  for (const devid of [NIC0, NIC1]) {
    const [a] = p.attach(devid);
    assert.ok(!a.inGetDomain);
    assert.ok(a.t < stageAt(r, "kernel2: drivers"));
    assert.deepEqual([a.before.V, a.before.TV, a.before.domain, a.before.root], [0, 0, 0, 0]);
    assert.equal(a.after.domain, domainOf(k2, devid).id);
  }
  // Nothing reserved the old domain IDs: the kdump kernel reuses the crashed kernel's.
  assert.equal(domainOf(k2, NIC0).id, domainOf(k1, NIC0).id);

  // Consequences, as in 4.13 without SA: DMA through the zeroed (V=0) entries of the fresh
  // table lands untranslated in the crashed kernel's memory, and after the attach the old
  // IOVAs fault — logged and printed.
  assert.equal(r.verdict, "dump-corrupt");
  assert.ok(r.strayWriteCount > 0 && r.dump!.badPages > 0);
  for (const st of r.strayWrites) {
    assert.deepEqual([st.how, st.address], ["dte-invalid", st.iova]);
    assert.ok(st.time > devtabT && st.time < r.timing["kernel2.iommuInitialized"]);
  }
  assert.ok(r.events.IO_PAGE_FAULT > 0);
  assert.equal(r.faultsSuppressed, 0);
  assert.ok(
    r.dmesg.some((l) =>
      l.kernel === "kernel2" &&
      l.text.includes(`IO_PAGE_FAULT domain=0x000${domainOf(k2, NIC0).id}`)
    ),
  );
});

// ---- a failing plugin --------------------------------------------------------------------------

Deno.test("a plugin that throws gives the verdict plugin-error, names the plugin and hook, and the runtime goes on", () => {
  const boom = definePlugin({
    id: "boom",
    title: "test: throws in the kdump kernel's init_iommu_one",
    hooks: {
      "amd_iommu.init_iommu_one": ({ k }) => {
        if (k.is_kdump_kernel()) throw new Error("kaboom");
      },
    },
  });
  const sim = run(seriesFromSpec("all").insert(boom));
  const r = sim.report;
  assert.equal(r.verdict, "plugin-error");
  assert.deepEqual(r.pluginError, {
    plugin: "boom",
    hook: "amd_iommu.init_iommu_one",
    message: "kaboom",
  });
  assert.equal(r.cause, "plugin boom failed at amd_iommu.init_iommu_one: kaboom");
  // The first kernel ran (the handler returned there); the crash kernel stopped in IOMMU init.
  assert.ok(sim.kernel1 && sim.kernel2);
  assert.ok(r.dmesg.some((l) => l.kernel === "kernel1"));
  assert.ok(!k2lines(r).some((l) => l.includes(COPIED) || l.includes("bnx2")));
  assert.equal(r.dump, undefined);

  // A provided symbol that throws is its provider's fault, wherever it is called from.
  const brokenCopy = definePlugin({
    id: "broken-copy",
    title: "test: copy_device_table that throws",
    defines: {
      "amd_iommu.copy_device_table.old_table": hookPoint("run-all", "old table read", "-"),
      "amd_iommu.copy_device_table.entries": hookPoint("run-all", "a page of old DTEs", "-"),
    },
    provides: {
      copy_device_table: () => () => {
        throw new RangeError("old table unreadable");
      },
      old_dev_tbl_cpy: () => () => undefined,
    },
  });
  const b = run(seriesFromSpec("all").replace("copy-dev-tables", brokenCopy)).report;
  assert.equal(b.verdict, "plugin-error");
  assert.deepEqual(b.pluginError, {
    plugin: "broken-copy",
    hook: "symbol copy_device_table",
    message: "old table unreadable",
  });

  // The next run in the same process is unaffected.
  assert.ok(sameRun(run(seriesFromSpec("all")).report, FULL.report));
});

// ---- over seeds --------------------------------------------------------------------------------

Deno.test("over seeds 1–20: 4.14 (the series) dumps cleanly every time — no IO_PAGE_FAULT, no stray write, no bad page — and 4.13 always leaves stray writes in the crashed kernel's memory", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = run(seriesFromSpec("all"), { seed }).report;
    assert.deepEqual(
      [r.verdict, r.events.IO_PAGE_FAULT, r.strayWriteCount, r.dump?.badPages],
      ["dump-ok", 0, 0, 0],
      `seed ${seed}: ${r.cause}`,
    );
    assert.ok(k2lines(r).includes(COPIED), `seed ${seed}: copied`);
    const base = run(seriesFromSpec("none"), { seed }).report;
    assert.ok(base.strayWriteCount > 0, `seed ${seed}: 4.13 strays`);
    for (const s of base.strayWrites) {
      assert.equal(s.kernel, "kernel2", `seed ${seed}`);
      assert.match(s.owner, /^kernel1:|^free$/, `seed ${seed}`);
    }
  }
});
