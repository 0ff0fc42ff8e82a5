/**
 * Heatmaps of many runs, from plain data (whatever a matrix or an ablation computed):
 *
 * - a matrix of patch subsets ({@link MatrixHeatmapInput}): every subset as a cell of a
 *   2^⌈n/2⌉ × 2^⌊n/2⌋ grid (64 × 64 for the 4096 subsets of 12 patches) coloured by verdict,
 *   and a patch × verdict table (how often each verdict occurs with the patch in the subset);
 * - an ablation ({@link AblateHeatmapInput}): one row per left-out patch, columns verdict and
 *   counters, each counter cell shaded by its difference from the reference run (red: more,
 *   blue: fewer), or by its size when there is no reference.
 *
 * Hooks: `<svg id="matrix-grid">` with `rect.cell[data-mask][data-verdict]`,
 * `<svg id="matrix-patches">` with `rect.cell[data-patch][data-verdict]`,
 * `<svg id="ablate">` with `rect.cell[data-id][data-column]`.
 *
 * @module
 */
import { el, escapeHtml, legend, num, page, title, verdictColor } from "./kit.ts";
import { VERDICTS } from "../lab/report.ts";

/** One run of a matrix: a subset of the patches and its outcome. */
export interface MatrixCell {
  /** Position in the matrix's own order (shown in the tooltip). */
  index: number;
  /** The subset as a bit mask: bit i set ⇔ `patches[i]` is applied. */
  mask: number;
  /** Ids of the applied plugins. */
  ids: readonly string[];
  /** The run's verdict. */
  verdict: string;
  // Any other fields (counters, a cause): their numbers and strings are listed in the tooltip.
}

/** Input of the matrix heatmap. */
export interface MatrixHeatmapInput {
  cells: readonly MatrixCell[];
  /** Which number places a cell in the grid: its `mask` (default) or its `index`. */
  by?: "mask" | "index";
  /** Patch ids in bit order of that number (bit 0 first). */
  patches: readonly string[];
  /** Scenario name, for the heading. */
  scenario?: string;
  /** Page / section title. */
  title?: string;
}

/** One row of an ablation: the series without `id`, and its outcome. */
export interface AblateRow {
  /** The plugin left out (or a label such as `(none)` for the reference). */
  id: string;
  verdict: string;
  // Any other fields: the numeric ones, at the top level or one object deep
  // (`counters.faults`), are the counter columns; all scalars go into the tooltips.
}

/** Input of the ablation heatmap. */
export interface AblateHeatmapInput {
  rows: readonly AblateRow[];
  /** The run with nothing left out; counter cells are shaded by their difference from it. */
  reference?: AblateRow;
  /** Counter columns (paths such as `strayWrites` or `counters.faults`). Default: every
   * numeric field found in the rows, in order of first appearance. */
  counters?: readonly string[];
  scenario?: string;
  title?: string;
}

/** Verdicts in a fixed order: the report's, then unknown ones alphabetically. */
function verdictOrder(seen: Iterable<string>): string[] {
  const set = new Set(seen);
  const known = VERDICTS.filter((v) => set.has(v)) as string[];
  return [...known, ...[...set].filter((v) => !known.includes(v)).sort()];
}

/** Counts per verdict. */
function countVerdicts(verdicts: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of verdicts) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** A verdict legend with counts. */
function verdictLegend(counts: Map<string, number>): string {
  return legend(
    verdictOrder(counts.keys()).map((v) => ({
      key: v,
      color: verdictColor(v),
      label: `${v} (${counts.get(v)})`,
    })),
  );
}

