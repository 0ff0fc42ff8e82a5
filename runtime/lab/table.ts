/**
 * "What each patch changes", measured: for every patch of the series, run its scenario with
 * the series and without that patch, and report what differs. A series without a patch
 * that others require would not build (the run is skipped); the table then also runs the
 * series rebuilt without those dependents, to show what the patch and its users change
 * together. The README's table is this module's output.
 *
 * @module
 */
import type { Series } from "../plugin/mod.ts";
import { BatchPool, type BatchPoolOptions, defaultWorkers } from "./batch.ts";
import { pluginTitles, seriesFromSpec, seriesIds } from "./plugins.ts";
import { formatMarkdownTable } from "./markdown-table.ts";
import {
  differences,
  type Outcome,
  outcomeOf,
  type OutcomeSweep,
  spreadText,
  sweepDifferences,
  sweepOutcomes,
} from "./outcome.ts";
import { run } from "./run.ts";
import { SCENARIOS } from "./scenarios/mod.ts";
import { SWEEP_COUNTERS } from "./sweep.ts";

export { differences, type Outcome, outcomeOf } from "./outcome.ts";

/** One row of the table. */
export interface PatchRow {
  /** The patch's id. */
  id: string;
  /** The patch's title. */
  title: string;
  /** The scenario both runs of the row ran (a patch may have a row per scenario). */
  scenario: string;
  /** The series spec of the "with" run. */
  base: string;
  /** The outcome of the `base` series (the patch included). */
  with: Outcome;
  /** The series without this patch. */
  without: Outcome;
  /** When `without` was skipped: the dependents dropped too, and that run's outcome. */
  rebuilt?: { dropped: string[]; outcome: Outcome };
  /** What differs, in words. */
  changes: string[];
  /** Over seeds (`table --seeds`): the spread of each run of the row; the outcomes are the first seed's. */
  sweeps?: { with: OutcomeSweep; without: OutcomeSweep; rebuilt?: OutcomeSweep };
}

/** Scenarios to try for each patch, in order of preference, with the series spec to start from. */
export const PATCH_SCENARIOS: Record<string, { scenario: string; base: string }[]> = {
  "detect-pre-enabled": [{ scenario: "kexec-iommu-on", base: "all" }, {
    scenario: "default",
    base: "all",
  }],
  "helper-functions": [{ scenario: "default", base: "all" }],
  "revert-suppress-io-page-faults": [
    { scenario: "two-iommus-one-off", base: "all" },
    { scenario: "default", base: "all" },
  ],
  "dte-bit-fields": [{ scenario: "default", base: "all" }],
  "copy-dev-tables": [{ scenario: "default", base: "all" }],
  "copy-old-trans-table": [{ scenario: "default", base: "all" }],
  "sanity-check-old-dte": [{ scenario: "old-irq-tablen", base: "all" }],
  "iommu-is-attach-deferred": [{ scenario: "no-dma-api-driver", base: "all" }],
  "amd-use-attach-deferred": [{ scenario: "no-dma-api-driver", base: "all" }],
  "dev-table-below-4g": [
    { scenario: "torn-devtab-write", base: "all" },
    { scenario: "old-table-above-4g", base: "all" },
  ],
  "drop-gcr3-root": [{ scenario: "guest-translation", base: "all" }],
  "disable-only-if-off": [{ scenario: "default", base: "all" }, {
    scenario: "amd-iommu-off",
    base: "all",
  }],
};

/** `spec` without `id`, and without every plugin that then lacks a dependency. */
function rebuildWithout(base: Series, id: string): { series: Series; dropped: string[] } {
  const s = base.clone().disable(id);
  const dropped: string[] = [];
  for (;;) {
    const missing = s.resolve().missing;
    if (!missing.length) break;
    for (const m of missing) {
      if (s.enabledIds().includes(m.plugin)) {
        s.disable(m.plugin);
        dropped.push(m.plugin);
      }
    }
  }
  return { series: s, dropped };
}

/** Measures the table (about three runs per patch). */
export function patchTable(seed?: number): PatchRow[] {
  const rows: PatchRow[] = [];
  const titles = pluginTitles();
  for (const id of seriesIds()) {
    const candidates = PATCH_SCENARIOS[id] ?? [{ scenario: "default", base: "all" }];
    let row: PatchRow | undefined;
    for (const c of candidates) {
      const sc = SCENARIOS[c.scenario];
      const base = seriesFromSpec(c.base);
      const withO = outcomeOf(run(sc, { series: base, seed }));
      const withoutO = outcomeOf(run(sc, { series: base.clone().disable(id), seed }));
      let rebuilt: PatchRow["rebuilt"];
      let compare = withoutO;
      if (withoutO.verdict === "skipped") {
        const rb = rebuildWithout(base, id);
        rebuilt = { dropped: rb.dropped, outcome: outcomeOf(run(sc, { series: rb.series, seed })) };
        compare = rebuilt.outcome;
      }
      const changes = differences(withO, compare);
      row = {
        id,
        title: titles.get(id)!,
        scenario: c.scenario,
        base: c.base,
        with: withO,
        without: withoutO,
        rebuilt,
        changes,
      };
      if (changes.length) break;
    }
    rows.push(row!);
  }
  return rows;
}

/**
 * The table over seeds: every run of a row on each of `seeds` (in workers); a row's outcomes
 * are its first seed's, its `sweeps` the spread over all, and its changes and choice of
 * scenario come from the sweeps. The result does not depend on the number of workers.
 */
