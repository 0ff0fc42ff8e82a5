/**
 * The README's sentences that state outcomes of the default scenario state them as rates over
 * seeds 1-100; this test measures those sweeps and checks each number the sentences quote
 * (README whitespace collapsed, so line wrapping does not matter).
 */
import assert from "node:assert/strict";
import { BatchPool } from "../../runtime/lab/batch.ts";
import { DEFAULT_JUDGE, meets } from "../../runtime/lab/judge.ts";
import { seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run, simulateLab } from "../../runtime/lab/run.ts";
import { MMIO } from "../../runtime/hw/layouts/mmio.ts";
import { sweepRun } from "../../runtime/lab/sweep.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { summarise, type SweepResult } from "../../runtime/lab/sweep.ts";

const SEEDS = Array.from({ length: 100 }, (_, i) => i + 1);
const readme = (await Deno.readTextFile(new URL("../../README.md", import.meta.url)))
  .replace(/\s+/g, " ");

/** Sweeps already started, by their arguments: several claims quote the same sweep. */
const sweeps = new Map<string, Promise<SweepResult>>();

/**
 * The sweep of `spec` on a scenario (default `default`), with only the first `prefix` patches
 * of the series, or with some disabled (measured once per set of arguments).
 */
function sweep(
  spec: string,
  prefix?: number,
  scenario = "default",
  disable: string[] = [],
): Promise<SweepResult> {
  const key = JSON.stringify([spec, prefix ?? null, scenario, disable]);
  let s = sweeps.get(key);
  if (!s) sweeps.set(key, s = measure(spec, prefix, scenario, disable));
  return s;
}

async function measure(
  spec: string,
  prefix: number | undefined,
  scenario: string,
  disable: string[],
): Promise<SweepResult> {
  const pool = new BatchPool({ scenario: SCENARIOS[scenario], recipe: { spec, disable } });
  try {
    const only = prefix === undefined ? undefined : seriesIds().slice(0, prefix);
    const res = await pool.run(SEEDS.map((seed) => ({ seed, ...(only ? { only } : {}) })));
    return summarise("default", [], res.map((r) => r.row));
  } finally {
    pool.close();
  }
}

const clean = (s: SweepResult) => s.runs.filter((r) => meets(DEFAULT_JUDGE, r)).length;
const has = (phrase: string) => assert.ok(readme.includes(phrase), `README says: ${phrase}`);

Deno.test("README 'What the demo shows': 4.13 strays on every seed, corrupts on some; 4.14 clean on every seed", async () => {
  const [none, all, old] = await Promise.all([
    sweep("none"),
    sweep("all"),
    sweep("all,bnx2-no-kdump-wait"),
  ]);
  const st = none.counters.strayWriteCount;
  assert.ok(st.min > 0, "a stray write on every seed");
  has(
    `${st.min}–${st.max} frames (median ${st.median}) land in the crashed kernel's memory on every one of the 100 seeds`,
  );
  const c = none.rates["dump-corrupt"]!;
  assert.ok(none.seedsByVerdict["dump-corrupt"]!.includes(1));
  has(
    `on ${c.count} of 100 seeds (95 % interval ${Math.round(c.low * 100)}–${
      Math.round(c.high * 100)
    } %; seed 1 is one)`,
  );
  has(`on the other ${none.verdicts["dump-ok"]} they hit pages it leaves out`);
  assert.equal(clean(all), 100);
  has(`the dump is clean — no IO_PAGE_FAULT, no stray write — on ${clean(all)} of 100 seeds`);
  const f = old.counters.ioPageFaults;
  assert.ok(f.min > 0);
  has(`${f.min}–${f.max} IO_PAGE_FAULTs logged (median ${f.median}) on each of 100 seeds`);
});

