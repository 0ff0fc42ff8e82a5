/**
 * Placing text labels along a plot whose width is not known when the page is written (it
 * follows the window): each label sits at a fraction `f` of the plot width, and its text has
 * a fixed width in pixels. A label placed at plot width `W` occupies
 *
 *     [f·W + offset, f·W + offset + width]
 *
 * where the offset depends on its anchor (start, middle, end). Two labels that do not overlap
 * at `W` do not overlap at any wider plot (the gap between their anchors grows, their widths
 * do not), and a label inside `[0, W]` stays inside. So labels are placed once, at the
 * narrowest plot the page allows ({@link PLOT_MIN}), and hold at every width above it.
 *
 * @module
 */

/** How a label hangs from its point: text starting there, centred on it, or ending there. */
export type Anchor = "start" | "middle" | "end";

/** A label to place: at fraction `f` (0 … 1) of the plot, `width` px of text. */
export interface LabelSpec {
  f: number;
  width: number;
  /**
   * Preferred anchor (default `middle`; `either`: start, else end), changed only where the
   * text would leave the plot.
   */
  anchor?: Anchor | "either";
}

/** Where a label went. */
export interface Placement {
  anchor: Anchor;
  /** Offset of the text's left end from `f·W`, px (for `dx` with text-anchor start). */
  offset: number;
  /** Level (0: the first row of labels); -1: it did not fit and is left out. */
  level: number;
}

/** Space kept between two labels on one level, px. */
export const LABEL_GAP = 6;
/** Room kept between a leader line and a label's text, px. */
const LEADER_CLEAR = 2;
/** Distance of a start- or end-anchored label's text from its point, px. */
export const LABEL_PAD = 3;

/** The left-end offset of a label with `anchor`. */
function offsetOf(anchor: Anchor, width: number): number {
  if (anchor === "start") return LABEL_PAD;
  if (anchor === "end") return -width - LABEL_PAD;
  return -width / 2;
}

/** The anchor that keeps the label inside `[0, w]`, starting from its preferred one. */
export function anchorWithin(spec: LabelSpec, w: number): Anchor {
  const at = spec.f * w;
  const preferred = spec.anchor === "either" ? "start" : spec.anchor ?? "middle";
  const fits = (a: Anchor) => {
    const left = at + offsetOf(a, spec.width);
    return left >= 0 && left + spec.width <= w;
  };
  if (fits(preferred)) return preferred;
  for (const a of ["start", "end", "middle"] as const) if (fits(a)) return a;
  return at < w / 2 ? "start" : "end";
}

/** Options of {@link placeLabels}. */
export interface PlaceOptions {
  /** Most levels to use (default 1: a label that collides is left out). */
  levels?: number;
  /** Labels already placed at this width (`[left, right]` px per level), kept clear of. */
  taken?: [number, number][][];
  /**
   * Each label has a leader line at its point, running from its level down through every
   * lower level to the plot (level 0 is the one nearest the plot): a label may not sit on
   * another's leader, nor its leader cross another's text.
   */
  leaders?: boolean;
}

/**
 * Places `specs` in the given order at plot width `w`: each on the lowest level where it
 * overlaps nothing already there, or left out (level -1) when every allowed level is taken.
 * With leaders, start-anchored labels are best given right to left: each leader then runs
 * down past texts that begin to its right, and the labels form a staircase.
 * Returns one {@link Placement} per spec and the occupied intervals per level.
 */
export function placeLabels(
  specs: readonly LabelSpec[],
  w: number,
  opts: PlaceOptions = {},
): { placements: Placement[]; taken: [number, number][][] } {
  const maxLevels = opts.levels ?? 1;
  const taken = (opts.taken ?? []).map((l) => [...l]);
  const leaders: { x: number; level: number }[] = [];
  const off = (x: number, [a, b]: [number, number]) => x < a - LEADER_CLEAR || x > b + LEADER_CLEAR;
  const placements = specs.map((spec, index): Placement => {
    const at = spec.f * w;
    const inside = (a: Anchor) => {
      const left = at + offsetOf(a, spec.width);
      return left >= 0 && left + spec.width <= w;
    };
    const wanted: Anchor[] = spec.anchor === "either"
      ? ["start", "end"]
      : [spec.anchor ?? "middle"];
    const anchors = wanted.filter(inside);
    if (anchors.length === 0) anchors.push(anchorWithin(spec, w));
    // Leaders can make every level wrong (a text below covers this point): then they may cross.
    for (const strict of opts.leaders ? [true, false] : [false]) {
      const top = Math.min(maxLevels, taken.length + 1);
      for (let level = 0; level < top; level++) {
        for (const anchor of anchors) {
          const offset = offsetOf(anchor, spec.width);
          const left = at + offset, right = left + spec.width;
          const free = (taken[level] ?? []).every(([a, b]) =>
            right + LABEL_GAP <= a || b + LABEL_GAP <= left
          );
          // no leader of a label above crosses this text; this leader crosses no text below;
          // the text leaves the points of the labels still to come free for their leaders
          const clear = !strict || (
            leaders.every((l) => l.level <= level || off(l.x, [left, right])) &&
            taken.slice(0, level).every((r) => r.every((iv) => off(at, iv))) &&
            specs.slice(index + 1).every((later) => off(later.f * w, [left, right]))
          );
          if (!free || !clear) continue;
          (taken[level] ??= []).push([left, right]);
          leaders.push({ x: at, level });
          return { anchor, offset, level };
        }
      }
    }
    return { anchor: anchors[0], offset: offsetOf(anchors[0], spec.width), level: -1 };
  });
  return { placements, taken };
}

/**
 * Labels in two tiers: those that fit at `narrow` width (tier 0, always shown), then, among
 * the rest, those that fit at `wide` width beside them (tier 1, shown only from that width
 * up); -1: left out. Placements are those of each label's tier.
 */
export function tieredLabels(
  specs: readonly LabelSpec[],
  narrow: number,
  wide: number,
  levels = 1,
): { tier: number; placement: Placement }[] {
  const first = placeLabels(specs, narrow, { levels });
  const kept = specs.map((s, i) => ({ s, i, p: first.placements[i] }));
  const taken: [number, number][][] = Array.from({ length: levels }, () => []);
  for (const k of kept) {
    if (k.p.level < 0) continue;
    const left = k.s.f * wide + k.p.offset;
    taken[k.p.level].push([left, left + k.s.width]);
  }
  const rest = kept.filter((k) => k.p.level < 0);
  const second = placeLabels(rest.map((k) => k.s), wide, { levels, taken });
  const byRest = new Map(rest.map((k, j) => [k.i, second.placements[j]]));
  return kept.map((k) => {
    if (k.p.level >= 0) return { tier: 0, placement: k.p };
    const p = byRest.get(k.i)!;
    return { tier: p.level >= 0 ? 1 : -1, placement: p };
  });
}
