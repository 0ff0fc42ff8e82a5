/**
 * bnx2 without its kdump probe wait — the driver the cover letter describes
 *
 * Before bnx2 learnt to wait for the crashed kernel's in-flight DMA at probe (the change is
 * in 4.12 and 4.13; its upstream subject is not in our sources), bnx2_init_one() left a
 * running chip alone until the interface was opened: "bnx2 NIC can't reset itself during
 * driver init". This plugin removes the wait from bnx2_init_one() (bnx2_reset_chip() at open
 * still waits), so a 4.13/4.14 kernel model behaves like that older driver. With the series,
 * the chip's old IOVAs then keep arriving after its deferred attach, in the new domain.
 *
 * @module
 */
import { definePlugin } from "../../runtime/plugin/mod.ts";

export default definePlugin({
  id: "bnx2-no-kdump-wait",
  title: "bnx2 without its kdump probe wait (the driver the cover letter describes)",
  hooks: {
    // A replacement of the wait (next() is not called): probe goes straight on.
    "bnx2.bnx2_init_one.wait_dma": () => {},
  },
});