/** `key: value` lines of a row's extra scalar fields (skipping the given keys). */
function extras(row: object, skip: readonly string[]): string[] {
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

/** The number that places a cell: its mask or its index (see {@link MatrixHeatmapInput.by}). */
function gridKey(input: MatrixHeatmapInput, c: MatrixCell): number {
  return input.by === "index" ? c.index : c.mask;
}

/** Bits needed to write `n`. */
function bitWidth(n: number): number {
  return n > 0 ? Math.floor(Math.log2(n)) + 1 : 0;
}

/**
 * The 2^⌈n/2⌉ × 2^⌊n/2⌋ grid of subsets: key = row << colBits | col, where key is the cell's
 * mask (or index, see {@link MatrixHeatmapInput.by}). Subsets that did not run stay grey.
 */
export function renderMatrixHeatmap(input: MatrixHeatmapInput): string {
  const patches = input.patches;
  const bits = Math.max(patches.length, ...input.cells.map((c) => bitWidth(gridKey(input, c))));
  const colBits = Math.ceil(bits / 2), rowBits = bits - colBits;
  const cols = 2 ** colBits, rows = 2 ** rowBits;
  const size = Math.max(6, Math.min(28, Math.floor(640 / Math.max(cols, rows))));
  const left = 56, top = 28;
  const w = left + cols * size + 8, h = top + rows * size + 8;
  const cells = input.cells.map((c) => {
    const key = gridKey(input, c);
    const row = Math.floor(key / cols), col = key % cols;
    const lines = [
      `#${c.index} mask 0x${c.mask.toString(16)}: ${c.verdict}`,
      c.ids.length ? `applied: ${c.ids.join(", ")}` : "applied: none (the 4.13 baseline)",
      ...extras(c, ["index", "mask", "ids", "verdict"]),
    ];
    return el(
      "rect",
      {
        class: "cell",
        x: left + col * size,
        y: top + row * size,
        width: size,
        height: size,
        fill: verdictColor(c.verdict),
        "data-index": c.index,
        "data-mask": c.mask,
        "data-verdict": c.verdict,
      },
      title(lines.join("\n")),
    );
  });
  const ticks: string[] = [];
  const every = Math.max(1, Math.ceil(28 / size));
  for (let c = 0; c < cols; c += every) {
    ticks.push(el("text", { x: left + c * size, y: top - 6 }, `${c}`));
  }
  for (let r = 0; r < rows; r += every) {
    ticks.push(
      el("text", { x: left - 4, y: top + r * size + size - 1, "text-anchor": "end" }, `${r}`),
    );
  }
  const lowNames = patches.slice(0, colBits), highNames = patches.slice(colBits, bits);
  return el(
    "figure",
    { class: "heatmap matrix-grid" },
    el(
      "svg",
      {
        id: "matrix-grid",
        viewBox: `0 0 ${w} ${h}`,
        width: w,
        height: h,
        role: "img",
        "data-bits": bits,
      },
      el("rect", {
        class: "grid-bg",
        x: left,
        y: top,
        width: cols * size,
        height: rows * size,
        fill: "#e6e7ea",
      }),
      el("g", { class: "ticks" }, ...ticks),
      el("g", { class: "cells" }, ...cells),
    ),
    el(
      "figcaption",
      { class: "note" },
      escapeHtml(
        `Each cell is one subset of the ${bits} patches (${input.cells.length} of ` +
          `${2 ** bits} ran; grey: not run). ` +
          `Column = bits 0–${colBits - 1} of the ${input.by ?? "mask"} ` +
          `(${lowNames.join(", ") || "—"}); ` +
          `row = bits ${colBits}–${bits - 1} (${highNames.join(", ") || "—"}). ` +
          "Hover a cell for its patches.",
      ),
    ),
  );
}

/** The patch × verdict table: with the patch applied, how often each verdict occurs. */
function patchVerdictTable(input: MatrixHeatmapInput): string {
  const patches = input.patches;
  const verdicts = verdictOrder(input.cells.map((c) => c.verdict));
  const cw = 92, rh = 20, left = 230, top = 24;
  const w = left + verdicts.length * cw + 8, h = top + patches.length * rh + 8;
  const head = verdicts.map((v, i) =>
    el("text", { x: left + i * cw + cw / 2, y: top - 8, "text-anchor": "middle" }, escapeHtml(v))
  );
  const body = patches.flatMap((p, r) => {
    const withP = input.cells.filter((c) => c.ids.includes(p));
    const without = input.cells.filter((c) => !c.ids.includes(p));
    const label = el(
      "text",
      { x: left - 6, y: top + r * rh + rh - 6, "text-anchor": "end" },
      escapeHtml(p),
    );
    return [
      label,
      ...verdicts.map((v, i) => {
        const a = withP.filter((c) => c.verdict === v).length;
        const b = without.filter((c) => c.verdict === v).length;
        const share = withP.length ? a / withP.length : 0;
        const pct = (n: number, d: number) => (d ? `${Math.round((100 * n) / d)}%` : "—");
        const tip = `${p} applied: ${a}/${withP.length} ${v} (${pct(a, withP.length)}); ` +
          `left out: ${b}/${without.length} (${pct(b, without.length)})`;
        const x = left + i * cw, y = top + r * rh;
        return el(
          "g",
          {},
          el(
            "rect",
            {
              class: "cell",
              x,
              y,
              width: cw,
              height: rh,
              fill: verdictColor(v),
              "fill-opacity": num(0.08 + 0.92 * share),
              "data-patch": p,
              "data-verdict": v,
              "data-count": a,
            },
            title(tip),
          ),
          el(
            "text",
            { x: x + cw / 2, y: y + rh - 6, "text-anchor": "middle", "pointer-events": "none" },
            String(a),
          ),
        );
      }),
    ];
  });
  return el(
    "figure",
    { class: "heatmap matrix-patches" },
    el(
      "svg",
      { id: "matrix-patches", viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img" },
      ...head,
      ...body,
    ),
    el(
      "figcaption",
      { class: "note" },
      "Rows: patches; columns: verdicts. A cell counts the subsets that apply the patch and " +
        "end with the verdict (shade: its share of them); hover for the share without it.",
    ),
  );
}

/** The matrix heatmaps (grid and patch × verdict) with a verdict legend, as one section. */
export function renderMatrixSection(input: MatrixHeatmapInput): string {
  const heading = input.title ??
    `Matrix${input.scenario ? ` on ${input.scenario}` : ""}: ${input.cells.length} runs`;
  return el(
    "section",
    { class: "matrix", "data-runs": input.cells.length },
    el("h2", {}, escapeHtml(heading)),
    verdictLegend(countVerdicts(input.cells.map((c) => c.verdict))),
    renderMatrixHeatmap(input),
    patchVerdictTable(input),
    el("div", { class: "hover-info mono" }, "hover a cell to read it here"),
  );
}

/** A whole page of {@link renderMatrixSection}. */
export function renderMatrixHtml(input: MatrixHeatmapInput): string {
  const t = input.title ?? `kdump-lab matrix${input.scenario ? `: ${input.scenario}` : ""}`;
  return page(t, el("h1", {}, escapeHtml(t)) + renderMatrixSection({ ...input, title: undefined }));
}

/** A row's numeric leaves: `key` → value for top-level numbers and `key.sub` one level deep. */
export function numericFields(row: object): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(row as Record<string, unknown>)) {
    if (k === "index" || k === "mask") continue;
    if (typeof v === "number" && Number.isFinite(v)) out.set(k, v);
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v)) {
        if (typeof v2 === "number" && Number.isFinite(v2)) out.set(`${k}.${k2}`, v2);
      }
    }
  }
  return out;
}

