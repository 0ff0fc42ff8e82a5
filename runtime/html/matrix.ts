/**
 * The matrix page, from plain data (whatever a matrix computed: one cell per patch set).
 *
 * - The patch sets that ran, grouped by outcome (verdict, then cause). Each group is a small
 *   picture: one row per patch (named), one column per set, a dot where the set applies the
 *   patch, and beside each name how many of the group's sets apply it (`all`, `none`, `k/n`)
 *   — so what a verdict needs, and what does not matter to it, reads off the rows.
 * - The sets that were skipped (they would not build), counted by reason.
 *
 * Hooks: `section.matrix[data-sets][data-ran][data-skipped]`, `figure.outcome[data-verdict]
 * [data-sets]` with `rect.cell.set[data-index][data-mask][data-verdict]` (one per set drawn)
 * and `text.share[data-patch][data-count]`, `table#matrix-skipped` with
 * `tr[data-reason][data-count]`.
 *
 * @module
 */
import { VERDICTS } from "../lab/report.ts";
import { el, escapeHtml, legend, num, page, textWidth, title, verdictColor } from "./kit.ts";

/** One run of a matrix: a subset of the patches and its outcome. */
export interface MatrixCell {
  /** Position in the matrix's own order (shown in the tooltip). */
  index: number;
  /** The subset as a bit mask over the matrix's patches (shown in the tooltip). */
  mask: number;
  /** Ids of the applied plugins. */
  ids: readonly string[];
  /** The run's verdict (`skipped`: the set would not build and did not run). */
  verdict: string;
  /** Why it ended so (for a skipped set: `would not build: X requires Y`). */
  cause?: string;
  // Any other fields (counters): their numbers and strings are listed in the tooltip.
}

/** Input of the matrix page. */
export interface MatrixHeatmapInput {
  /** The matrix's runs, one cell each. */
  cells: readonly MatrixCell[];
  /** The patches the matrix toggles, in series order (the rows of each picture). */
  patches: readonly string[];
  /** Plugins applied in every run (named in the heading). */
  with?: readonly string[];
  /** Scenario name, for the heading. */
  scenario?: string;
  /** The seed of the runs. */
  seed?: number;
  /** A matrix over seeds: the seeds every set ran on (cells are sets, `mixed` when they disagree). */
  seeds?: string;
  /** Page / section title. */
  title?: string;
}

/** Most sets a group draws (fewest patches first); the rest are counted. */
const MAX_DRAWN = 147;
/** Most groups (distinct causes) per verdict; the smaller ones are merged. */
const MAX_CAUSES = 6;
/** Geometry of a group's picture (CSS px): a set's column, a patch's row. */
const COL = 9, ROW = 16;
/** The widest a picture gets: the page's width in an 800 px window. */
const MAX_WIDTH = 760;

/** Verdicts in a fixed order: the report's, then unknown ones alphabetically. */
function verdictOrder(seen: Iterable<string>): string[] {
  const set = new Set(seen);
  const known = VERDICTS.filter((v) => set.has(v)) as string[];
  return [...known, ...[...set].filter((v) => !known.includes(v)).sort()];
}

/** Counts per key. */
function countBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

/** `key: value` lines of a row's extra scalar fields (skipping the given keys). */
export function extras(row: object, skip: readonly string[]): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
    if (skip.includes(k)) continue;
    if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
      out.push(`${k}: ${v}`);
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) {
        if (typeof v2 === "number" || typeof v2 === "string") out.push(`${k}.${k2}: ${v2}`);
      }
    }
  }
  return out;
}

/** Sets that share a verdict and a cause. */
export interface OutcomeGroup {
  verdict: string;
  /** The cause they share (`other causes` when merged). */
  cause: string;
  cells: MatrixCell[];
}

/** Fewest patches first, then by mask. */
function bySize(a: MatrixCell, b: MatrixCell): number {
  return a.ids.length - b.ids.length || a.mask - b.mask || a.index - b.index;
}

/**
 * The sets that ran, grouped by verdict (in {@link VERDICTS} order), then by cause (largest
 * group first; beyond {@link MAX_CAUSES} per verdict the rest are merged); each group's sets
 * fewest patches first.
 */
