/**
 * The version a kernel built with a plugin series reports in its banner, the way a tree
 * built from git would: the 4.13 baseline is `4.13.0`; the twelve patches of the series, in
 * order and nothing else, are `4.14.0` (the series is what 4.14 added to the AMD IOMMU
 * driver); anything else is a modified tree, which `setlocalversion` marks with a `+`:
 * `4.14.0+` when all twelve are there with something more (e.g. a driver plugin or a later
 * fix), `4.13.0+` otherwise (part of the series, or the series reordered).
 *
 * @module
 */
import { SERIES_IDS } from "../../plugins/series/mod.ts";

/** The version string of a kernel built with the plugins `ids`, in order. */
export function kernelVersion(ids: readonly string[]): string {
  if (ids.length === 0) return "4.13.0";
  const exact = ids.length === SERIES_IDS.length && ids.every((id, i) => id === SERIES_IDS[i]);
  if (exact) return "4.14.0";
  const inOrder = ids.filter((id) => SERIES_IDS.includes(id));
  const whole = inOrder.length === SERIES_IDS.length &&
    inOrder.every((id, i) => id === SERIES_IDS[i]);
  return whole ? "4.14.0+" : "4.13.0+";
}
