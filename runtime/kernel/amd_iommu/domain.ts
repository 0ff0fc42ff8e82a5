/**
 * Protection domains, their I/O page tables and the device table entries that point at
 * them (amd_iommu.c): domain_id_alloc, dma_ops_domain_alloc, alloc_pte / iommu_map_page /
 * iommu_unmap_page, set_dte_entry / clear_dte_entry, attach_device / detach_device,
 * find_dev_data, get_domain.
 *
 * DTE words are written to the in-memory device table the way the kernel's C stores do:
 * q1 first, then q0, each 64-bit store landing as two 32-bit halves — the IOMMU may read
 * the entry in between if it is not in its DTE cache.
 *
 * @module
 */
import { DTE, DTE_BYTES } from "../../hw/layouts/dte.ts";
import { entryAddress, levelIndex, PDE, PTE } from "../../hw/layouts/pte.ts";
import { hi32, lo32 } from "../../hw/bits.ts";
import { PAGE_SIZE } from "../../hw/memory.ts";
import type { CpuMemory } from "../sme.ts";
import { GFP } from "../alloc.ts";
import { COST } from "../cost.ts";
import type { GetDomainCtx, GetDomainResult } from "../hooks.ts";
import { IovaDomain } from "../iova.ts";
import { machineOf } from "../kernel.ts";
import type { PciDev } from "../pci.ts";
import { RateLimit } from "../printk.ts";
import type { AmdIommuDriver } from "./driver.ts";
import { type IommuDevData, MAX_DOMAIN_ID, PAGE_MODE, type ProtectionDomain } from "./types.ts";
import { dwords } from "../../hw/dwords.ts";

/**
 * PDE/PTE bits encoded once from the layouts: Layout.encode per entry made the map path ~4x
 * slower. Address sits at bit 12 holding address >> 12, so a page-aligned address is its own
 * encoding and is OR-ed in as it is.
 */
const PR = PDE.encode({ PR: 1 })[0];
/** PM_LEVEL_PDE's bits by next level: PR | NextLevel | IR | IW. */
const PDE_BITS = Array.from(
  { length: 7 },
  (_, nl) => PDE.encode({ PR: 1, NextLevel: nl, IR: 1, IW: 1 }),
);
/** 4.13's leaf bits by (IW << 1 | IR): PR | FC | IR | IW. */
const PTE_BITS = [0, 1, 2, 3].map((rw) => PTE.encode({ PR: 1, FC: 1, IR: rw & 1, IW: rw >> 1 }));

/** Writes a table entry: `addr`'s dwords OR-ed with `bits`, low dword then high. */
function writeEntry(d: AmdIommuDriver, ea: number, addr: number, bits: Uint32Array): void {
  d.k.cpu.write64(ea, (lo32(addr) | bits[0]) >>> 0, (hi32(addr) | bits[1]) >>> 0);
}

/** The table entry being read by a walk (its low and high dword). */
const entry = new Uint32Array(2);

/**
 * The table the entry at `ea` points to when present, else -1: the entry's low dword read
 * first, the high one only when the entry is present (as two CPU reads would; one lookup when
 * the entry lies in RAM).
 */
function nextTable(mem: CpuMemory, ea: number): number {
  if (mem.ramQword(ea, entry)) return entry[0] & PR ? entryAddress(entry[0], entry[1]) : -1;
  const lo = mem.read32(ea);
  return lo & PR ? entryAddress(lo, mem.read32(ea + 4)) : -1;
}

/** Reads DTE word `q` (two dwords) of `devid` from the driver's device table. */
export function readDteWords(d: AmdIommuDriver, devid: number): Uint32Array {
  const w = dwords(8);
  d.k.mem.readDwords(d.dev_table + devid * DTE_BYTES, 8, w);
  return w;
}

/** Writes qword `q` of `devid`'s DTE: low dword then high dword, as two stores. */
export function writeDteQword(
  d: AmdIommuDriver,
  devid: number,
  q: number,
  lo: number,
  hi: number,
): void {
  const at = d.dev_table + devid * DTE_BYTES + q * 8;
  d.k.mem.write32(at, lo);
  d.k.spend(COST.tableWrite);
  d.k.mem.write32(at + 4, hi);
}

/**
 * The kernel's `for (devid = 0; devid <= amd_iommu_last_bdf; ++devid) set_dev_entry_bit(...)`
 * loops, for a list of bits, in chunks of 4096 DeviceIDs with the CPU time spent as it goes
 * (so a device's DTE changes at the moment the loop reaches it).
 */
