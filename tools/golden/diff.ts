/**
 * The golden check's comparison: two sets of reports by case key (the current tree's and a
 * revision's), and which cases differ — changed bytes, or a case only one side has.
 *
 * @module
 */

/** How two sets of reports differ. */
export interface GoldenDiff {
  /** Cases both sides have, whose reports differ (sorted). */
  changed: { key: string; line: number; before: string; after: string }[];
  /** Cases only the revision has (sorted). */
  onlyBefore: string[];
  /** Cases only the current tree has (sorted). */
  onlyAfter: string[];
  /** Cases compared and equal. */
  same: number;
}

/** Options of {@link diffReports}. */
export interface DiffOptions {
  /** Top-level report fields left out of the comparison (e.g. `timing`). */
  ignore?: readonly string[];
}

/** The report text with the ignored top-level fields removed (re-serialised as `run --json`). */
function comparable(text: string, ignore: readonly string[]): string {
  if (!ignore.length) return text;
  const r = JSON.parse(text) as Record<string, unknown>;
  for (const k of ignore) delete r[k];
  return JSON.stringify(r, null, 2) + "\n";
}

/** The first line where `a` and `b` differ (1-based), with both lines. */
function firstDifference(a: string, b: string): { line: number; before: string; after: string } {
  const la = a.split("\n"), lb = b.split("\n");
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return { line: i + 1, before: la[i] ?? "(end)", after: lb[i] ?? "(end)" };
  }
  return { line: 0, before: "", after: "" };
}

/** Compares `before` (the revision's reports) with `after` (the current tree's), by case key. */
export function diffReports(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  opts: DiffOptions = {},
): GoldenDiff {
  const ignore = opts.ignore ?? [];
  const out: GoldenDiff = { changed: [], onlyBefore: [], onlyAfter: [], same: 0 };
  for (const [key, a] of before) {
    const b = after.get(key);
    if (b === undefined) {
      out.onlyBefore.push(key);
      continue;
    }
    const ca = comparable(a, ignore), cb = comparable(b, ignore);
    if (ca === cb) out.same++;
    else out.changed.push({ key, ...firstDifference(ca, cb) });
  }
  for (const key of after.keys()) if (!before.has(key)) out.onlyAfter.push(key);
  out.changed.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  out.onlyBefore.sort();
  out.onlyAfter.sort();
  return out;
}

/** True when the two sets hold the same cases with equal reports. */
export function identical(d: GoldenDiff): boolean {
  return !d.changed.length && !d.onlyBefore.length && !d.onlyAfter.length;
}

/** The diff as lines for a terminal: one per differing case, then a total. */
export function diffLines(d: GoldenDiff, rev: string): string[] {
  const out: string[] = [];
  for (const c of d.changed) {
    out.push(
      `changed  ${c.key}  (line ${c.line}: ${rev} ${c.before.trim()} | now ${c.after.trim()})`,
    );
  }
  for (const k of d.onlyBefore) out.push(`missing  ${k}  (only at ${rev})`);
  for (const k of d.onlyAfter) out.push(`new      ${k}  (not at ${rev})`);
  const total = d.same + d.changed.length + d.onlyBefore.length + d.onlyAfter.length;
  out.push(
    identical(d)
      ? `golden: all ${d.same} reports byte-identical to ${rev}`
      : `golden: ${total - d.same} of ${total} cases differ from ${rev}`,
  );
  return out;
}

/** Reads every `*.json` of a directory into a map by file stem. */
export function readReports(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".json")) {
      out.set(e.name.slice(0, -5), Deno.readTextFileSync(`${dir}/${e.name}`));
    }
  }
  return out;
}
