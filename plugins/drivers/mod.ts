/**
 * Driver plugins shipped with kdump-lab.
 *
 * @module
 */
import type { Plugin } from "../../runtime/plugin/mod.ts";
import bnx2Reset from "./bnx2-reset.ts";

/** Driver plugins by id. */
export const DRIVER_PLUGINS: Record<string, Plugin> = { [bnx2Reset.id]: bnx2Reset as Plugin };