Deno.test("README 'Bisecting the series': prefixes 0-5 stray on every seed, 6-11 panic on every seed, 12 clean", async () => {
  const [p0, p1, p2, p3, p4, p5, p6, p11, p12] = await Promise.all([
    sweep("all", 0),
    sweep("all", 1),
    sweep("all", 2),
    sweep("all", 3),
    sweep("all", 4),
    sweep("all", 5),
    sweep("all", 6),
    sweep("all", 11),
    sweep("all", 12),
  ]);
  // Prefixes 1-5 stray and dump as the baseline does, seed by seed (from prefix 3 they log
  // the faults SA hid).
  const writes = (s: SweepResult) => s.runs.map((r) => [r.verdict, r.strayWriteCount]);
  for (const [k, p] of [p1, p2, p3, p4, p5].entries()) {
    assert.deepEqual(writes(p), writes(p0), `prefix ${k + 1}`);
  }
  const st = p0.counters.strayWriteCount;
  assert.ok(st.min > 0);
  has(
    `prefixes 0–5 send ${st.min}–${st.max} DMA writes (median ${st.median}) into the crashed kernel's memory on every seed, which corrupts the dump on ${
      p0.verdicts["dump-corrupt"]
    } of 100`,
  );
  assert.deepEqual(p6.verdicts, { panic: 100 });
  assert.deepEqual(p11.verdicts, { panic: 100 });
  has("prefixes 6–11 panic in the kdump kernel's timer check on 100 of 100");
  assert.equal(clean(p12), 100);
  has(
    "only the whole series is clean — dump correct, no IO_PAGE_FAULT, no stray write — on 100 of 100",
  );
});

Deno.test("README 'What the model turns up': each finding's rate over seeds 1-100", async () => {
  const [gt, def, tg3, two, irq, irqOff, above, aboveOff] = await Promise.all([
    sweep("all", undefined, "guest-translation"),
    sweep("all"),
    sweep("all", undefined, "tg3-nic"),
    sweep("all", undefined, "two-iommus-one-off"),
    sweep("all", undefined, "old-irq-tablen"),
    sweep("all", undefined, "old-irq-tablen", ["sanity-check-old-dte", "drop-gcr3-root"]),
    sweep("all", undefined, "old-table-above-4g"),
    sweep("all", undefined, "old-table-above-4g", ["dev-table-below-4g"]),
  ]);
  // The stale PPR log: one bad page, on every seed (its mechanism: guest-translation.test.ts).
  assert.deepEqual(gt.verdicts, { "dump-corrupt": 100 });
  assert.deepEqual(gt.counters.badPages, { min: 1, median: 1, max: 1 });
  has("The stale PPR log** (on 100 of 100 seeds;");
  // The deferred attach's window: no fault on any seed, on default and on tg3-nic.
  assert.equal(def.counters.ioPageFaults.max, 0);
  assert.equal(tg3.counters.ioPageFaults.max, 0);
  has(
    "none arrived in that window on any of 100 seeds (0 IO_PAGE_FAULTs with the series, 100 of 100)",
  );
  has("(`tg3-nic`: 0 IO_PAGE_FAULTs, 100 of 100)");
  // The SA revert: faults logged on some seeds of two-iommus-one-off.
  const logged = two.runs.filter((r) => r.ioPageFaults > 0);
  const f = two.counters.ioPageFaults;
  assert.ok(logged.some((r) => r.seed === 1));
  has(
    `IO_PAGE_FAULTs are logged on ${logged.length} of 100 seeds (${f.min}–${f.max}, median ${f.median}; e.g. seed 1)`,
  );
  // Checks that make a dump worse: strays on every seed with the check, clean without.
  for (const [withCheck, without] of [[irq, irqOff], [above, aboveOff]]) {
    const st = withCheck.counters.strayWriteCount;
    assert.ok(st.min > 0);
    assert.ok(withCheck.seedsByVerdict["dump-corrupt"]!.includes(1));
    has(
      `DMA writes stray on 100 of 100 seeds (${st.min}–${st.max}, median ${st.median}) and corrupts the dump on ${
        withCheck.verdicts["dump-corrupt"]
      } of 100 (e.g. seed 1), where copying would have been clean on ${clean(without)} of 100`,
    );
    assert.equal(clean(without), 100);
  }
});

Deno.test("README 'After 4.14': flush-old-domains changes no outcome on 100 of 100 seeds, with or without the DomainID reservation", async () => {
  const same = (a: SweepResult, b: SweepResult) =>
    assert.deepEqual(
      a.runs.map((r) => [r.verdict, r.strayWriteCount, r.ioPageFaults, r.faultsPrinted]),
      b.runs.map((r) => [r.verdict, r.strayWriteCount, r.ioPageFaults, r.faultsPrinted]),
    );
  const noReserve = ["sanity-check-old-dte", "drop-gcr3-root"];
  const [d, dF, t, tF, n, nF] = await Promise.all([
    sweep("all"),
    sweep("all,flush-old-domains"),
    sweep("all", undefined, "tg3-nic"),
    sweep("all,flush-old-domains", undefined, "tg3-nic"),
    sweep("all", undefined, "default", noReserve),
    sweep("all,flush-old-domains", undefined, "default", noReserve),
  ]);
  for (const [a, b] of [[d, dF], [t, tF], [n, nF]]) same(a, b);
  for (const s of [d, dF, t, tF]) assert.equal(clean(s), 100);
  has("**dump-ok** 100/100; clean 100/100 | **dump-ok** 100/100; clean 100/100");
  has("the outcome is again the same on 100 of 100 seeds");
  has("stay the same on every one of 100 seeds, on `default` and on `tg3-nic`");
});