export function outcomeGroups(cells: readonly MatrixCell[]): OutcomeGroup[] {
  const ran = cells.filter((c) => c.verdict !== "skipped");
  const out: OutcomeGroup[] = [];
  for (const verdict of verdictOrder(ran.map((c) => c.verdict))) {
    const mine = ran.filter((c) => c.verdict === verdict);
    const causes = [...countBy(mine, (c) => c.cause ?? "")]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const kept = causes.slice(0, causes.length > MAX_CAUSES ? MAX_CAUSES - 1 : MAX_CAUSES);
    for (const [cause] of kept) {
      out.push({
        verdict,
        cause,
        cells: mine.filter((c) => (c.cause ?? "") === cause).sort(bySize),
      });
    }
    const rest = causes.slice(kept.length).map(([c]) => c);
    if (rest.length) {
      out.push({
        verdict,
        cause: `${rest.length} other causes`,
        cells: mine.filter((c) => rest.includes(c.cause ?? "")).sort(bySize),
      });
    }
  }
  return out;
}

/** A set's tooltip. */
function setTip(c: MatrixCell): string {
  return [
    `#${c.index} mask 0x${c.mask.toString(16)}: ${c.verdict}`,
    c.ids.length ? `applied: ${c.ids.join(", ")}` : "applied: none (the 4.13 baseline)",
    ...extras(c, ["index", "mask", "ids", "verdict"]),
  ].join("\n");
}

/** `all`, `none` or `k/n`: how many of a group's sets apply a patch. */
function shareText(k: number, n: number): string {
  return k === n ? "all" : k === 0 ? "none" : `${k}/${n}`;
}

/** One group's figure: caption, then the patch × set picture in blocks that fit 800 px. */
function groupFigure(input: MatrixHeatmapInput, group: OutcomeGroup): string {
  const patches = input.patches;
  const n = group.cells.length;
  const drawn = group.cells.slice(0, MAX_DRAWN);
  const nameW = Math.ceil(Math.max(...patches.map((p) => textWidth(p))) + 10);
  const shareW = Math.ceil(textWidth(`${n}/${n}`) + 14);
  const perBlock = Math.max(8, Math.floor((MAX_WIDTH - nameW - shareW - 8) / COL));
  const blocks: MatrixCell[][] = [];
  for (let i = 0; i < drawn.length; i += perBlock) blocks.push(drawn.slice(i, i + perBlock));
  const colour = verdictColor(group.verdict);
  const blockH = patches.length * ROW + 8;
  const width = nameW + shareW + Math.min(perBlock, drawn.length) * COL + 4;
  const parts: string[] = [];
  blocks.forEach((block, b) => {
    const top = b * blockH;
    patches.forEach((p, r) => {
      const y = top + r * ROW;
      const k = group.cells.filter((c) => c.ids.includes(p)).length;
      parts.push(
        el("rect", {
          class: "patch-row",
          x: 0,
          y,
          width: nameW + shareW + block.length * COL,
          height: ROW,
          fill: r % 2 ? "#f7f8fa" : "#ffffff",
        }),
        el(
          "text",
          { class: "patch-name", x: nameW - 8, y: y + ROW - 4, "text-anchor": "end" },
          escapeHtml(p),
        ),
      );
      if (b === 0) {
        parts.push(el(
          "text",
          {
            class: `share${k === n ? " all" : k === 0 ? " none" : ""}`,
            x: nameW + shareW - 10,
            y: y + ROW - 4,
            "text-anchor": "end",
            "data-patch": p,
            "data-count": k,
          },
          shareText(k, n),
          title(`${p}: applied in ${k} of the ${n} sets with this outcome`),
        ));
      }
    });
    block.forEach((c, i) => {
      const x = nameW + shareW + i * COL;
      const dots = patches.map((p, r) =>
        c.ids.includes(p)
          ? el("rect", {
            class: "dot on",
            x: x + 1,
            y: top + r * ROW + 2,
            width: COL - 2,
            height: ROW - 4,
            rx: 1.5,
            fill: colour,
          })
          : el("rect", {
            class: "dot off",
            x: x + COL / 2 - 1,
            y: top + r * ROW + ROW / 2 - 1,
            width: 2,
            height: 2,
          })
      ).join("");
      parts.push(
        dots,
        el(
          "rect",
          {
            class: "cell set",
            x,
            y: top,
            width: COL,
            height: patches.length * ROW,
            "data-index": c.index,
            "data-mask": c.mask,
            "data-verdict": c.verdict,
          },
          title(setTip(c)),
        ),
      );
    });
  });
  const height = blocks.length * blockH;
  const smallest = group.cells[0];
  const more = n > drawn.length
    ? el(
      "p",
      { class: "note" },
      `The first ${drawn.length} of ${n} sets are drawn (fewest patches first).`,
    )
    : "";
  return el(
    "figure",
    { class: "outcome", "data-verdict": group.verdict, "data-sets": n },
    el(
      "figcaption",
      {},
      el(
        "span",
        { class: `verdict verdict-${group.verdict}`, style: `background:${colour}` },
        escapeHtml(group.verdict),
      ),
      ` <b>${n} ${n === 1 ? "set" : "sets"}</b>`,
      group.cause ? `: ${escapeHtml(group.cause)}` : "",
      el(
        "span",
        { class: "meta smallest" },
        `smallest: ${
          smallest.ids.length
            ? `${escapeHtml(smallest.ids.join(", "))} (${smallest.ids.length})`
            : "none (the 4.13 baseline)"
        }`,
      ),
    ),
    el(
      "div",
      { class: "table-scroll" },
      el(
        "svg",
        { class: "sets", width, height, role: "img", "aria-label": `${n} ${group.verdict} sets` },
        ...parts,
      ),
    ),
    more,
  );
}

