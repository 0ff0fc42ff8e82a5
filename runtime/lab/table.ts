/**
 * "What each patch changes", measured: for every patch of the series, run its scenario with
 * the series and without that patch, and report what differs. A series without a patch
 * that others require would not build (the run is skipped); the table then also runs the
 * series rebuilt without those dependents, to show what the patch and its users change
 * together. The README's table is this module's output.
 *
 * @module
 */
import { Series } from "../plugin/mod.ts";
import { pluginTitles, seriesFromSpec, seriesIds } from "./plugins.ts";
import { formatMarkdownTable } from "./markdown-table.ts";
import { type Report, requiresText } from "./report.ts";
import { run } from "./run.ts";
import { SCENARIOS } from "./scenarios/mod.ts";

/** The counters and messages a row compares. */
export interface Outcome {
  /** The run's verdict. */
  verdict: string;
  /** IO_PAGE_FAULTs the IOMMU logged. */
  ioPageFaults: number;
  /** IO_PAGE_FAULT lines the kernels printed. */
  faultsPrinted: number;
  /** IO_PAGE_FAULTs kept out of the log (DTE.SA and co.). */
  faultsSuppressed: number;
  /** Stray DMA writes. */
  strayWriteCount: number;
  /** Dump pages that differ from memory at the panic. */
  badPages: number;
  /** Key kdump-kernel messages (the series' own lines). */
  lines: string[];
  /** Missing dependencies of the run's series, as `plugin requires what`. */
  missing: string[];
}

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

const KEY =
  /Translation|Copied DEV|Failed to copy|Wrong old irq|not expected|above 4G|same dev table|Failed to allocate|timed out|disabled on kernel|timer doesn't work/;

/** The outcome of a report, as the table compares it. */
export function outcomeOf(r: Report): Outcome {
  return {
    verdict: r.verdict,
    ioPageFaults: r.events.IO_PAGE_FAULT,
    faultsPrinted: r.faultsPrinted,
    faultsSuppressed: r.faultsSuppressed,
    strayWriteCount: r.strayWriteCount,
    badPages: r.dump?.badPages ?? 0,
    lines: [
      ...new Set(
        r.dmesg.filter((l) => l.kernel === "kernel2" && KEY.test(l.text)).map((l) => l.text),
      ),
    ],
    missing: r.missing.map(requiresText),
  };
}

/** What differs between two outcomes, in words (empty if nothing). */
export function differences(a: Outcome, b: Outcome): string[] {
  const out: string[] = [];
  if (a.verdict !== b.verdict) out.push(`verdict ${a.verdict} → ${b.verdict}`);
  const num = (label: string, x: number, y: number) => x !== y && out.push(`${label} ${x} → ${y}`);
  num("IO_PAGE_FAULTs logged", a.ioPageFaults, b.ioPageFaults);
  num("printed", a.faultsPrinted, b.faultsPrinted);
  num("suppressed by SA", a.faultsSuppressed, b.faultsSuppressed);
  num("stray DMA writes", a.strayWriteCount, b.strayWriteCount);
  num("bad dump pages", a.badPages, b.badPages);
  for (const l of a.lines) if (!b.lines.includes(l)) out.push(`no "${l}"`);
  for (const l of b.lines) if (!a.lines.includes(l)) out.push(`"${l}"`);
  return out;
}

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
    let without = cell(r.without);
    if (r.rebuilt) {
      without += `<br>dropping ${r.rebuilt.dropped.join(", ")} too: ${cell(r.rebuilt.outcome)}`;
    }
    const changes = r.changes.length ? r.changes.join("; ") : "nothing observable in this scenario";
    out.push(
      `| ${i + 1} | \`${r.id}\`<br>${r.title} | \`${r.scenario}\` (${r.base}) | ${
        cell(r.with)
      } | ${without} | ${changes.replaceAll("|", "\\|")} |`,
    );
  });
  return formatMarkdownTable(out.join("\n"));
}
