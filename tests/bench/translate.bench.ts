/**
 * The IOMMU translate path: an IOTLB hit, a full 4-level walk and a 6-level walk (every
 * access misses the IOTLB by using a new page), in translations per second (Deno reports
 * time per iteration; each iteration is one translation).
 */
import { allocTable, machineUp, map4k, paging, rwDte, writeDte } from "../hw/kit.ts";

function setup(mode: number, pages: number) {
  const m = machineUp({ efr: { IASup: 1, HATS: 2 } });
  const root = allocTable(m);
  writeDte(m, 0x100, rwDte(7, paging(root, mode)));
  for (let i = 0; i < pages; i++) {
    map4k(m, root, mode, 0x4000_0000 + i * 4096, 0x1000_0000 + i * 4096);
  }
  const u = m.iommus[0];
  return { m, u };
}

const hit = setup(3, 1);
hit.u.translate({ devid: 0x100, addr: 0x4000_0000, len: 4, write: true });
Deno.bench("translate: IOTLB hit", { group: "translate", baseline: true }, () => {
  hit.u.translate({ devid: 0x100, addr: 0x4000_0010, len: 4, write: true });
});

const PAGES = 512;
const walk4 = setup(4, PAGES);
let i4 = 0;
Deno.bench("translate: 4-level page walk (IOTLB miss)", { group: "translate" }, () => {
  walk4.u.iotlb.clear();
  walk4.u.translate({
    devid: 0x100,
    addr: 0x4000_0000 + (i4++ % PAGES) * 4096,
    len: 4,
    write: true,
  });
});

const walk6 = setup(6, PAGES);
let i6 = 0;
Deno.bench("translate: 6-level page walk (IOTLB miss)", { group: "translate" }, () => {
  walk6.u.iotlb.clear();
  walk6.u.translate({
    devid: 0x100,
    addr: 0x4000_0000 + (i6++ % PAGES) * 4096,
    len: 4,
    write: true,
  });
});