/** The reason a skipped set gives (its cause without `would not build: `). */
function skipReason(c: MatrixCell): string {
  return (c.cause ?? "").replace(/^would not build:\s*/, "") || "no reason given";
}

/** The skipped sets, counted by reason, as a table with bars. */
function skippedTable(cells: readonly MatrixCell[]): string {
  const skipped = cells.filter((c) => c.verdict === "skipped");
  if (skipped.length === 0) return "";
  const reasons = [...countBy(skipped, skipReason)]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = reasons[0][1];
  return el(
    "section",
    { class: "skipped" },
    el(
      "h3",
      {},
      `${skipped.length} ${skipped.length === 1 ? "set was" : "sets were"} skipped: ` +
        "they would not build",
    ),
    el(
      "p",
      { class: "note" },
      "A set that applies a patch without a patch it requires is not run. Each is counted " +
        "once, by the first missing requirement its build reports.",
    ),
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        { id: "matrix-skipped", class: "reasons" },
        el("tr", {}, el("th", {}, "sets"), el("th", {}, ""), el("th", {}, "reason")),
        ...reasons.map(([reason, count]) =>
          el(
            "tr",
            { "data-reason": reason, "data-count": count },
            el("td", { class: "count" }, String(count)),
            el(
              "td",
              { class: "bar-cell" },
              el("span", {
                class: "bar",
                style: `width:${num((100 * count) / max, 1)}%;background:${
                  verdictColor("skipped")
                }`,
              }),
            ),
            el("td", { class: "mono" }, escapeHtml(reason)),
          )
        ),
      ),
    ),
  );
}

/** The matrix section: counts, legend, one figure per outcome group, the skipped sets. */
export function renderMatrixSection(input: MatrixHeatmapInput): string {
  const total = input.cells.length;
  const skipped = input.cells.filter((c) => c.verdict === "skipped").length;
  const ran = total - skipped;
  const heading = input.title ??
    `Matrix${input.scenario ? ` on ${input.scenario}` : ""}: ${total} patch sets, ${ran} ran, ` +
      `${skipped} skipped`;
  const what = [
    `${input.patches.length} patches toggled (${input.patches.join(", ")})`,
    input.with?.length ? `applied in every run: ${input.with.join(", ")}` : "",
    input.seed !== undefined ? `seed ${input.seed}` : "",
    input.seeds !== undefined ? `each set on seeds ${input.seeds}` : "",
  ].filter(Boolean).join("; ");
  const counts = countBy(input.cells, (c) => c.verdict);
  const groups = outcomeGroups(input.cells);
  return el(
    "section",
    { class: "matrix", "data-sets": total, "data-ran": ran, "data-skipped": skipped },
    el("h2", {}, escapeHtml(heading)),
    el("p", { class: "meta" }, escapeHtml(what)),
    legend(
      verdictOrder(counts.keys()).map((v) => ({
        key: v,
        color: verdictColor(v),
        label: `${v} (${counts.get(v)})`,
      })),
    ),
    el(
      "h3",
      {},
      `The ${ran} ${ran === 1 ? "set" : "sets"} that ran, by outcome`,
    ),
    el(
      "p",
      { class: "note" },
      "One picture per outcome (verdict and cause). Rows: the patches; columns: the sets " +
        "with that outcome, fewest patches first; a bar where the set applies the patch. " +
        "Beside each patch: in how many of the sets it is applied — all of them, none, or " +
        "some. Hover a column for its set and counters.",
    ),
    el("div", { class: "hover-info sticky mono" }, "hover a set to read it here"),
    ...groups.map((g) => groupFigure(input, g)),
    skippedTable(input.cells),
  );
}

/** A whole page of {@link renderMatrixSection}. */
export function renderMatrixHtml(input: MatrixHeatmapInput): string {
  const t = input.title ?? `kdump-lab matrix${input.scenario ? `: ${input.scenario}` : ""}`;
  return page(t, el("h1", {}, escapeHtml(t)) + renderMatrixSection({ ...input, title: undefined }));
}
