/**
 * The ablation page, from plain data (whatever an ablation computed): a table with one row
 * per left-out patch (the reference run — nothing left out — first), its verdict, and its
 * counters, each counter cell shaded by its difference from the reference (red: more, blue:
 * fewer), or by its size when there is no reference. A row's title and what changes against
 * the reference are written under its patch id.
 *
 * Hooks: `table#ablate` with `td.cell[data-id][data-column]` (`data-column="verdict"` or the
 * counter's path; a skipped row, which did not run, has no `data-value`), `tr[data-id]`.
 *
 * @module
 */
import { el, escapeHtml, legend, page, verdictColor } from "./kit.ts";
import { extras } from "./matrix.ts";
import { VERDICTS } from "../lab/report.ts";

/** One row of an ablation: the series without `id`, and its outcome. */
export interface AblateRow {
  /** The plugin left out (or a label such as `none` for the reference). */
  id: string;
  /** The run's verdict (its cell's colour). */
  verdict: string;
  /** The left-out patch's title (written under its id). */
  title?: string;
  /** What differs from the reference run, in words (written under the id). */
  changes?: readonly string[];
  // Any other fields: the numeric ones, at the top level or one object deep
  // (`counters.faults`), are the counter columns; all scalars go into the tooltips.
}

/** Input of the ablation page. */
export interface AblateHeatmapInput {
  /** The rows, one per left-out patch, in order. */
  rows: readonly AblateRow[];
  /** The run with nothing left out; counter cells are shaded by their difference from it. */
  reference?: AblateRow;
  /** Counter columns (paths such as `strayWrites` or `counters.faults`). Default: every
   * numeric field found in the rows, in order of first appearance. */
  counters?: readonly string[];
  /** The scenario's name (in the default heading and page title). */
  scenario?: string;
  /** The page's title and heading (default: from the scenario and the number of rows). */
  title?: string;
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

/** White blended towards `rgb` by `t` (0 … 1), as `#rrggbb`. */
function shade(rgb: readonly number[], t: number): string {
  return "#" + rgb.map((c) => Math.round(255 + (c - 255) * t).toString(16).padStart(2, "0"))
    .join("");
}

/** A column heading that may break between the words of a camelCase name. */
function columnHead(path: string): string {
  const name = path.split(".").at(-1)!;
  return escapeHtml(name).replace(/([a-z0-9])([A-Z])/g, "$1<wbr>$2");
}

/** The ablation table: rows = left-out patch, columns = verdict and counters. */
export function renderAblateTable(input: AblateHeatmapInput): string {
  const all = input.reference ? [input.reference, ...input.rows] : [...input.rows];
  const fields = all.map((r) => numericFields(r));
  const columns = input.counters ? [...input.counters] : [];
  if (!input.counters) {
    for (const f of fields) for (const k of f.keys()) if (!columns.includes(k)) columns.push(k);
  }
  const ref = input.reference ? numericFields(input.reference) : undefined;
  const spread = columns.map((c) => {
    const vals = fields.map((f) => f.get(c)).filter((v): v is number => v !== undefined);
    if (ref?.has(c)) return Math.max(0, ...vals.map((v) => Math.abs(v - ref.get(c)!)));
    return Math.max(0, ...vals);
  });
  const head = el(
    "tr",
    {},
    el("th", { class: "left-out" }, "left out"),
    el("th", {}, "verdict"),
    ...columns.map((c) => el("th", { title: c }, columnHead(c))),
  );
  const body = all.map((row, r) => {
    const isRef = input.reference !== undefined && r === 0;
    const name = isRef ? `${row.id} (reference)` : `without ${row.id}`;
    const changes = isRef ? [] : row.changes ?? [];
    const cells = [
      el(
        "th",
        { class: isRef ? "left-out reference" : "left-out", scope: "row" },
        el("code", {}, escapeHtml(isRef ? `${row.id} (reference)` : row.id)),
        row.title ? el("div", { class: "sub" }, escapeHtml(row.title)) : "",
        changes.length
          ? el(
            "div",
            { class: row.verdict === "skipped" ? "sub" : "changes" },
            escapeHtml(changes.join("; ")),
          )
          : "",
      ),
      el(
        "td",
        {
          class: "cell verdict-cell",
          "data-id": row.id,
          "data-column": "verdict",
          "data-verdict": row.verdict,
          style: `background:${verdictColor(row.verdict)}`,
          title: [`${name}: ${row.verdict}`, ...extras(row, ["id", "verdict"])].join("\n"),
        },
        escapeHtml(row.verdict),
      ),
    ];
    const ran = row.verdict !== "skipped";
    columns.forEach((c, i) => {
      const v = ran ? fields[r].get(c) : undefined;
      let fill = "#f1f2f4", dark = false;
      let tip = ran ? `${name}: ${c} not given` : `${name}: skipped, not run`;
      if (v !== undefined) {
        const base = ref?.get(c);
        const d = base === undefined ? v : v - base;
        const t = spread[i] ? Math.min(1, Math.abs(d) / spread[i]) : 0;
        fill = base === undefined
          ? shade([43, 108, 176], t)
          : shade(d > 0 ? [214, 39, 40] : [43, 108, 176], t);
        dark = t > 0.6;
        tip = `${name}: ${c} = ${v}` +
          (base === undefined ? "" : ` (${d >= 0 ? "+" : ""}${d} vs the reference)`);
      }
      cells.push(
        el(
          "td",
          {
            class: dark ? "cell counter on-dark" : "cell counter",
            "data-id": row.id,
            "data-column": c,
            "data-value": v,
            style: `background:${fill}`,
            title: tip,
          },
          v === undefined ? "—" : String(v),
        ),
      );
    });
    return el("tr", { "data-id": row.id }, ...cells);
  });
  const note = ref
    ? "Counter cells: red = more than the reference run, blue = fewer; the deeper, the " +
      "larger the difference within the column. Under each patch: its title and what " +
      "changes against the reference."
    : "Counter cells: the deeper the blue, the larger the value within the column.";
  return el(
    "figure",
    { class: "ablate" },
    el(
      "div",
      { class: "table-scroll" },
      el(
        "table",
        { id: "ablate", class: "ablate" },
        el("thead", {}, head),
        el("tbody", {}, ...body),
      ),
    ),
    el("figcaption", { class: "note" }, note),
  );
}

/** The ablation table with a verdict legend, as one section. */
export function renderAblateSection(input: AblateHeatmapInput): string {
  const heading = input.title ??
    `Ablation${input.scenario ? ` on ${input.scenario}` : ""}: ${input.rows.length} patches`;
  const all = [...(input.reference ? [input.reference] : []), ...input.rows];
  const counts = new Map<string, number>();
  for (const r of all) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  const order = [
    ...VERDICTS.filter((v) => counts.has(v)),
    ...[...counts.keys()].filter((v) => !(VERDICTS as readonly string[]).includes(v)).sort(),
  ];
  return el(
    "section",
    { class: "ablate", "data-rows": input.rows.length },
    el("h2", {}, escapeHtml(heading)),
    legend(
      order.map((v) => ({ key: v, color: verdictColor(v), label: `${v} (${counts.get(v)})` })),
    ),
    renderAblateTable(input),
  );
}

/** A whole page of {@link renderAblateSection}. */
export function renderAblateHtml(input: AblateHeatmapInput): string {
  const t = input.title ?? `kdump-lab ablation${input.scenario ? `: ${input.scenario}` : ""}`;
  return page(t, el("h1", {}, escapeHtml(t)) + renderAblateSection({ ...input, title: undefined }));
}
