/**
 * The svm-accel driver (runtime/kernel/drivers/svm.ts) against the model's PASID-capable
 * accelerator: probe binds the process (GCR3 table, DTE.GV/PPR), and the page-request path
 * through the PPR log (events.ts iommu_poll_ppr_log) — the driver faults a page in and the
 * kernel answers with COMPLETE_PPR_REQUEST, or refuses a page outside the job buffer, or
 * (no listener) consumes the request without an answer.
 */
import assert from "node:assert/strict";
import { DTE } from "../../../runtime/hw/layouts/dte.ts";
import { MMIO, STATUS } from "../../../runtime/hw/layouts/mmio.ts";
import { entryAddress, levelIndex } from "../../../runtime/hw/layouts/pte.ts";
import { PAGE_SIZE } from "../../../runtime/hw/memory.ts";
import { SVM_REG } from "../../../runtime/hw/pci/svm.ts";
import { start_kernel } from "../../../runtime/kernel/boot.ts";
import type { SvmParams } from "../../../runtime/kernel/drivers/svm.ts";
import type { Kernel } from "../../../runtime/kernel/kernel.ts";
import { commandLog, dteOf, hooksWith, KIT, KIT_SVM, makeKit, svmOf, texts } from "../kit.ts";

/** EFR of an IOMMU with PPR and guest translation (one-level GCR3 tables). */
const EFR_V2 = { IASup: 1, PPRSup: 1, GTSup: 1, HATS: 0, PASMax: 15, GLXSup: 1 };

function bound(svmAccel: Partial<SvmParams> = {}) {
  const kit = makeKit({ svm: true, drivers: ["svm-accel"], efr: EFR_V2, svmAccel });
  start_kernel(kit.k);
  return { ...kit, drv: svmOf(kit.k), cmds: commandLog(kit.iommu) };
}

/** The x86 PTE of `va` in the process's page table (0, 0 if a level is missing). */
function userPte(k: Kernel, cr3: number, va: number): [number, number] {
  let table = cr3;
  for (let level = 4; level > 1; level--) {
    const ea = table + levelIndex(va, level) * 8;
    const lo = k.mem.read32(ea);
    if (!(lo & 1)) return [0, 0];
    table = entryAddress(lo, k.mem.read32(ea + 4));
  }
  const pte = table + levelIndex(va, 1) * 8;
  return [k.mem.read32(pte), k.mem.read32(pte + 4)];
}

const page = (i: number) => KIT_SVM.va + i * PAGE_SIZE;
const ppr = (cmds: ReturnType<typeof commandLog>) =>
  cmds.filter((c) => c.name === "COMPLETE_PPR_REQUEST").map((c) => c.fields);

Deno.test("svm: probe points the DTE at a GCR3 table whose PASID entry is the process's page table, with GV and PPR set", () => {
  const { k, drv } = bound();
  const dom = drv.domain!;
  assert.equal(dom.type, "unmanaged");
  const w = dteOf(k, KIT.SVM);
  assert.equal(DTE.get(w, "GV"), 1);
  assert.equal(DTE.get(w, "PPR"), 1);
  assert.equal(DTE.get(w, "Mode"), 0);
  assert.equal(DTE.get(w, "DomainID"), dom.id);
  assert.equal(DTE.value(w, "GCR3TableRootPtr"), dom.v2!.gcr3_tbl);
  const e = dom.v2!.gcr3_tbl + KIT_SVM.pasid * 8;
  assert.equal(k.mem.read32(e) & 1, 1, "valid");
  assert.equal(entryAddress(k.mem.read32(e), k.mem.read32(e + 4)), drv.cr3);
  // The resident pages are mapped, the rest are not.
  for (let i = 0; i < KIT_SVM.pages; i++) {
    assert.equal(userPte(k, drv.cr3, page(i))[0] & 1, i < KIT_SVM.resident ? 1 : 0, `page ${i}`);
  }
  assert.equal(k.mem.read32(KIT.SVM_BAR + SVM_REG.CTRL), 1, "the job runs");
  assert.ok(
    texts(k, "info").includes(
      `svm-accel 0000:02:02.0: bound PASID 1 (GCR3 table at 0x${dom.v2!.gcr3_tbl.toString(16)})`,
    ),
  );
});

