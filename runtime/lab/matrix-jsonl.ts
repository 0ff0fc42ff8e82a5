/**
 * The matrix's JSONL: a header line, `{"matrix":{…}}`, that says what ran (scenario, seed,
 * mode, toggled patches, `with` plugins, plugin files, forced or not, the number of runs,
 * and for a shard which one), then one compact {@link MatrixLine} per run, sorted by index.
 * Keys are written in a fixed order, so the same matrix gives the same bytes however it was
 * run (any number of workers, sharded and merged or not).
 *
 * Merging shard files checks that they describe the same matrix and together hold every run
 * exactly once; the merged file is byte for byte what the unsharded run writes.
 *
 * @module
 */
import { z } from "npm:zod@^4";
import { formatZodError } from "./errors.ts";
import { InputError } from "./input.ts";
import { MatrixPlan } from "./matrix.ts";
import type { CheckedConfig, MatrixLine, PluginFileArg } from "./matrix-run.ts";
import { matrixLine } from "./matrix-run.ts";
import { VERDICTS } from "./report.ts";
import { parseSeeds, seedsText } from "./seeds.ts";

/** What a matrix ran: the first line of its JSONL. */
export interface MatrixHeader {
  /** Version of this format. */
  format: 1;
  /** The scenario's name. */
  scenario: string;
  /** The seed of every run (over seeds: the first). */
  seed: number;
  /** A matrix over seeds: the seeds every set runs on (a seeds spec, e.g. `1..20`). */
  seeds?: string;
  /** `full` (every subset of the patches) or `pairwise` (none, each alone, each pair, all). */
  mode: "full" | "pairwise";
  /** The toggled patches, in series order (bit j of a run's index for a full matrix). */
  patches: string[];
  /** Plugin ids applied in every run. */
  with: string[];
  /** Users' plugin files applied in every run, as given. */
  plugins: PluginFileArg[];
  /** `--replace ID=FILE` in every run (absent when none). */
  replace?: { id: string; file: string }[];
  /** `--order IDS` (absent when none). */
  order?: string[];
  /** `--disable ID`: plugins off in every run (absent when none). */
  disable?: string[];
  /** Whether series with missing dependencies were run (`--force`) instead of skipped. */
  force: boolean;
  /** Runs in the whole matrix (a shard holds some of them). */
  runs: number;
  /** `k/n` for a shard's file; absent for a whole matrix. */
  shard?: string;
}

const count = z.number().int().nonnegative();

const HeaderSchema = z.object({
  format: z.literal(1),
  scenario: z.string(),
  seed: z.number().int(),
  seeds: z.string().optional(),
  mode: z.enum(["full", "pairwise"]),
  patches: z.array(z.string()),
  with: z.array(z.string()),
  plugins: z.array(
    z.object({ file: z.string(), before: z.string().optional(), after: z.string().optional() }),
  ),
  replace: z.array(z.object({ id: z.string(), file: z.string() })).optional(),
  order: z.array(z.string()).optional(),
  disable: z.array(z.string()).optional(),
  force: z.boolean(),
  runs: count,
  shard: z.string().optional(),
});

const LineSchema = z.object({
  index: count,
  mask: count,
  ids: z.array(z.string()),
  seed: z.number().int().optional(),
  verdict: z.enum(VERDICTS),
  ioPageFaults: count,
  faultsPrinted: count,
  faultsSuppressed: count,
  strayWriteCount: count,
  badPages: count,
  cause: z.string(),
});

/** The header of a checked config's matrix (or of one shard of it). */
export function matrixHeader(c: CheckedConfig, shard?: string): MatrixHeader {
  return normalHeader({
    format: 1,
    scenario: c.name,
    seed: c.seed,
    seeds: c.seeds ? seedsText(c.seeds) : undefined,
    mode: c.mode,
    patches: c.patches,
    with: c.with,
    plugins: c.plugins,
    replace: c.replace,
    order: c.order,
    disable: c.disable,
    force: c.force,
    runs: c.plan.size,
    shard,
  });
}

/** The header with its keys in the written order, without undefined values. */
function normalHeader(h: MatrixHeader): MatrixHeader {
  return {
    format: h.format,
    scenario: h.scenario,
    seed: h.seed,
    ...(h.seeds !== undefined ? { seeds: h.seeds } : {}),
    mode: h.mode,
    patches: [...h.patches],
    with: [...h.with],
    plugins: h.plugins.map((p) => ({
      file: p.file,
      ...(p.before !== undefined ? { before: p.before } : {}),
      ...(p.after !== undefined ? { after: p.after } : {}),
    })),
    ...(h.replace?.length ? { replace: h.replace.map((r) => ({ id: r.id, file: r.file })) } : {}),
    ...(h.order?.length ? { order: [...h.order] } : {}),
    ...(h.disable?.length ? { disable: [...h.disable] } : {}),
    force: h.force,
    runs: h.runs,
    ...(h.shard !== undefined ? { shard: h.shard } : {}),
  };
}

