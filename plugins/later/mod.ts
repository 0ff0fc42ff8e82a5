/**
 * Upstream's later fixes to kdump on AMD IOMMUs, after the 4.14 series, one plugin per fix, in
 * upstream order (`--series later`; `all,later` is the series and what came after it).
 *
 * @module
 */
import { deepFreeze } from "../../runtime/plugin/freeze.ts";
import type { Plugin } from "../../runtime/plugin/mod.ts";
import smeRemapDevtab from "./sme-remap-devtab.ts";
import flushOldDomains from "./flush-old-domains.ts";
import gaLogWarnRunning from "./ga-log-warn-running.ts";
import gaLogDisableRunning from "./ga-log-disable-running.ts";
import snpRemapBuffers from "./snp-remap-buffers.ts";
import snpReuseDevtab from "./snp-reuse-devtab.ts";
import snpSkipEnableBuffers from "./snp-skip-enable-buffers.ts";
import preserveDomainIds from "./preserve-domain-ids.ts";

/** The later fixes, in upstream order. Frozen, deeply, like the series. */
export const LATER: readonly Plugin[] = deepFreeze([
  smeRemapDevtab,
  flushOldDomains,
  gaLogWarnRunning,
  gaLogDisableRunning,
  snpReuseDevtab,
  snpRemapBuffers,
  snpSkipEnableBuffers,
  preserveDomainIds,
] as Plugin[]);
