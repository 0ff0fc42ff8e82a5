/**
 * The IOMMU translate path: an IOTLB hit, a full 4-level walk and a 6-level walk (every
 * access misses the IOTLB: it is cleared before each), in translations per second (Deno
 * reports time per iteration; each iteration is one translation).
 *
 * The printed figures compare the two first with a C implementation of the same structures
 * (translate-ref.c: the same table format, sparse-memory shape, DTE cache and IOTLB),
 * compiled with the system C compiler and measured in the same run, with the same loops:
 * best of five rounds each, taken alternately. Without a C compiler the comparison is skipped
 * with a note.
 */
import { fileURLToPath } from "node:url";
import { DTE } from "../../runtime/hw/layouts/dte.ts";
import { PDE, PTE } from "../../runtime/hw/layouts/pte.ts";
import { allocTable, machineUp, map4k, paging, rwDte, writeDte } from "../hw/kit.ts";
import { figure } from "./measure.ts";

const DEV = 0x100;

function setup(mode: number, pages: number) {
  const m = machineUp({ efr: { IASup: 1, HATS: 2 } });
  const root = allocTable(m);
  writeDte(m, DEV, rwDte(7, paging(root, mode)));
  for (let i = 0; i < pages; i++) {
    map4k(m, root, mode, 0x4000_0000 + i * 4096, 0x1000_0000 + i * 4096);
  }
  return m.iommus[0];
}

const PAGES = 512;
const hit = setup(3, 1);
hit.translate({ devid: DEV, addr: 0x4000_0000, len: 4, write: true });
const walk4 = setup(4, PAGES);
const walk6 = setup(6, PAGES);

/** ns per translation: an IOTLB hit and a 4-level walk. */
interface Figures {
  hitNs: number;
  walk4Ns: number;
}

/**
 * One round of the same loops as translate-ref.c: the bus's path, `access`, which answers in
 * the IOMMU's reused DmaAnswer as the C answers in one struct (the bus then makes the record its
 * observers keep: not part of translating).
 */
function roundTs(): Figures {
  let sink = 0;
  const n = 2_000_000;
  let t = performance.now();
  for (let i = 0; i < n; i++) {
    const o = hit.access(DEV, 0x4000_0010, true, undefined, false);
    if (o.kind === "translated") sink += o.spa;
  }
  const hitNs = (performance.now() - t) * 1e6 / n;
  const w = 400_000;
  t = performance.now();
  for (let i = 0; i < w; i++) {
    walk4.iotlb.clear();
    const o = walk4.access(DEV, 0x4000_0000 + (i % PAGES) * 4096, true, undefined, false);
    if (o.kind === "translated") sink += o.spa;
  }
  const walk4Ns = (performance.now() - t) * 1e6 / w;
  if (sink === 0) throw new Error("nothing translated");
  return { hitNs, walk4Ns };
}

/** The C reference compiled, or why it could not be (no compiler). */
async function compileC(dir: string): Promise<string | { bin: string }> {
  const src = fileURLToPath(new URL("./translate-ref.c", import.meta.url));
  const bin = `${dir}/translate-ref`;
  for (const cc of [Deno.env.get("CC"), "cc", "gcc", "clang"]) {
    if (!cc) continue;
    try {
      const r = await new Deno.Command(cc, { args: ["-O2", "-o", bin, src], stderr: "piped" })
        .output();
      if (r.success) return { bin };
    } catch {
      // not installed: try the next one
    }
  }
  return "no C compiler (cc, gcc, clang) found: the C comparison is skipped";
}

/** One round of the C reference (a process of its own). */
async function roundC(bin: string): Promise<Figures | string> {
  const hex = (n: number) => n.toString(16);
  const masks = [...DTE.reservedMask.slice(0, 4), PDE.reservedMask[1], PTE.reservedMask[1]];
  const r = await new Deno.Command(bin, { args: [...masks.map(hex), "1"], stdout: "piped" })
    .output();
  if (!r.success) return "the C reference failed to run";
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

/**
 * Best of five rounds each, the two languages alternately (TypeScript, C, TypeScript, ...), so
 * that a slower stretch of a shared machine falls on both sides rather than on one.
 */
async function measure(): Promise<{ ts: Figures; c: Figures | string }> {
  const ts: Figures = { hitNs: Infinity, walk4Ns: Infinity };
  const dir = await Deno.makeTempDir({ prefix: "translate-ref-" });
  try {
    const compiled = await compileC(dir);
    let c: Figures | string = typeof compiled === "string"
      ? compiled
      : { hitNs: Infinity, walk4Ns: Infinity };
    for (let round = 0; round < 5; round++) {
      const t = roundTs();
      ts.hitNs = Math.min(ts.hitNs, t.hitNs);
      ts.walk4Ns = Math.min(ts.walk4Ns, t.walk4Ns);
      if (typeof compiled === "string" || typeof c === "string") continue;
      const r = await roundC(compiled.bin);
      if (typeof r === "string") c = r;
      else c = { hitNs: Math.min(c.hitNs, r.hitNs), walk4Ns: Math.min(c.walk4Ns, r.walk4Ns) };
    }
    return { ts, c };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const { ts, c } = await measure();
const mps = (ns: number) => `${(1e3 / ns).toFixed(1)} M/s`;
if (typeof c === "string") {
  figure("translate, IOTLB hit", `${mps(ts.hitNs)} (${c})`);
  figure("translate, 4-level walk", `${mps(ts.walk4Ns)} (${c})`);
} else {
  figure(
    "translate, IOTLB hit",
    `TypeScript ${mps(ts.hitNs)}, C ${mps(c.hitNs)}: ${(c.hitNs / ts.hitNs).toFixed(2)}x C`,
  );
  figure(
    "translate, 4-level walk",
    `TypeScript ${mps(ts.walk4Ns)}, C ${mps(c.walk4Ns)}: ${(c.walk4Ns / ts.walk4Ns).toFixed(2)}x C`,
  );
}

Deno.bench("translate: IOTLB hit", { group: "translate", baseline: true }, () => {
  hit.translate({ devid: DEV, addr: 0x4000_0010, len: 4, write: true });
});

let i4 = 0;
Deno.bench("translate: 4-level page walk (IOTLB miss)", { group: "translate" }, () => {
  walk4.iotlb.clear();
  walk4.translate({ devid: DEV, addr: 0x4000_0000 + (i4++ % PAGES) * 4096, len: 4, write: true });
});

let i6 = 0;
Deno.bench("translate: 6-level page walk (IOTLB miss)", { group: "translate" }, () => {
  walk6.iotlb.clear();
  walk6.translate({ devid: DEV, addr: 0x4000_0000 + (i6++ % PAGES) * 4096, len: 4, write: true });
});