Deno.test("README 'After 4.14', snp-host: each number the table and the text quote, over seeds 1-100", () => {
  const TIMEOUT = "AMD-Vi: Completion-Wait loop timed out";
  const over = (spec: string, disable: string[] = []) =>
    SEEDS.map((seed) => {
      const series = seriesFromSpec(spec);
      for (const id of disable) series.disable(id);
      const r = run(SCENARIOS["snp-host"], { series, seed });
      const timeouts = r.dmesg.filter((l) => l.kernel === "kernel2" && l.text === TIMEOUT).length;
      return { verdict: r.verdict, timeouts, dump: r.dump?.result, bad: r.dump?.badPages ?? 0 };
    });
  const every = <T>(runs: T[], f: (r: T) => boolean) => runs.filter(f).length;
  const copy = over("all");
  assert.equal(every(copy, (r) => r.verdict === "panic" && r.timeouts === 3), 96);
  assert.equal(every(copy, (r) => r.verdict === "hang" && r.timeouts === 14), 4);
  assert.equal(copy[0].verdict, "panic");
  assert.equal(copy[7].verdict, "hang");
  has("**panic** 96/100, **hang** 4/100 (`--series all`), no vmcore");
  has("on 96 of 100 seeds (e.g. seed 1)");
  has("On 4 of 100 (e.g. seed 8) the panic happened on CPU 0 itself");
  const reuseOnly = over("all,later", ["snp-remap-buffers", "preserve-domain-ids"]);
  assert.equal(every(reuseOnly, (r) => r.dump === "complete" && r.timeouts === 16), 100);
  has("the vmcore is written on 100/100 (still 16 timeouts a run without the buffers' fix below)");
  const all = over("all,later");
  assert.equal(every(all, (r) => r.dump === "complete" && r.timeouts === 0 && r.bad === 5), 100);
  assert.equal(every(all, (r) => r.verdict === "dump-corrupt"), 100);
  has("no timeout on 100/100");
  has(
    "the vmcore is written on 100 of 100 seeds — and it differs from memory at the panic in exactly the pages the kdump kernel took over",
  );
  const noPreserve = over("all,later", ["preserve-domain-ids"]);
  assert.deepEqual(noPreserve, all, "preserve-domain-ids changes no outcome");
  has("the old IDs are reserved (1 → 3); the outcome is the same on 100/100");
});

Deno.test("README 'After 4.14', avic-ga-log and all,later on default: over seeds 1-100", async () => {
  const WARN = "WARNING: CPU: 0 PID: 1 at drivers/iommu/amd/init.c iommu_ga_log_enable";
  const ga = (spec: string) =>
    SEEDS.map((seed) => {
      const sim = simulateLab(SCENARIOS["avic-ga-log"], { series: seriesFromSpec(spec), seed });
      const reg = sim.machine.iommus[0].regs.get64(MMIO.GA_LOG_BASE) % 2 ** 52;
      const old = reg - (reg % 4096) === sim.kernel1!.amd.iommus[0].ga_log;
      const r = sim.report;
      const out = {
        old,
        warned: r.dmesg.some((l) => l.kernel === "kernel2" && l.text === WARN),
        clean: meets(DEFAULT_JUDGE, sweepRun(r)),
      };
      sim.machine.dispose();
      return out;
    });
  const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length;
  const plain = ga("all"), warn = ga("all,ga-log-warn-running");
  const fixed = ga("all,ga-log-warn-running,ga-log-disable-running");
  assert.equal(count(plain, (x) => x.old && !x.warned && x.clean), 100);
  assert.equal(count(warn, (x) => x.old && x.warned && x.clean), 100);
  assert.equal(count(fixed, (x) => !x.old && !x.warned && x.clean), 100);
  has("4.14: the crashed kernel's GA log keeps running, silently, on 100/100");
  has("`WARNING: … iommu_ga_log_enable` on 100/100; the old GA log still runs");
  has(
    "the GA log moved to the kdump kernel's buffer, on 100/100; **dump-ok** and clean either way",
  );
  const later = await sweep("all,later");
  assert.deepEqual(later.verdicts, { "dump-corrupt": 100 });
  has("so `--series all,later` gives `dump-corrupt` on 100 of 100 seeds there");
});

