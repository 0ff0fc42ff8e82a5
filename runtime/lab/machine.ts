/**
 * Builds the machine of a scenario: memory map, IOMMUs, devices, and the owner tags the
 * firmware and the first kernel's long-running workload leave on memory.
 *
 * @module
 */
import { Machine } from "../hw/machine.ts";
import { PAGE_SIZE } from "../hw/memory.ts";
import { Disk } from "../hw/pci/disk.ts";
import { Nic } from "../hw/pci/nic.ts";
import { SvmDevice } from "../hw/pci/svm.ts";
import type { PciDevInfo } from "../kernel/kernel.ts";
import type { Ivrs } from "../kernel/pci.ts";
import type { MadtIoApic } from "../kernel/io_apic.ts";
import type { Scenario } from "./scenario.ts";

/** A scenario's machine and what its firmware tells the kernels. */
export interface Built {
  machine: Machine;
  ivrs: Ivrs;
  pci: PciDevInfo[];
  nics: Nic[];
  disks: Disk[];
  svms: SvmDevice[];
  /** RAM of the first kernel (the ELF core header's PT_LOAD ranges). */
  ram1: { base: number; size: number }[];
  /** Memory the first kernel's page allocator manages. */
  usable1: { base: number; size: number }[];
  /** Memory the crash kernel's page allocator manages. */
  usable2: { base: number; size: number }[];
  /** The MADT's I/O APICs and the ACPI HPET table, as both kernels read them. */
  madt: { ioapics: MadtIoApic[] };
  hpet: { mmioBase: number };
}

/** Memory the kernel image and its early allocations take at the start of each kernel's RAM. */
const KERNEL_IMAGE = 64 * 2 ** 20;
const LOW_RESERVED = 16 * 2 ** 20;

function subtract(
  ranges: { base: number; size: number }[],
  holes: { base: number; size: number }[],
): { base: number; size: number }[] {
  let out = ranges.map((r) => ({ ...r }));
  for (const h of holes) {
    const next: { base: number; size: number }[] = [];
    for (const r of out) {
      const rEnd = r.base + r.size, hEnd = h.base + h.size;
      if (hEnd <= r.base || h.base >= rEnd) {
        next.push(r);
        continue;
      }
      if (h.base > r.base) next.push({ base: r.base, size: h.base - r.base });
      if (hEnd < rEnd) next.push({ base: hEnd, size: rEnd - hEnd });
    }
    out = next;
  }
  return out.filter((r) => r.size >= PAGE_SIZE);
}

