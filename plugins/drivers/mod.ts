/**
 * Driver plugins shipped with kdump-lab.
 *
 * @module
 */
import type { Plugin } from "../../runtime/plugin/mod.ts";
import bnx2NoKdumpWait from "./bnx2-no-kdump-wait.ts";

/** Driver plugins by id. */
export const DRIVER_PLUGINS: Record<string, Plugin> = {
  [bnx2NoKdumpWait.id]: bnx2NoKdumpWait as Plugin,
};
