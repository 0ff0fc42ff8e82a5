/**
 * The "Fix kdump faults" series (Linux 4.14, Baoquan He), one plugin per patch, in series
 * order.
 *
 * @module
 */
import { deepFreeze } from "../../runtime/plugin/freeze.ts";
import type { Plugin } from "../../runtime/plugin/mod.ts";
import detectPreEnabled from "./detect-pre-enabled.ts";
import helperFunctions from "./helper-functions.ts";
import revertSuppress from "./revert-suppress-io-page-faults.ts";
import dteBitFields from "./dte-bit-fields.ts";
import copyDevTables from "./copy-dev-tables.ts";
import copyOldTransTable from "./copy-old-trans-table.ts";
import sanityCheck from "./sanity-check-old-dte.ts";
import isAttachDeferred from "./iommu-is-attach-deferred.ts";
import useAttachDeferred from "./amd-use-attach-deferred.ts";
import below4g from "./dev-table-below-4g.ts";
import dropGcr3 from "./drop-gcr3-root.ts";
import disableOnlyIfOff from "./disable-only-if-off.ts";

/**
 * The twelve patches, in series order. Frozen, deeply: users' plugins cannot change a patch's
 * handlers, symbols or hook points.
 */
export const SERIES: readonly Plugin[] = deepFreeze([
  detectPreEnabled,
  helperFunctions,
  revertSuppress,
  dteBitFields,
  copyDevTables,
  copyOldTransTable,
  sanityCheck,
  isAttachDeferred,
  useAttachDeferred,
  below4g,
  dropGcr3,
  disableOnlyIfOff,
] as Plugin[]);

/** Ids of the series, in order. */
export const SERIES_IDS: readonly string[] = SERIES.map((p) => p.id);