/** Builds the machine of `s`. */
export function buildMachine(s: Scenario): Built {
  const machine = new Machine({
    seed: s.seed,
    memoryMap: s.machine.memoryMap.map((r) => ({ ...r })),
    iommus: s.machine.iommus.map((u, index) => ({
      index,
      devid: u.devid,
      mmioBase: u.mmioBase,
      efr: u.efr,
      dteCacheEntries: u.dteCacheEntries,
      iotlbEntries: u.iotlbEntries,
    })),
    chipset: {
      ioapic: { ...s.machine.ioapic },
      hpetBase: s.machine.hpet.mmioBase,
    },
    memoryEncryption: s.machine.memoryEncryption,
    iommuOf: (devid) => {
      const i = s.machine.iommus.findIndex((u) =>
        u.devices === "all" || u.devices.some((r) => devid >= r.first && devid <= r.last)
      );
      return i < 0 ? 0 : i;
    },
  });
  const mem = machine.mem;
  const nics: Nic[] = [], disks: Disk[] = [], svms: SvmDevice[] = [];
  const pci: PciDevInfo[] = [];
  for (const d of s.machine.devices) {
    const shares = s.machine.sharedGroups.find(([a, b]) => a === d.bdf || b === d.bdf);
    const partner = shares ? (shares[0] === d.bdf ? shares[1] : shares[0]) : undefined;
    /** What every device is made with: DeviceID, name (`nic@200`), BAR, abort policy. */
    const basics = () => ({
      devid: d.bdf,
      name: `${d.kind}@${d.bdf.toString(16)}`,
      bar: d.bar,
      abortPolicy: d.abortPolicy,
    });
    /** Puts `dev` on the bus and in the firmware's device list. */
    const plug = (dev: Nic | Disk | SvmDevice) => {
      machine.addDevice(dev);
      pci.push({
        devid: d.bdf,
        bar: d.bar,
        barSize: dev.barSize,
        id: dev.id,
        sharesGroupWith: partner,
      });
    };
    if (d.kind === "nic") {
      const nic = new Nic({
        ...basics(),
        model: d.model,
        traffic: {
          ...d.traffic,
          bursts: d.traffic.bursts.map((b) => ({
            atNs: Math.round(b.atMs * 1e6),
            durationNs: Math.round(b.durationUs * 1e3),
            framesPerSecond: b.framesPerSecond,
            frameBytes: b.frameBytes,
          })),
        },
        prefetch: d.prefetch,
      });
      plug(nic);
      nics.push(nic);
    } else if (d.kind === "svm") {
      const svm = new SvmDevice(basics());
      plug(svm);
      svms.push(svm);
    } else {
      const disk = new Disk(basics());
      plug(disk);
      disks.push(disk);
    }
  }
  const ram = s.machine.memoryMap.filter((r) => r.kind === "ram").map((r) => ({
    base: r.base,
    size: r.size,
  }));
  const ram1 = subtract(ram, s.crashkernel);
  // The crash kernel reserve, then the first kernel's workload (by share, in 64 MiB chunks).
  for (const c of s.crashkernel) mem.setOwner(c.base, c.size, { who: "crashkernel" });
  tagWorkload(s, machine, ram1);
  for (const c of s.crashkernel) {
    mem.setOwner(c.base, Math.min(KERNEL_IMAGE, c.size), {
      who: "crashkernel",
      what: "kernel-image",
    });
  }
  mem.setOwner(LOW_RESERVED, KERNEL_IMAGE, { who: "kernel1", what: "kernel-image" });
  const usable1 = subtract(ram1, [{ base: 0, size: LOW_RESERVED + KERNEL_IMAGE }]);
  const usable2 = subtract(
    s.crashkernel.map((c) => ({ base: c.base, size: c.size })),
    s.crashkernel.map((c) => ({ base: c.base, size: KERNEL_IMAGE })),
  );
  const ivrs: Ivrs = {
    ivhds: s.machine.iommus.map((u) => ({
      devid: u.devid,
      mmioBase: u.mmioBase,
      devices: u.devices,
    })),
    pciWindows: s.machine.pciWindows.map((w) => ({ base: w.base, size: w.size })),
    ioapics: [{ apicId: s.machine.ioapic.apicId, devid: s.machine.ioapic.devid }],
  };
  const madt = {
    ioapics: [{ apicId: s.machine.ioapic.apicId, mmioBase: s.machine.ioapic.mmioBase, gsiBase: 0 }],
  };
  const hpet = { mmioBase: s.machine.hpet.mmioBase };
  return { machine, ivrs, pci, nics, disks, svms, ram1, usable1, usable2, madt, hpet };
}

/**
 * Tags the first kernel's RAM with what a long-running workload keeps there (slab,
 * page cache, user pages, free), in 64 MiB chunks drawn from the scenario's shares.
 */
function tagWorkload(s: Scenario, m: Machine, ram1: { base: number; size: number }[]): void {
  const rng = m.clock.rng.fork("workload");
  const chunk = 64 * 2 ** 20;
  const u = s.firstKernel.memoryUse;
  for (const r of ram1) {
    for (let a = r.base; a < r.base + r.size; a += chunk) {
      const x = rng.next();
      const what = x < u.slab
        ? "slab"
        : x < u.slab + u.pagecache
        ? "pagecache"
        : x < u.slab + u.pagecache + u.user
        ? "user"
        : undefined;
      if (what) m.mem.setOwner(a, Math.min(chunk, r.base + r.size - a), { who: "kernel1", what });
      else m.mem.setOwner(a, Math.min(chunk, r.base + r.size - a), { who: "free" });
    }
  }
}