Deno.test("svm: a page request goes through the PPR log to the driver, which faults the page in and answers success; the device's retry lands there", () => {
  const { k, m, iommu, svm, drv, cmds } = bound();
  const fault = page(KIT_SVM.resident);
  assert.deepEqual(userPte(k, drv.cr3, fault), [0, 0]);
  // The resident pages take one job each (100 µs apart); the next one faults.
  k.spend((KIT_SVM.resident + 1) * 100_000 + 50_000);
  assert.equal(svm!.stats.pageRequests, 1);
  assert.equal(svm!.stats.pprSuccess, 1);
  assert.equal(svm!.stats.pprRefused, 0);
  assert.deepEqual(
    ppr(cmds).map((f) => [f.DeviceID, f.PASID, f.GN, f.CompletionTag, f.Status]),
    [[KIT.SVM, KIT_SVM.pasid, 1, 1, 0]],
    "PPR_SUCCESS for tag 1",
  );
  const [lo, hi] = userPte(k, drv.cr3, fault);
  assert.equal(lo & 7, 7, "present, writable, user");
  const user = entryAddress(lo, hi);
  assert.equal(m.mem.ownerOf(user).what, "user-page");
  const job = KIT_SVM.resident + 1;
  assert.deepEqual(
    [m.mem.read32(user), m.mem.read32(user + 4)],
    [(0x5a5a_0000 | job) >>> 0, KIT_SVM.pasid],
    "the retried job's write",
  );
  // The log entry was consumed and zeroed, the interrupt acknowledged.
  const reg = (off: number) => m.mem.read32(KIT.IOMMU_MMIO + off);
  assert.equal(reg(MMIO.PPR_HEAD), reg(MMIO.PPR_TAIL));
  assert.equal(reg(MMIO.PPR_HEAD), 16);
  const entry = new Uint32Array(4);
  m.mem.readDwords(k.amd.iommus[0].ppr_log!, 4, entry);
  assert.deepEqual([...entry], [0, 0, 0, 0]);
  assert.equal(reg(MMIO.STATUS) & STATUS.encode({ PprInt: 1 })[0], 0);
  assert.equal(iommu.control("PPRIntEn"), 1);
});

Deno.test("svm: a page request outside the process's buffer is answered PPR_INVALID and the device drops the job", () => {
  // The driver's process has 5 pages; the device is told to stream through 6.
  const { k, svm, drv, cmds } = bound({ pages: 5 });
  k.writel(6, KIT.SVM_BAR + SVM_REG.JOB_PAGES);
  k.spend(7 * 100_000 + 50_000);
  assert.equal(svm!.stats.pprSuccess, 1, "page 4 is faulted in");
  assert.ok(svm!.stats.pprRefused >= 1);
  const answers = ppr(cmds);
  assert.deepEqual(answers[0].Status, 0);
  assert.ok(answers.length >= 2);
  assert.ok(answers.slice(1).every((f) => f.Status === 1), "PPR_INVALID");
  assert.deepEqual(userPte(k, drv.cr3, page(5)), [0, 0], "nothing mapped outside the buffer");
});

Deno.test("svm: with no PPR listener the request is consumed and never answered; the device waits, then asks again after its PRI timeout", () => {
  const { k, m, svm, cmds } = bound();
  k.amd.events.ppr_notifier = undefined; // amd_iommu_v2 gone
  k.spend((KIT_SVM.resident + 1) * 100_000 + 50_000);
  assert.equal(svm!.stats.pageRequests, 1);
  assert.deepEqual(ppr(cmds), []);
  assert.equal(m.mem.read32(KIT.SVM_BAR + SVM_REG.PRI_OUTSTANDING), 1);
  const reg = (off: number) => m.mem.read32(KIT.IOMMU_MMIO + off);
  assert.equal(reg(MMIO.PPR_HEAD), reg(MMIO.PPR_TAIL), "the log was read");
  k.spend(1_000_000);
  assert.equal(svm!.stats.jobs, KIT_SVM.resident, "no job after the unanswered request");
  // After PRI_TIMEOUT (100 ms) without an answer the device asks again, and waits again.
  k.spend(100_000_000);
  assert.equal(svm!.stats.priTimeouts, 1);
  assert.equal(svm!.stats.pageRequests, 2);
  assert.equal(reg(MMIO.PPR_TAIL), 32, "a second entry in the log");
  assert.deepEqual(ppr(cmds), []);
});

Deno.test("svm: amd_iommu_v2.ppr_notifier answers before the device state is looked up; with no state nothing answers, an unbound PASID gets PPR_INVALID", () => {
  const early = bound({});
  const seen: unknown[] = [];
  const kit = makeKit({
    svm: true,
    drivers: ["svm-accel"],
    efr: EFR_V2,
    hooks: hooksWith({
      bail: {
        "amd_iommu_v2.ppr_notifier": (ctx) => {
          const c = ctx as { dev: { devid: number }; pasid: number; address: number };
          seen.push([c.dev.devid, c.pasid, c.address]);
          return 1;
        },
      },
    }),
  });
  start_kernel(kit.k);
  const cmds = commandLog(kit.iommu);
  kit.k.spend((KIT_SVM.resident + 1) * 100_000 + 50_000);
  assert.deepEqual(seen, [[KIT.SVM, KIT_SVM.pasid, page(KIT_SVM.resident)]]);
  assert.deepEqual(ppr(cmds).map((f) => f.Status), [1], "PPR_INVALID, from the hook");
  assert.deepEqual(kit.k.amd.v2.stats, { early: 1, noState: 0, invalid: 0, handled: 0 });
  assert.equal(kit.svm!.stats.pprRefused, 1);
  assert.deepEqual(userPte(kit.k, svmOf(kit.k).cr3, page(KIT_SVM.resident)), [0, 0]);
  // Without the hook: the bound device's request is handled (see above); a PASID nobody bound
  // gets PPR_INVALID; a device without state is not answered.
  const v2 = early.k.amd.v2;
  assert.equal(v2.ppr_notifier({ devid: KIT.SVM, pasid: 7, address: 0, write: true }), 1);
  assert.equal(v2.ppr_notifier({ devid: KIT.NIC, pasid: 1, address: 0, write: true }), undefined);
  assert.equal(v2.stats.invalid, 1);
});