export function set_dev_entry_bits(d: AmdIommuDriver, bits: number[]): void {
  const CHUNK = 4096;
  for (let first = 0; first <= d.last_bdf; first += CHUNK) {
    const n = Math.min(CHUNK, d.last_bdf + 1 - first);
    for (const bit of bits) {
      d.k.mem.orStrided(
        d.dev_table + first * DTE_BYTES,
        DTE_BYTES,
        n,
        bit >>> 5,
        (1 << (bit & 31)) >>> 0,
      );
    }
    d.k.spend(COST.devidLoop * n * Math.max(1, bits.length));
  }
}

/** domain_id_alloc(): the first free ID above 0 in amd_iommu_pd_alloc_bitmap. */
export function domain_id_alloc(d: AmdIommuDriver): number {
  for (let id = 1; id < MAX_DOMAIN_ID; id++) {
    if (!d.pd_alloc_bitmap[id]) {
      d.pd_alloc_bitmap[id] = 1;
      return id;
    }
  }
  return 0;
}

/** Allocates a zeroed page for an I/O page table; undefined when there is none (-ENOMEM). */
function alloc_pt_page(d: AmdIommuDriver): number | undefined {
  const p = d.k.alloc.allocPages(GFP.KERNEL | GFP.ZERO, 0, "iommu-page-table");
  if (p !== undefined) d.k.spend(COST.pageCopy);
  return p;
}

/** dma_ops_domain_alloc(): a DMA-API domain with a 3-level table and reserved IOVAs. */
export function dma_ops_domain_alloc(d: AmdIommuDriver): ProtectionDomain | undefined {
  const id = domain_id_alloc(d);
  if (!id) return undefined;
  const pt_root = alloc_pt_page(d);
  if (pt_root === undefined) {
    d.pd_alloc_bitmap[id] = 0; // dma_ops_domain_free()
    return undefined;
  }
  const iovad = new IovaDomain(1, 0xfffff);
  for (const [lo, hi] of d.reserved_iova_ranges) iovad.reserve(lo, hi);
  const dom: ProtectionDomain = {
    id,
    type: "dma",
    mode: PAGE_MODE.L3,
    pt_root,
    devices: new Set(),
    iovad,
  };
  d.domains.push(dom);
  return dom;
}

/** A passthrough (identity) domain: mode 0, no page table (the "pt_domain"). */
export function identity_domain_alloc(d: AmdIommuDriver): ProtectionDomain | undefined {
  const id = domain_id_alloc(d);
  if (!id) return undefined;
  const dom: ProtectionDomain = {
    id,
    type: "identity",
    mode: PAGE_MODE.NONE,
    pt_root: 0,
    devices: new Set(),
  };
  d.domains.push(dom);
  return dom;
}

/**
 * alloc_pte(): walks (and builds) the domain's table down to level 1 for `address` and
 * returns the physical address of the leaf PTE, or undefined when a table page cannot be
 * allocated (the levels built so far stay).
 */
export function alloc_pte(
  d: AmdIommuDriver,
  dom: ProtectionDomain,
  address: number,
): number | undefined {
  const mem = d.k.cpu;
  let table = dom.pt_root;
  for (let level = dom.mode; level > 1; level--) {
    const ea = table + levelIndex(address, level) * 8;
    const present = nextTable(mem, ea);
    if (present >= 0) {
      table = present;
      continue;
    }
    const next = alloc_pt_page(d);
    if (next === undefined) return undefined;
    // PM_LEVEL_PDE(level - 1, iommu_virt_to_phys(next))
    writeEntry(d, ea, d.k.__sme_set(next), PDE_BITS[level - 1]);
    d.k.spend(COST.tableWrite);
    table = next;
  }
  return table + levelIndex(address, 1) * 8;
}

/** fetch_pte(): the leaf PTE address for `address`, or undefined if a level is missing. */
export function fetch_pte(
  d: AmdIommuDriver,
  dom: ProtectionDomain,
  address: number,
): number | undefined {
  const mem = d.k.cpu;
  let table = dom.pt_root;
  for (let level = dom.mode; level > 1; level--) {
    const next = nextTable(mem, table + levelIndex(address, level) * 8);
    if (next < 0) return undefined;
    table = next;
  }
  return table + levelIndex(address, 1) * 8;
}

/**
 * iommu_map_page(): maps one 4 KiB page (PR | FC | IR | IW as 4.13 writes it). False when a
 * page-table page cannot be allocated (-ENOMEM).
 */
