/**
 * Driver plugins shipped with kdump-lab.
 *
 * @module
 */
import { deepFreeze } from "../../runtime/plugin/freeze.ts";
import type { Plugin } from "../../runtime/plugin/mod.ts";
import bnx2NoKdumpWait from "./bnx2-no-kdump-wait.ts";

/** Driver plugins by id (frozen, deeply, like the series). */
export const DRIVER_PLUGINS: Record<string, Plugin> = deepFreeze({
  [bnx2NoKdumpWait.id]: bnx2NoKdumpWait as Plugin,
});