/** The ablation heatmap: rows = left-out patch, columns = verdict and counters. */
export function renderAblateHeatmap(input: AblateHeatmapInput): string {
  const all = input.reference ? [input.reference, ...input.rows] : [...input.rows];
  const fields = all.map((r) => numericFields(r));
  const columns = input.counters ? [...input.counters] : [];
  if (!input.counters) {
    for (const f of fields) for (const k of f.keys()) if (!columns.includes(k)) columns.push(k);
  }
  const ref = input.reference ? numericFields(input.reference) : undefined;
  const cw = 96, vw = 110, rh = 20, left = 230, top = 40;
  const w = left + vw + columns.length * cw + 8, h = top + all.length * rh + 8;
  const spread = columns.map((c) => {
    const vals = fields.map((f) => f.get(c)).filter((v): v is number => v !== undefined);
    if (ref?.has(c)) return Math.max(0, ...vals.map((v) => Math.abs(v - ref.get(c)!)));
    return Math.max(0, ...vals);
  });
  const head = [
    el("text", { x: left + vw / 2, y: top - 8, "text-anchor": "middle" }, "verdict"),
    ...columns.map((c, i) =>
      el(
        "text",
        {
          x: left + vw + i * cw + cw / 2,
          y: top - 8,
          "text-anchor": "middle",
          transform: `rotate(-12 ${left + vw + i * cw + cw / 2} ${top - 8})`,
        },
        escapeHtml(c.split(".").at(-1)!),
        title(c),
      )
    ),
  ];
  const body = all.flatMap((row, r) => {
    const y = top + r * rh;
    const isRef = input.reference !== undefined && r === 0;
    const name = isRef ? `${row.id} (reference)` : `without ${row.id}`;
    const cells = [
      el(
        "text",
        {
          x: left - 6,
          y: y + rh - 6,
          "text-anchor": "end",
          class: isRef ? "reference" : undefined,
        },
        escapeHtml(name),
      ),
      el(
        "rect",
        {
          class: "cell verdict",
          x: left,
          y,
          width: vw,
          height: rh,
          fill: verdictColor(row.verdict),
          "data-id": row.id,
          "data-column": "verdict",
          "data-verdict": row.verdict,
        },
        title([`${name}: ${row.verdict}`, ...extras(row, ["id", "verdict"])].join("\n")),
      ),
      el(
        "text",
        { x: left + vw / 2, y: y + rh - 6, "text-anchor": "middle", fill: "#fff" },
        escapeHtml(row.verdict),
      ),
    ];
    columns.forEach((c, i) => {
      const v = fields[r].get(c);
      const x = left + vw + i * cw;
      let fill = "#f1f2f4", tip = `${name}: ${c} not given`;
      if (v !== undefined) {
        const base = ref?.get(c);
        const d = base === undefined ? v : v - base;
        const t = spread[i] ? Math.min(1, Math.abs(d) / spread[i]) : 0;
        fill = base === undefined
          ? shade([43, 108, 176], t)
          : shade(d > 0 ? [214, 39, 40] : [43, 108, 176], t);
        tip = `${name}: ${c} = ${v}` +
          (base === undefined ? "" : ` (${d >= 0 ? "+" : ""}${d} vs the reference)`);
      }
      cells.push(
        el(
          "rect",
          {
            class: "cell counter",
            x,
            y,
            width: cw,
            height: rh,
            fill,
            "data-id": row.id,
            "data-column": c,
            "data-value": v,
          },
          title(tip),
        ),
        el(
          "text",
          { x: x + cw / 2, y: y + rh - 6, "text-anchor": "middle", "pointer-events": "none" },
          v === undefined ? "—" : String(v),
        ),
      );
    });
    return cells;
  });
  return el(
    "figure",
    { class: "heatmap ablate" },
    el(
      "svg",
      { id: "ablate", viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img" },
      ...head,
      ...body,
    ),
    el(
      "figcaption",
      { class: "note" },
      ref
        ? "Counter cells: red = more than the reference run, blue = fewer; the deeper, the " +
          "larger the difference within the column."
        : "Counter cells: the deeper the blue, the larger the value within the column.",
    ),
  );
}

/** White blended towards `rgb` by `t` (0 … 1), as `#rrggbb`. */
function shade(rgb: readonly number[], t: number): string {
  return "#" + rgb.map((c) => Math.round(255 + (c - 255) * t).toString(16).padStart(2, "0"))
    .join("");
}

/** The ablation heatmap with a verdict legend, as one section. */
export function renderAblateSection(input: AblateHeatmapInput): string {
  const heading = input.title ??
    `Ablation${input.scenario ? ` on ${input.scenario}` : ""}: ${input.rows.length} patches`;
  const verdicts = [...(input.reference ? [input.reference] : []), ...input.rows].map((r) =>
    r.verdict
  );
  return el(
    "section",
    { class: "ablate", "data-rows": input.rows.length },
    el("h2", {}, escapeHtml(heading)),
    verdictLegend(countVerdicts(verdicts)),
    renderAblateHeatmap(input),
    el("div", { class: "hover-info mono" }, "hover a cell to read it here"),
  );
}

/** A whole page of {@link renderAblateSection}. */
export function renderAblateHtml(input: AblateHeatmapInput): string {
  const t = input.title ?? `kdump-lab ablation${input.scenario ? `: ${input.scenario}` : ""}`;
  return page(t, el("h1", {}, escapeHtml(t)) + renderAblateSection({ ...input, title: undefined }));
}