export function iommu_map_page(
  d: AmdIommuDriver,
  dom: ProtectionDomain,
  iova: number,
  phys: number,
  read: boolean,
  write: boolean,
): boolean {
  const pte = alloc_pte(d, dom, iova);
  if (pte === undefined) return false;
  writeEntry(d, pte, d.k.__sme_set(phys), PTE_BITS[(write ? 2 : 0) | (read ? 1 : 0)]);
  d.k.spend(COST.tableWrite);
  return true;
}

/** iommu_unmap_page(): clears one 4 KiB PTE. */
export function iommu_unmap_page(d: AmdIommuDriver, dom: ProtectionDomain, iova: number): void {
  const pte = fetch_pte(d, dom, iova);
  if (pte === undefined) return;
  d.k.cpu.write64(pte, 0, 0);
  d.k.spend(COST.tableWrite);
}

/** Bytes one level-1 table maps (512 pages). */
const L1_SPAN = 512 * PAGE_SIZE;

/**
 * A walk of a domain's table that a page after it, in the same level-1 table, may take as it
 * is instead of walking again: it is kept only when it found every level present (it built
 * nothing) in plain RAM, and is used only while no event has run since it began (the clock
 * counts executed events) and no leaf written since landed in a table it read. The next walk
 * would then read exactly what this one read: the kernel writes the same entries and spends
 * the same time either way, one walk's reads fewer.
 */
class RangeWalk {
  /** Math.floor(address / L1_SPAN) of the walk; -1: none to reuse. */
  span = -1;
  /** The level-1 table found. */
  leaf = 0;
  /** clock.executed when the walk began. */
  executed = 0;
  /** Page numbers of the tables above level 1 that the walk read (the first `count`). */
  readonly tables = new Float64Array(8); // Mode is 3 bits: at most 6 levels above level 1
  count = 0;

  /**
   * Walks for `address` as fetch_pte does, noting what it read: the leaf table, or -1 when a
   * level is missing or an entry is not in plain RAM (the caller then walks the kernel's way;
   * this walk has read only RAM, which nothing sees).
   */
  walk(d: AmdIommuDriver, dom: ProtectionDomain, address: number): number {
    const machine = machineOf(d.k), mem = d.k.cpu;
    this.span = -1;
    this.count = 0;
    this.executed = machine.clock.executed;
    let table = dom.pt_root;
    for (let level = dom.mode; level > 1; level--) {
      const ea = table + levelIndex(address, level) * 8;
      if (!mem.ramQword(ea, entry) || !(entry[0] & PR)) return -1;
      this.tables[this.count++] = Math.floor(ea / PAGE_SIZE);
      table = entryAddress(entry[0], entry[1]);
    }
    this.span = Math.floor(address / L1_SPAN);
    this.leaf = table;
    return table;
  }

  /** The leaf table for `address` when the last walk holds for it, else -1. */
  reuse(d: AmdIommuDriver, address: number): number {
    if (this.span < 0 || Math.floor(address / L1_SPAN) !== this.span) return -1;
    return machineOf(d.k).clock.executed === this.executed ? this.leaf : -1;
  }

  /** A leaf was written at `pte`: the walk no longer holds if it read that page. */
  wrote(pte: number): void {
    if (this.span < 0) return;
    const page = Math.floor(pte / PAGE_SIZE);
    for (let i = 0; i < this.count; i++) if (this.tables[i] === page) this.span = -1;
  }
}

/** One walk kept between the pages of a range (a range call runs to its end before another). */
const rangeWalk = new RangeWalk();

/**
 * iommu_map_page() for `pages` pages from `iova` → `phys`: each page exactly as
 * iommu_map_page maps it (the same table writes and time), a walk reused by the next page
 * where it holds (see {@link RangeWalk}). Returns how many pages were mapped: `pages`, or the
 * index of the page whose table page could not be allocated (-ENOMEM).
 */
export function iommu_map_pages(
  d: AmdIommuDriver,
  dom: ProtectionDomain,
  iova: number,
  phys: number,
  pages: number,
  read: boolean,
  write: boolean,
): number {
  const bits = PTE_BITS[(write ? 2 : 0) | (read ? 1 : 0)];
  const w = rangeWalk;
  w.span = -1;
  for (let i = 0; i < pages; i++) {
    const a = iova + i * PAGE_SIZE;
    let leaf = w.reuse(d, a);
    if (leaf < 0) {
      // A walk that finds every level reads what alloc_pte reads and builds nothing.
      leaf = w.walk(d, dom, a);
      if (leaf < 0) {
        // A level is missing (or not plain RAM): alloc_pte walks (again) and builds it.
        const pte = alloc_pte(d, dom, a);
        if (pte === undefined) return i;
        leaf = pte - levelIndex(a, 1) * 8;
        w.span = -1;
      }
    }
    const pte = leaf + levelIndex(a, 1) * 8;
    writeEntry(d, pte, d.k.__sme_set(phys + i * PAGE_SIZE), bits);
    w.wrote(pte);
    d.k.spend(COST.tableWrite);
  }
  w.span = -1;
  return pages;
}

