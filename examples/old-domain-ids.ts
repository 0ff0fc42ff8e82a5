/**
 * A plugin file for `--plugin`: in a kdump kernel, print the crashed kernel's DomainID each
 * time set_dte_entry() overwrites a copied entry that carried one — which old domains the
 * new attachments replace, and when. It changes nothing the hardware sees (compare
 * `--series all,flush-old-domains`, which flushes those domains).
 *
 *   deno task lab run --series all --plugin ./examples/old-domain-ids.ts --dmesg
 */
import { definePlugin, readDteWords } from "../plugin.ts";
import { bdfText, DTE } from "../hw.ts";

export default definePlugin({
  id: "old-domain-ids",
  title: "print the old DomainID each new attachment replaces (kdump kernel)",
  hooks: {
    "amd_iommu.set_dte_entry": ({ k, devid, domain }, next) => {
      const old = DTE.get(readDteWords(k.amd, devid), "DomainID");
      next();
      if (old && k.is_kdump_kernel()) {
        k.pr_info(`old-domain-ids: ${bdfText(devid)}: domain ${old} replaced by ${domain.id}`);
      }
    },
  },
});