/** The JSONL text: the header line, then the lines sorted by index, each ending in `\n`. */
export function formatJsonl(header: MatrixHeader, lines: readonly MatrixLine[]): string {
  const sorted = [...lines].sort((a, b) => a.index - b.index);
  const out = [JSON.stringify({ matrix: normalHeader(header) })];
  for (const l of sorted) out.push(JSON.stringify(matrixLine(l, l)));
  return out.join("\n") + "\n";
}

/** A parsed JSONL file. */
export interface MatrixFile {
  /** Its first line: what the matrix ran. */
  header: MatrixHeader;
  /** The other lines, one per run. */
  lines: MatrixLine[];
}

/**
 * Parses a matrix JSONL file.
 *
 * @param name how messages name the file
 * @throws {InputError} one line naming the file and line for anything that is not a matrix
 *   header followed by result lines
 */
export function parseJsonl(text: string, name: string): MatrixFile {
  const rows = text.split("\n");
  while (rows.length && rows.at(-1)!.trim() === "") rows.pop();
  if (!rows.length) throw new InputError(`${name}: empty (expected a matrix JSONL file)`);
  const json = (row: string, n: number): unknown => {
    try {
      return JSON.parse(row);
    } catch {
      throw new InputError(`${name} line ${n}: not JSON`);
    }
  };
  const first = json(rows[0], 1) as { matrix?: unknown } | null;
  if (typeof first !== "object" || first === null || !("matrix" in first)) {
    throw new InputError(`${name} line 1: not a matrix header (written by kdump-lab matrix)`);
  }
  const header = HeaderSchema.safeParse(first.matrix);
  if (!header.success) throw new InputError(formatZodError(`${name} line 1`, header.error));
  const lines = rows.slice(1).map((row, i) => {
    const line = LineSchema.safeParse(json(row, i + 2));
    if (!line.success) throw new InputError(formatZodError(`${name} line ${i + 2}`, line.error));
    return line.data;
  });
  return { header: header.data, lines };
}

/** Sorted integers as ranges (`0–3, 7, 9–12`), at most `max` items, then how many in all. */
export function indexList(indices: readonly number[], max = 8): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const items: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    items.push(j > i ? `${sorted[i]}–${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  const shown = items.slice(0, max).join(", ");
  return items.length > max ? `${shown}, … (${sorted.length} in all)` : shown;
}

/** The fields of a header that differ from another's. */
function headerDiff(a: MatrixHeader, b: MatrixHeader): string[] {
  const keys = Object.keys(HeaderSchema.shape) as (keyof MatrixHeader)[];
  return keys.filter((k) =>
    k !== "shard" && JSON.stringify(normalHeader(a)[k]) !== JSON.stringify(normalHeader(b)[k])
  );
}

/**
 * Merges matrix files (shards of one matrix) into the whole matrix: the header without a
 * shard, and every run's line sorted by index.
 *
 * @throws {InputError} when the files describe different matrices, a line is not the run its
 *   index names, or runs are missing or appear more than once (naming the indices)
 */
export function mergeJsonl(files: readonly { name: string; text: string }[]): MatrixFile {
  if (!files.length) throw new InputError("no files to merge");
  const parsed = files.map((f) => ({ name: f.name, ...parseJsonl(f.text, f.name) }));
  const header = { ...parsed[0].header, shard: undefined };
  for (const f of parsed.slice(1)) {
    const diff = headerDiff(parsed[0].header, f.header);
    if (diff.length) {
      throw new InputError(
        `${f.name}: not the same matrix as ${parsed[0].name} (${diff.join(", ")} differ)`,
      );
    }
  }
  const plan = new MatrixPlan(
    header.mode,
    header.patches,
    header.seeds === undefined ? undefined : parseSeeds(header.seeds, `${parsed[0].name}: seeds`),
  );
  if (plan.size !== header.runs) {
    throw new InputError(
      `${parsed[0].name}: the header says ${header.runs} runs, not ${plan.size}`,
    );
  }
  const byIndex = new Map<number, MatrixLine>();
  const duplicate = new Set<number>();
  for (const f of parsed) {
    for (const l of f.lines) {
      if (l.index >= plan.size) {
        throw new InputError(
          `${f.name}: run index ${l.index} is outside the matrix (0..${plan.size - 1})`,
        );
      }
      const r = plan.at(l.index);
      if (r.mask !== l.mask || r.ids.join() !== l.ids.join() || r.seed !== l.seed) {
        throw new InputError(`${f.name}: run ${l.index} is not mask ${r.mask} of this matrix`);
      }
      if (byIndex.has(l.index)) duplicate.add(l.index);
      else byIndex.set(l.index, l);
    }
  }
  const missing = [];
  for (let i = 0; i < plan.size; i++) if (!byIndex.has(i)) missing.push(i);
  const problems = [];
  if (missing.length) problems.push(`missing run indices ${indexList(missing)}`);
  if (duplicate.size) problems.push(`duplicate run indices ${indexList([...duplicate])}`);
  if (problems.length) throw new InputError(`cannot merge: ${problems.join("; ")}`);
  return {
    header: normalHeader(header),
    lines: [...byIndex.values()].sort((a, b) => a.index - b.index),
  };
}