/**
 * iommu_unmap_page() for `pages` pages from `iova`: each exactly as iommu_unmap_page clears it,
 * a walk reused by the next page where it holds (see {@link RangeWalk}).
 */
export function iommu_unmap_pages(
  d: AmdIommuDriver,
  dom: ProtectionDomain,
  iova: number,
  pages: number,
): void {
  const w = rangeWalk;
  w.span = -1;
  for (let i = 0; i < pages; i++) {
    const a = iova + i * PAGE_SIZE;
    let leaf = w.reuse(d, a);
    if (leaf < 0) leaf = w.walk(d, dom, a);
    let pte: number;
    if (leaf >= 0) pte = leaf + levelIndex(a, 1) * 8;
    else {
      // A level is missing (nothing mapped here), or not plain RAM: fetch_pte decides.
      const p = fetch_pte(d, dom, a);
      if (p === undefined) continue;
      pte = p;
    }
    d.k.cpu.write64(pte, 0, 0);
    w.wrote(pte);
    d.k.spend(COST.tableWrite);
  }
  w.span = -1;
}

/**
 * set_dte_entry(): points `devid`'s DTE at the domain. The q1 fields to clear come from the
 * `amd_iommu.set_dte_entry.q1_clear` hook (4.13: SA and DomainID); the whole write is the
 * default of the `amd_iommu.set_dte_entry` wrap hook.
 */
export function set_dte_entry(d: AmdIommuDriver, devid: number, dom: ProtectionDomain): void {
  const k = d.k;
  k.hooks.wrap("amd_iommu.set_dte_entry", { k, devid, domain: dom }, () => {
    const cur = readDteWords(d, devid);
    const clear = k.hooks.waterfall("amd_iommu.set_dte_entry.q1_clear", ["SA", "DomainID"], {
      k,
      devid,
      domain: dom,
    });
    const w = dwords(8);
    w.set(cur.subarray(2, 4), 2); // q1
    for (const name of clear) DTE.setValue(w, name, 0);
    DTE.set(w, "DomainID", dom.id);
    if (dom.v2) {
      DTE.set(w, "GV", 1);
      DTE.set(w, "GLX", dom.v2.glx);
      DTE.setValue(w, "GCR3TableRootPtr", d.k.__sme_set(dom.v2.gcr3_tbl));
      DTE.set(w, "PPR", 1);
    }
    DTE.set(w, "Mode", dom.mode);
    if (dom.mode !== PAGE_MODE.NONE) {
      DTE.set(w, "PageTableRootPtr", d.k.__sme_set(dom.pt_root) / PAGE_SIZE);
    }
    DTE.set(w, "IR", 1);
    DTE.set(w, "IW", 1);
    DTE.set(w, "V", 1);
    DTE.set(w, "TV", 1);
    // amd_iommu_dev_table[devid].data[1] = flags; then .data[0] = pte_root;
    writeDteQword(d, devid, 1, w[2], w[3]);
    writeDteQword(d, devid, 0, w[0], w[1]);
  });
}

/** DTE_FLAG_MASK (Linux: 0x3ff << 32 of q1): the q1 flags I..SysMgt, bits 41:32. */
const DTE_FLAG_MASK = DTE.maskWhere((f) =>
  ["I", "SE", "SA", "IoCtl", "Cache", "SD", "EX", "SysMgt"].includes(f.name)
);
/** What clear_dte_entry leaves in q0: V|TV ("does not allow DMA"). */
const DTE_BLOCKED = DTE.encode({ V: 1, TV: 1 });

/** clear_dte_entry(): V|TV only, q1 keeps its DTE_FLAG_MASK bits. */
export function clear_dte_entry(d: AmdIommuDriver, devid: number): void {
  const cur = readDteWords(d, devid);
  writeDteQword(d, devid, 1, cur[2] & DTE_FLAG_MASK[2], cur[3] & DTE_FLAG_MASK[3]);
  writeDteQword(d, devid, 0, DTE_BLOCKED[0], DTE_BLOCKED[1]);
}

