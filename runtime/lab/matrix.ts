/**
 * The series matrix: which runs a matrix makes. A matrix toggles some patches of the series
 * (all twelve by default, or those `--patches` names) and runs every combination of them
 * ("full"), or a pairwise set ("pairwise").
 *
 * - **full**: run `i` (0 ≤ i < 2^k) applies the toggled patches whose bit is set in `i`,
 *   bit j standing for the j-th toggled patch in series order. With all twelve patches the
 *   index is the series bitmask itself.
 * - **pairwise**: no patch, each patch alone, each pair of patches, then all of them, in
 *   that order (singles and pairs in series order, pairs lexicographic), without repeating
 *   a set already listed: 1 + k + k(k−1)/2 + 1 runs (80 for the twelve patches). Every pair
 *   of patches is applied together in some run, and the set is also a strength-2 covering
 *   array: for any two patches, each of the four on/off combinations occurs in some run
 *   (on/on: their pair; on/off and off/on: each alone; off/off: no patch).
 *
 * Every run carries `mask`, the bitmask over every patch (bit j = the j-th of the series, then the later fixes, of
 * the series), so masks compare across matrices restricted to different patches, and `ids`,
 * the patches it applies in series order.
 *
 * @module
 */
import { InputError } from "./input.ts";
import { patchIds, seriesIds } from "./plugins.ts";

/** How a matrix enumerates combinations of its patches. */
export type MatrixMode = "full" | "pairwise";

/** The most patches a matrix toggles (the series has twelve). */
const MAX_PATCHES = 24;

/** One run of a matrix: its position, the patches it applies and, over seeds, its seed. */
export interface MatrixRun {
  /** Position in the matrix (0-based); the order of result lines. */
  index: number;
  /** Bitmask over every patch: bit j set = the j-th patch (the series, then the later fixes) is applied. */
  mask: number;
  /** The patches applied, in series order. */
  ids: string[];
  /** A matrix over seeds (`--seeds`): the run's seed (each set runs on every seed in turn). */
  seed?: number;
}

/**
 * Checks and orders the patches a matrix toggles: series ids, none twice, returned in series
 * order whatever order they were given in. `undefined` means the whole series.
 *
 * @throws {InputError} for an unknown or repeated id, or an empty list
 */
export function matrixPatches(ids?: readonly string[]): string[] {
  if (ids === undefined) return seriesIds();
  const all = patchIds();
  if (ids.length === 0) throw new InputError("no patches to toggle (give series ids)");
  const seen = new Set<string>();
  for (const id of ids) {
    if (!all.includes(id)) {
      throw new InputError(`unknown patch "${id}" (patches: ${all.join(", ")})`);
    }
    if (seen.has(id)) throw new InputError(`patch "${id}" named twice`);
    seen.add(id);
  }
  return all.filter((id) => seen.has(id));
}

/** The local subsets (bit j = j-th toggled patch) of a pairwise set over `k` patches. */
function pairwiseSubsets(k: number): number[] {
  const sets = [0];
  for (let a = 0; a < k; a++) sets.push(2 ** a);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) sets.push(2 ** a + 2 ** b);
  }
  sets.push(2 ** k - 1);
  return [...new Set(sets)];
}

/** The runs of a matrix, by index. */
export class MatrixPlan {
  /** The toggled patches, in series order. */
  readonly patches: readonly string[];
  /** How the combinations are enumerated. */
  readonly mode: MatrixMode;
  /** Local subsets by index, for a pairwise plan (a full plan's index is its subset). */
  private readonly subsets?: number[];
  /** Series bit of each toggled patch. */
  private readonly bits: number[];
  /** Over seeds: every set runs on each (run i is set ⌊i / seeds⌋ on seed i mod seeds). */
  readonly seeds?: readonly number[];

  /**
   * @param patches the toggled patches (see {@link matrixPatches}; default: the series)
   * @param seeds a matrix over seeds: every set runs on each of them
   * @throws {InputError} for a bad patch list
   */
  constructor(mode: MatrixMode, patches?: readonly string[], seeds?: readonly number[]) {
    if (seeds?.length) this.seeds = [...seeds];
    this.mode = mode;
    this.patches = matrixPatches(patches);
    if (this.patches.length > MAX_PATCHES) {
      throw new InputError(`too many patches to toggle (${this.patches.length} > ${MAX_PATCHES})`);
    }
    const all = patchIds();
    this.bits = this.patches.map((id) => 2 ** all.indexOf(id));
    if (mode === "pairwise") this.subsets = pairwiseSubsets(this.patches.length);
  }

  /** The number of sets of patches. */
  get sets(): number {
    return this.subsets?.length ?? 2 ** this.patches.length;
  }

  /** The number of runs: the sets, times the seeds over seeds. */
  get size(): number {
    return this.sets * (this.seeds?.length ?? 1);
  }

  /** The run at `index`. */
  at(index: number): MatrixRun {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new RangeError(`run index ${index} is outside the matrix (0..${this.size - 1})`);
    }
    const n = this.seeds?.length ?? 1;
    const set = Math.floor(index / n);
    const local = this.subsets ? this.subsets[set] : set;
    let mask = 0;
    const ids: string[] = [];
    this.patches.forEach((id, j) => {
      if (Math.floor(local / 2 ** j) % 2 === 1) {
        mask += this.bits[j];
        ids.push(id);
      }
    });
    return this.seeds ? { index, mask, ids, seed: this.seeds[index % n] } : { index, mask, ids };
  }

  /** Every run, in index order. */
  runs(): MatrixRun[] {
    return Array.from({ length: this.size }, (_, i) => this.at(i));
  }
}

/** A shard: the k-th (1-based) of n. */
export interface Shard {
  /** Which shard, 1 ≤ k ≤ n. */
  k: number;
  /** How many shards the matrix is split into. */
  n: number;
}

/**
 * Parses `k/n` (1 ≤ k ≤ n).
 *
 * @throws {InputError} otherwise
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m) throw new InputError(`shard "${text}" is not k/n (e.g. 1/2)`);
  if (!(n >= 1 && k >= 1 && k <= n) || !Number.isSafeInteger(n)) {
    throw new InputError(`shard "${text}": k must be between 1 and n (n ≥ 1)`);
  }
  return { k, n };
}

/**
 * The run indices a shard runs: every i with i % n == k − 1 (strided, so each shard gets
 * its share of the cheap skipped runs and the expensive ones). Without a shard, all of them.
 */
export function shardIndices(size: number, shard?: Shard): number[] {
  const out: number[] = [];
  const step = shard?.n ?? 1;
  for (let i = (shard?.k ?? 1) - 1; i < size; i += step) out.push(i);
  return out;
}

/** A shard as text, `k/n`. */
export function shardText(shard: Shard): string {
  return `${shard.k}/${shard.n}`;
}