Deno.test("README 'After 4.14', sme-host: each number the table and the text quote, over seeds 1-100", () => {
  const ABOVE = "The address of old device table is above 4G, not trustworthy!";
  const COPIED = "Copied DEV table from previous kernel.";
  const sme = (spec: string) =>
    SEEDS.map((seed) => {
      const sim = simulateLab(SCENARIOS["sme-host"], { series: seriesFromSpec(spec), seed });
      const r = sim.report;
      const said = (t: string) => r.dmesg.some((l) => l.kernel === "kernel2" && l.text === t);
      const row = sweepRun(r);
      const out = {
        row,
        above: said(ABOVE),
        copied: said(COPIED),
        clean: meets(DEFAULT_JUDGE, row),
      };
      sim.machine.dispose();
      return out;
    });
  const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length;
  const all = sme("all"), fixed = sme("all,sme-remap-devtab"), later = sme("all,later");
  assert.equal(count(all, (x) => x.above && !x.copied), 100);
  assert.equal(count(all, (x) => x.row.verdict === "dump-ok"), 89);
  assert.equal(count(all, (x) => x.row.verdict === "dump-corrupt"), 11);
  assert.equal(all.find((x) => x.row.verdict === "dump-corrupt")!.row.seed, 1);
  assert.equal(count(all, (x) => x.clean), 0);
  const strays = all.map((x) => x.row.strayWriteCount).sort((a, b) => a - b);
  assert.deepEqual([strays[0], strays[49], strays[99]], [9, 18, 24]);
  has(
    '"above 4G, not trustworthy!" and no copy on 100/100: **dump-ok** 89/100, **dump-corrupt** 11/100; clean 0/100',
  );
  has("refuses the copy on 100 of 100 seeds");
  has(
    "9–24 stray writes (median 18) on every seed, `dump-corrupt` on 11 of 100 (e.g. seed 1), clean on none",
  );
  assert.equal(count(fixed, (x) => x.copied && x.clean && x.row.verdict === "dump-ok"), 100);
  has('"Copied DEV table" on 100/100: **dump-ok** 100/100; clean 100/100');
  has("the run is clean on 100 of 100");
  assert.equal(
    count(later, (x) => x.row.verdict === "dump-corrupt" && x.row.strayWriteCount === 0),
    100,
  );
  has("vmcore is written on 100 of 100 seeds, `dump-corrupt` because of the table pages");
});

Deno.test("README 'After 4.14', the buffer patches: over seeds 1-100", () => {
  const TIMEOUT = "AMD-Vi: Completion-Wait loop timed out";
  const over = (scenario: string, spec: string, disable: string[] = []) =>
    SEEDS.map((seed) => {
      const series = seriesFromSpec(spec);
      for (const id of disable) series.disable(id);
      const r = run(SCENARIOS[scenario], { series, seed });
      return {
        verdict: r.verdict,
        bad: r.dump?.badPages ?? 0,
        timeouts: r.dmesg.filter((l) => l.kernel === "kernel2" && l.text === TIMEOUT).length,
        baseWrites: r.timeline.filter((e) =>
          e.kind === "mmio" && e.t > r.timing.panic && /cmdbuf-base|evtlog-base/.test(e.text)
        ).length,
      };
    });
  const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length;
  const skip = over("snp-host", "all,later");
  const write = over("snp-host", "all,later", ["snp-skip-enable-buffers"]);
  assert.equal(count(skip, (x) => x.baseWrites === 0), 100);
  assert.equal(count(write, (x) => x.baseWrites === 4), 100);
  assert.deepEqual(
    skip.map(({ verdict, bad, timeouts }) => ({ verdict, bad, timeouts })),
    write.map(({ verdict, bad, timeouts }) => ({ verdict, bad, timeouts })),
  );
  has("no base register written; the outcome the same on 100/100");
  const alone = over("default", "all,snp-skip-enable-buffers");
  assert.equal(count(alone, (x) => x.timeouts === 13 && x.verdict === "dump-ok"), 100);
  has('13 "Completion-Wait loop timed out" a run on 100 of 100 seeds');
  has("13 timeouts a run on `default`");
  const later = over("default", "all,later");
  assert.equal(count(later, (x) => x.verdict === "dump-corrupt" && x.bad === 4), 100);
  has("the pages it writes in place (three of the table, the command buffer's)");
});