/** find_dev_data(): the iommu_dev_data of a DeviceID, allocated on first use. */
export function find_dev_data(d: AmdIommuDriver, devid: number): IommuDevData {
  let dd = d.dev_data.get(devid);
  if (dd) return dd;
  dd = { devid, domain: null, rs: new RateLimit() };
  d.dev_data.set(devid, dd);
  const iommu = d.rlookup.get(devid);
  if (iommu) d.k.hooks.runAll("amd_iommu.find_dev_data", { k: d.k, devData: dd, iommu });
  return dd;
}

/**
 * attach_device(): do_attach (set_dte_entry + device_flush_dte + completion wait), then
 * domain_flush_tlb_pde ("We might boot into a crash-kernel here. The crashed kernel left
 * the caches in the IOMMU dirty.").
 */
export function attach_device(d: AmdIommuDriver, dev: PciDev, dom: ProtectionDomain): void {
  const dd = find_dev_data(d, dev.devid);
  if (dd.domain) detach_device(d, dev);
  dd.domain = dom;
  dom.devices.add(dev.devid);
  set_dte_entry(d, dev.devid, dom);
  d.device_flush_dte(dev.devid);
  d.domain_flush_tlb_pde(dom);
}

/** detach_device(): clear_dte_entry + flush. */
export function detach_device(d: AmdIommuDriver, dev: PciDev): void {
  const dd = find_dev_data(d, dev.devid);
  if (!dd.domain) return;
  dd.domain.devices.delete(dev.devid);
  dd.domain = null;
  clear_dte_entry(d, dev.devid);
  d.device_flush_dte(dev.devid);
}

/**
 * The oops of get_domain() dereferencing a NULL domain in dma_ops_domain(): a read of
 * `domain->flags` at offsetof(struct protection_domain, flags). 0xb0 is that offset in a 4.13
 * x86-64 build without lock debugging (list 16 + dev_list 16 + struct iommu_domain 72 +
 * spinlock 4 (+4) + struct mutex 32 + id/mode 8 + pt_root 8 + glx 8 + gcr3_tbl 8) — derived,
 * not read off a real log. Error code 0000: a kernel-mode read of a page not present. The
 * instruction pointer is printed without the +offset/size a real oops has (no machine code).
 */
const GET_DOMAIN_OOPS = [
  "BUG: unable to handle kernel NULL pointer dereference at 00000000000000b0",
  "IP: get_domain",
  "Oops: 0000 [#1] SMP",
];

/** get_domain()'s hook context and default, made once per driver (see {@link get_domain}). */
export interface GetDomainCall {
  /** The hook context, reused: its `dev` and `devData` are set before each call. */
  ctx: GetDomainCtx;
  /** 4.13's get_domain() body on `ctx`: the hook point's default. */
  def: () => GetDomainResult;
}

function getDomainCall(d: AmdIommuDriver): GetDomainCall {
  const k = d.k;
  const ctx: GetDomainCtx = { k, dev: undefined as never, devData: undefined as never };
  const def = (): GetDomainResult => {
    const dom = ctx.devData.domain;
    if (!dom) {
      for (const line of GET_DOMAIN_OOPS) k.printk("alert", line);
      return k.panic("Fatal exception");
    }
    if (dom.type !== "dma") return { err: "EBUSY" };
    return { domain: dom };
  };
  return { ctx, def };
}

/**
 * get_domain(): the domain the DMA API uses for `dev` (default of the wrap hook). In 4.13
 * a NULL domain is dereferenced by dma_ops_domain(): the kernel oopses.
 *
 * Every DMA-API call comes through here, so the hook context is one object per driver whose
 * `dev` and `devData` are set for each call (and put back after it, should a handler make a
 * nested call): handlers see it as the runner shows a context passed again — read through,
 * current on every call.
 */
export function get_domain(d: AmdIommuDriver, dev: PciDev): GetDomainResult {
  if (!d.check_device(dev.devid)) return { err: "EINVAL" };
  const devData = find_dev_data(d, dev.devid);
  const call = d.getDomainCall ??= getDomainCall(d);
  const ctx = call.ctx;
  const outerDev = ctx.dev, outerData = ctx.devData;
  ctx.dev = dev;
  ctx.devData = devData;
  try {
    return d.k.hooks.wrap("amd_iommu.get_domain", ctx, call.def);
  } finally {
    ctx.dev = outerDev;
    ctx.devData = outerData;
  }
}