export async function patchSweepTable(
  seeds: readonly number[],
  opts: BatchPoolOptions = {},
): Promise<PatchRow[]> {
  const pools = new Map<string, BatchPool>();
  const poolFor = (scenario: string, spec: string) => {
    const key = `${scenario}\n${spec}`;
    let p = pools.get(key);
    if (!p) {
      // A pool runs several batches: its workers stay warm, so start one per core.
      p = new BatchPool({ scenario: SCENARIOS[scenario], recipe: { spec }, outcomes: true }, {
        workers: opts.workers ?? defaultWorkers(),
      });
      pools.set(key, p);
    }
    return p;
  };
  const ids = seriesIds();
  const titles = pluginTitles();
  const rows: PatchRow[] = [];
  const swept = new Map<string, Promise<{ first: Outcome; sweep: OutcomeSweep }>>();
  try {
    for (const id of ids) {
      const candidates = PATCH_SCENARIOS[id] ?? [{ scenario: "default", base: "all" }];
      let row: PatchRow | undefined;
      for (const c of candidates) {
        const pool = poolFor(c.scenario, c.base);
        const base = seriesFromSpec(c.base);
        const on = ids.filter((x) => base.enabledIds().includes(x));
        // Rows on one scenario share runs (the whole series, mostly): each set runs once.
        const sweepOf = (only: string[]) => {
          const key = `${c.scenario}\n${c.base}\n${only.join(",")}`;
          let sw = swept.get(key);
          if (sw === undefined) {
            swept.set(
              key,
              sw = pool.run(seeds.map((seed) => ({ seed, only }))).then((res) => ({
                first: res[0].outcome!,
                sweep: sweepOutcomes(res.map((r) => r.row), res.map((r) => r.outcome!)),
              })),
            );
          }
          return sw;
        };
        const w = await sweepOf(on);
        const wo = await sweepOf(on.filter((x) => x !== id));
        let rebuilt: PatchRow["rebuilt"];
        let rebuiltSweep: OutcomeSweep | undefined;
        let compare = wo.sweep;
        if (wo.first.verdict === "skipped") {
          const rb = rebuildWithout(base, id);
          const r = await sweepOf(on.filter((x) => x !== id && !rb.dropped.includes(x)));
          rebuilt = { dropped: rb.dropped, outcome: r.first };
          rebuiltSweep = compare = r.sweep;
        }
        const changes = sweepDifferences(w.sweep, compare);
        row = {
          id,
          title: titles.get(id)!,
          scenario: c.scenario,
          base: c.base,
          with: w.first,
          without: wo.first,
          rebuilt,
          changes,
          sweeps: {
            with: w.sweep,
            without: wo.sweep,
            ...(rebuiltSweep ? { rebuilt: rebuiltSweep } : {}),
          },
        };
        if (changes.length) break;
      }
      rows.push(row!);
    }
  } finally {
    for (const p of pools.values()) p.close();
  }
  return rows;
}

/** A cell over seeds: each verdict's count, clean runs, the counters that were not 0, an example seed. */
function sweepCell(o: Outcome, s: OutcomeSweep): string {
  if (o.verdict === "skipped") return `**skipped**: ${o.missing.join("; ")}`;
  const n = s.seeds.length;
  const verdicts = Object.entries(s.verdicts).sort((a, b) => b[1]! - a[1]!)
    .map(([v, k]) => `**${v}** ${k}/${n} (e.g. seed ${s.example[v as keyof typeof s.example]})`);
  const parts = [verdicts.join(", "), `clean ${s.clean}/${n}`];
  const names: Record<string, string> = {
    ioPageFaults: "IO_PAGE_FAULT",
    faultsPrinted: "printed",
    faultsSuppressed: "suppressed by SA",
    strayWriteCount: "stray writes",
    badPages: "bad dump pages",
  };
  for (const c of SWEEP_COUNTERS) {
    if (s.counters[c].max > 0) parts.push(`${names[c]} ${spreadText(s.counters[c])}`);
  }
  return parts.join("; ");
}

function cell(o: Outcome): string {
  const parts = [`**${o.verdict}**`];
  if (o.verdict === "skipped") return `**skipped**: ${o.missing.join("; ")}`;
  parts.push(
    `${o.ioPageFaults} IO_PAGE_FAULT (${o.faultsPrinted} printed${
      o.faultsSuppressed ? `, ${o.faultsSuppressed} suppressed by SA` : ""
    })`,
  );
  parts.push(`${o.strayWriteCount} stray writes`);
  if (o.badPages) parts.push(`${o.badPages} bad dump pages`);
  return parts.join(", ");
}

/** The table as Markdown (what README.md carries), laid out as `deno fmt` lays it out. */
export function renderTable(rows: PatchRow[]): string {
  const out = [
    "| # | Patch | Scenario | With the series | Without this patch | What changes |",
    "|---|---|---|---|---|---|",
  ];
  rows.forEach((r, i) => {
    const sw = r.sweeps;
    let without = sw ? sweepCell(r.without, sw.without) : cell(r.without);
    if (r.rebuilt) {
      const rebuilt = sw?.rebuilt
        ? sweepCell(r.rebuilt.outcome, sw.rebuilt)
        : cell(r.rebuilt.outcome);
      without += `<br>dropping ${r.rebuilt.dropped.join(", ")} too: ${rebuilt}`;
    }
    const changes = r.changes.length ? r.changes.join("; ") : "nothing observable in this scenario";
    out.push(
      `| ${i + 1} | \`${r.id}\`<br>${r.title} | \`${r.scenario}\` (${r.base}) | ${
        sw ? sweepCell(r.with, sw.with) : cell(r.with)
      } | ${without} | ${changes.replaceAll("|", "\\|")} |`,
    );
  });
  return formatMarkdownTable(out.join("\n"));
}
