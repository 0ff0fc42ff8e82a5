/**
 * What no machine can be: the checks a well-formed scenario must pass before it is built.
 * Each check reads the parsed scenario and returns its problems, each with the path of the
 * value to change and the reason, so a scenario file reports all of them at once:
 *
 *     machine.memoryMap[6]: RAM 0x200000000–0x2ffffffff overlaps memoryMap[5] (System RAM)
 *     crashkernel[0].base: 0xd0000000–0xdfffffff is not in RAM: it lies in memoryMap[4] (PCI MMIO, a hole)
 *
 * The bounds and their reasons are data in scenario-limits.ts; every check is a named
 * entry of {@link SCENARIO_CHECKS}.
 *
 * @module
 */
import { EFR } from "../hw/layouts/mmio.ts";
import { MSI_WINDOW } from "../hw/machine.ts";
import { DISK_BAR_SIZE } from "../hw/pci/disk.ts";
import { NIC_BAR_SIZE } from "../hw/pci/nic.ts";
import { SVM_BAR_SIZE } from "../hw/pci/svm.ts";
import { bdfText, PAGE_SIZE } from "../hw/memory.ts";
import type { Scenario } from "./scenario.ts";
import { grouped, LIMITS as L, limitText, lineRate, NIC_LINK_SPEEDS } from "./scenario-limits.ts";

/** One problem: where (the path of the value) and why. */
export interface Problem {
  /** The path of the offending value in the scenario, e.g. `["machine", "devices", 1, "bar"]`. */
  path: (string | number)[];
  /** What is wrong with it, in words. */
  message: string;
}

/** A named check of a parsed scenario. */
export interface ScenarioCheck {
  /** What it checks, in a few words. */
  readonly name: string;
  readonly check: (s: Scenario) => Problem[];
}

type Path = (string | number)[];
type Device = Scenario["machine"]["devices"][number];
type Nic = Extract<Device, { kind: "nic" }>;

/** A physical address range and what to call it in messages. */
interface Span {
  base: number;
  size: number;
  what: string;
}

/** BAR0 size of each device kind (the hardware model's register windows). */
export const BAR_SIZES: Record<Device["kind"], number> = {
  nic: NIC_BAR_SIZE,
  disk: DISK_BAR_SIZE,
  svm: SVM_BAR_SIZE,
};

const hex = (n: number) => `0x${n.toString(16)}`;
const spanText = (base: number, size: number) => `${hex(base)}–${hex(base + size - 1)}`;
const overlaps = (a: { base: number; size: number }, b: { base: number; size: number }) =>
  a.size > 0 && b.size > 0 && a.base < b.base + b.size && b.base < a.base + a.size;
const isRamKind = (k: string) => k === "ram" || k === "reserved";

/** The memory map's entries as spans (`memoryMap[i] (name)`). */
function regions(s: Scenario): (Span & { kind: string; index: number })[] {
  return s.machine.memoryMap.map((r, index) => ({
    base: r.base,
    size: r.size,
    kind: r.kind,
    index,
    what: `memoryMap[${index}] (${r.name}${r.kind === "hole" ? ", a hole" : ""})`,
  }));
}

/** Whether [base, base+size) is covered by the union of `spans`. */
function covered(base: number, size: number, spans: readonly Span[]): boolean {
  let at = base;
  const end = base + size;
  const sorted = [...spans].sort((a, b) => a.base - b.base);
  for (const r of sorted) {
    if (r.base > at) break;
    at = Math.max(at, r.base + r.size);
    if (at >= end) return true;
  }
  return at >= end;
}

/** Problems with a range's own extent: empty, or beyond the physical address space. */
function extent(path: Path, base: number, size: number, what: string): Problem[] {
  if (size === 0) return [{ path: [...path, "size"], message: `${what} of size 0` }];
  if (base + size > L.physTop.value) {
    return [{
      path: [...path, "size"],
      message: `${what} ${spanText(base, size)} ends above 2^52 (${L.physTop.why})`,
    }];
  }
  return [];
}

/** The RAM regions a span overlaps, as one problem (or none). */
function inRam(s: Scenario, path: Path, span: Span): Problem[] {
  const hit = regions(s).find((r) => isRamKind(r.kind) && overlaps(r, span));
  return hit ? [{ path, message: `${span.what} overlaps RAM: ${hit.what}` }] : [];
}

const memoryMap: ScenarioCheck = {
  name: "memory map: sizes, overlaps, some RAM, the kernel image in RAM",
  check(s) {
    const out: Problem[] = [];
    const rs = regions(s);
    for (const r of rs) {
      out.push(...extent(["machine", "memoryMap", r.index], r.base, r.size, `region ${r.what}`));
    }
    for (let j = 0; j < rs.length; j++) {
      for (let i = 0; i < j; i++) {
        const a = rs[i], b = rs[j];
        if ((isRamKind(a.kind) || isRamKind(b.kind)) && overlaps(a, b)) {
          out.push({
            path: ["machine", "memoryMap", j],
            message: `${b.kind} ${spanText(b.base, b.size)} overlaps ${a.what}`,
          });
        }
      }
    }
    const ram = rs.filter((r) => r.kind === "ram");
    if (!ram.length) {
      out.push({ path: ["machine", "memoryMap"], message: "no RAM: no region is of kind ram" });
      return out;
    }
    const total = ram.reduce((a, r) => a + r.size, 0);
    if (total > L.totalRam.value) {
      out.push({
        path: ["machine", "memoryMap"],
        message: `${(total / 2 ** 40).toFixed(1)} TiB of RAM is more than ${
          L.totalRam.value / 2 ** 40
        } TiB (${L.totalRam.why})`,
      });
    }
    const image = { base: L.kernelImageBase.value, size: L.kernelImageSize.value };
    if (!covered(image.base, image.size, ram)) {
      out.push({
        path: ["machine", "memoryMap"],
        message: `no RAM for the first kernel's image at ${
          spanText(image.base, image.size)
        } (${L.kernelImageBase.why}; ${L.kernelImageSize.why})`,
      });
    }
    return out;
  },
};

const pciWindows: ScenarioCheck = {
  name: "PCI windows: sizes, outside RAM",
  check(s) {
    return s.machine.pciWindows.flatMap((w, i) => {
      const path = ["machine", "pciWindows", i];
      const what = `PCI window ${spanText(w.base, w.size)}`;
      const ext = extent(path, w.base, w.size, "a PCI window");
      return ext.length ? ext : inRam(s, path, { ...w, what });
    });
  },
};

/** Each IOMMU's MMIO window. */
function iommuWindows(s: Scenario): Span[] {
  return s.machine.iommus.map((u, i) => ({
    base: u.mmioBase,
    size: L.iommuMmio.value,
    what: `iommus[${i}]'s MMIO window ${spanText(u.mmioBase, L.iommuMmio.value)}`,
  }));
}

/** Every EFR field name a scenario may set (the EFR layout's non-reserved fields). */
export const EFR_FIELDS: readonly string[] = EFR.fields.filter((f) => !f.reserved).map((f) =>
  f.name
);

const iommus: ScenarioCheck = {
  name: "IOMMUs: MMIO windows, EFR fields, device ranges",
  check(s) {
    const out: Problem[] = [];
    const wins = iommuWindows(s);
    s.machine.iommus.forEach((u, i) => {
      const path = ["machine", "iommus", i];
      if (u.mmioBase % L.iommuMmio.value) {
        out.push({
          path: [...path, "mmioBase"],
          message: `${hex(u.mmioBase)} is not 16 KiB aligned (${L.iommuMmio.why})`,
        });
      } else if (u.mmioBase + L.iommuMmio.value > L.physTop.value) {
        out.push({ path: [...path, "mmioBase"], message: `${wins[i].what} ends above 2^52` });
      } else out.push(...inRam(s, [...path, "mmioBase"], wins[i]));
      for (let j = 0; j < i; j++) {
        if (overlaps(wins[i], wins[j])) {
          out.push({
            path: [...path, "mmioBase"],
            message: `${hex(u.mmioBase)}: two IOMMUs at one address (iommus[${j}] is at ${
              hex(s.machine.iommus[j].mmioBase)
            })`,
          });
        }
      }
      for (const [name, value] of Object.entries(u.efr)) {
        const f = EFR.fields.find((x) => x.name === name && !x.reserved);
        if (!f) {
          out.push({
            path: [...path, "efr", name],
            message: `not an EFR field; the fields are ${EFR_FIELDS.join(", ")}`,
          });
        } else if (value >= 2 ** f.width) {
          out.push({
            path: [...path, "efr", name],
            message: `${value} does not fit in the ${f.width}-bit field (at most ${
              2 ** f.width - 1
            })`,
          });
        }
      }
      if (u.devices !== "all") {
        u.devices.forEach((r, k) => {
          if (r.first > r.last) {
            out.push({
              path: [...path, "devices", k],
              message: `given backwards: first ${bdfText(r.first)} is after last ${
                bdfText(r.last)
              }`,
            });
          }
        });
      }
    });
    // A device sits behind one IOMMU: the IOMMUs' device ranges must not overlap.
    const ranges = s.machine.iommus.map((u) =>
      u.devices === "all" ? [{ first: 0, last: 0xffff }] : u.devices
    );
    for (let j = 0; j < ranges.length; j++) {
      for (let i = 0; i < j; i++) {
        const both = ranges[j].find((b) =>
          ranges[i].some((a) => a.first <= b.last && b.first <= a.last)
        );
        if (both) {
          out.push({
            path: ["machine", "iommus", j, "devices"],
            message: `covers devices iommus[${i}] covers too (a device sits behind one IOMMU)`,
          });
        }
      }
    }
    return out;
  },
};

const bdfs: ScenarioCheck = {
  name: "PCI addresses: one function per BDF; shared groups name devices",
  check(s) {
    const out: Problem[] = [];
    const seen = new Map<number, string>();
    const claim = (bdf: number, path: Path, what: string) => {
      const other = seen.get(bdf);
      if (other) {
        out.push({ path, message: `${bdfText(bdf)} is also ${other}'s PCI address` });
      } else seen.set(bdf, what);
    };
    s.machine.iommus.forEach((u, i) =>
      claim(u.devid, ["machine", "iommus", i, "devid"], `iommus[${i}]`)
    );
    s.machine.devices.forEach((d, i) =>
      claim(d.bdf, ["machine", "devices", i, "bdf"], `devices[${i}]`)
    );
    claim(s.machine.ioapic.devid, ["machine", "ioapic", "devid"], "the I/O APIC");
    const devices = new Set(s.machine.devices.map((d) => d.bdf));
    s.machine.sharedGroups.forEach(([a, b], i) => {
      const path = ["machine", "sharedGroups", i];
      if (a === b) out.push({ path, message: `${bdfText(a)} shares a group with itself` });
      [a, b].forEach((x, k) => {
        if (!devices.has(x)) out.push({ path: [...path, k], message: `no device ${bdfText(x)}` });
      });
    });
    return out;
  },
};

const bars: ScenarioCheck = {
  name: "BARs: aligned to their size, inside a PCI window, clear of RAM and each other",
  check(s) {
    const out: Problem[] = [];
    const wins = s.machine.pciWindows;
    const io = s.machine.ioapic.mmioBase, hpet = s.machine.hpet.mmioBase;
    const taken: Span[] = [
      ...iommuWindows(s),
      { ...MSI_WINDOW, what: `the MSI window ${spanText(MSI_WINDOW.base, MSI_WINDOW.size)}` },
      { base: io, size: 0x1000, what: `the I/O APIC's registers ${spanText(io, 0x1000)}` },
      { base: hpet, size: 0x400, what: `the HPET's registers ${spanText(hpet, 0x400)}` },
    ];
    s.machine.devices.forEach((d, i) => {
      const path = ["machine", "devices", i, "bar"];
      const size = BAR_SIZES[d.kind];
      const span = { base: d.bar, size, what: `BAR ${spanText(d.bar, size)}` };
      if (d.bar % size) {
        out.push({
          path,
          message: `${hex(d.bar)} is not aligned to the BAR's size ${hex(size)} (a BAR is ` +
            `naturally aligned)`,
        });
        return;
      }
      if (d.bar + size > L.physTop.value) {
        out.push({ path, message: `${span.what} ends above 2^52` });
        return;
      }
      const ram = inRam(s, path, span);
      out.push(...ram);
      if (wins.length && !wins.some((w) => d.bar >= w.base && d.bar + size <= w.base + w.size)) {
        out.push({
          path,
          message: `${span.what} is outside the PCI windows (${
            wins.map((w) => spanText(w.base, w.size)).join(", ")
          })`,
        });
      }
      const hit = taken.find((t) => overlaps(t, span));
      if (hit) out.push({ path, message: `${span.what} overlaps ${hit.what}` });
      taken.push({ ...span, what: `devices[${i}]'s ${span.what}` });
    });
    return out;
  },
};

const crashkernel: ScenarioCheck = {
  name: "crashkernel: page aligned, inside RAM, clear of the kernel image and each other",
  check(s) {
    const out: Problem[] = [];
    const rs = regions(s);
    const ramEnd = Math.max(0, ...rs.filter((r) => r.kind === "ram").map((r) => r.base + r.size));
    const image = { base: L.kernelImageBase.value, size: L.kernelImageSize.value };
    s.crashkernel.forEach((c, i) => {
      const path = ["crashkernel", i];
      const ext = extent(path, c.base, c.size, "a crashkernel reservation");
      if (ext.length) return out.push(...ext);
      const text = spanText(c.base, c.size);
      if (c.base % PAGE_SIZE || c.size % PAGE_SIZE) {
        out.push({ path, message: `${text} is not page (4 KiB) aligned` });
      }
      const home = rs.find((r) => r.kind === "ram" && c.base >= r.base && c.base < r.base + r.size);
      if (!home || c.base + c.size > home.base + home.size) {
        const at = rs.find((r) => c.base >= r.base && c.base < r.base + r.size);
        const where = c.base >= ramEnd
          ? `it lies above all RAM (RAM ends at ${hex(ramEnd)})`
          : home
          ? `it runs past the end of ${home.what}`
          : at
          ? `it lies in ${at.what}`
          : "no region of the memory map holds it";
        out.push({ path: [...path, "base"], message: `${text} is not in RAM: ${where}` });
      }
      if (overlaps(c, image)) {
        out.push({
          path: [...path, "base"],
          message: `${text} overlaps the first kernel's image at ${
            spanText(image.base, image.size)
          }`,
        });
      }
      for (let j = 0; j < i; j++) {
        if (overlaps(c, s.crashkernel[j])) {
          out.push({ path, message: `${text} overlaps crashkernel[${j}]` });
        }
      }
    });
    const first = s.crashkernel[0];
    if (first && first.size > 0 && first.size <= L.kernelImageSize.value) {
      out.push({
        path: ["crashkernel", 0, "size"],
        message: `${hex(first.size)} bytes cannot hold the crash kernel: its image and early ` +
          `allocations take ${hex(L.kernelImageSize.value)}`,
      });
    }
    return out;
  },
};

/** The driver family of a NIC entry's model: bcm5720 is tg3's, bcm5709 (the default) bnx2's. */
function nicModel(d: Nic): string {
  return d.model === "bcm5720" ? "tg3" : "bnx2";
}

const nics: ScenarioCheck = {
  name: "NICs: link speed of the model, frame rates within the line rate",
  check(s) {
    const out: Problem[] = [];
    s.machine.devices.forEach((d, i) => {
      if (d.kind !== "nic") return;
      const path = ["machine", "devices", i, "traffic"];
      const model = nicModel(d);
      const speeds = NIC_LINK_SPEEDS[model] ?? NIC_LINK_SPEEDS.bnx2;
      const mbps = d.traffic.linkMbps;
      if (!speeds.includes(mbps)) {
        out.push({
          path: [...path, "linkMbps"],
          message: `a ${model} port runs at ${speeds.join(", ")} Mb/s, not ${mbps}`,
        });
        return;
      }
      const check = (p: Path, fps: number, bytes: number) => {
        const max = lineRate(mbps, bytes);
        if (fps > max) {
          out.push({
            path: p,
            message: `${fps} frames/s of ${bytes} bytes is above the ${mbps} Mb/s line rate ` +
              `(${max} frames/s: ${mbps}·10^6 / ((${bytes} + 20) · 8))`,
          });
        }
      };
      check([...path, "framesPerSecond"], d.traffic.framesPerSecond, d.traffic.frameBytes);
      d.traffic.bursts.forEach((b, k) =>
        check([...path, "bursts", k, "framesPerSecond"], b.framesPerSecond, b.frameBytes)
      );
    });
    return out;
  },
};

const accelerators: ScenarioCheck = {
  name: "SVM accelerators: a page-aligned buffer in user space, resident ≤ pages",
  check(s) {
    const out: Problem[] = [];
    s.machine.devices.forEach((d, i) => {
      if (d.kind !== "svm") return;
      const path = ["machine", "devices", i, "driver"];
      const p = d.driver;
      if (p.va % PAGE_SIZE) {
        out.push({ path: [...path, "va"], message: `${hex(p.va)} is not page aligned` });
      } else if (p.va + p.pages * PAGE_SIZE > L.userVaTop.value) {
        out.push({
          path: [...path, "pages"],
          message: `${p.pages} pages from ${hex(p.va)} end above 2^47 (${L.userVaTop.why})`,
        });
      }
      if (p.resident > p.pages) {
        out.push({
          path: [...path, "resident"],
          message: `${p.resident} resident pages in a buffer of ${p.pages}`,
        });
      }
    });
    return out;
  },
};

const panic: ScenarioCheck = {
  name: "panic: the IOMMUs a fatal error resets exist",
  check(s) {
    const p = s.firstKernel.panic;
    if (p.during !== "fatal-error") return [];
    const n = s.machine.iommus.length;
    return p.resetIommus.flatMap((i, k) =>
      i < n ? [] : [{
        path: ["firstKernel", "panic", "resetIommus", k],
        message: `no IOMMU ${i}: the machine has ${n} (${
          n === 1 ? "index 0" : `indices 0–${n - 1}`
        })`,
      }]
    );
  },
};

const snpHost: ScenarioCheck = {
  name: "snp: an SEV-SNP host needs IOMMUs that support SNP",
  check(s) {
    if (!s.firstKernel.snpHost) return [];
    return s.machine.iommus.flatMap((u, i) =>
      u.efr.SNPSup === 1 ? [] : [{
        path: ["firstKernel", "snpHost"],
        message: `IOMMU ${i} does not support SEV-SNP (set machine.iommus[${i}].efr.SNPSup: 1)`,
      }]
    );
  },
};

const sme: ScenarioCheck = {
  name: "sme: the C-bit is not an address bit, so the whole memory map lies below it",
  check(s) {
    const e = s.machine.memoryEncryption;
    if (!e) return [];
    const top = Math.max(...s.machine.memoryMap.map((r) => r.base + r.size));
    return top <= 2 ** e.cbit ? [] : [{
      path: ["machine", "memoryEncryption", "cbit"],
      message: `the C-bit (bit ${e.cbit}) lies inside the memory map, which reaches 0x${
        top.toString(16)
      }: it must be above every physical address`,
    }];
  },
};

/** The device operations a run may simulate, by kind, each with the field that drives it. */
export function workEstimate(s: Scenario): { total: number; parts: [string, number, Path][] } {
  // The longest a run can last, ms: first kernel, kexec, the kdump service and its deadline.
  // (Each time at most its bound: a value above it is reported on its own.)
  const bounded = (v: number, l: { value: number }) => Math.min(v, l.value);
  const uptimeMs = bounded(s.firstKernel.uptimeMs, L.uptimeMs);
  const runMs = uptimeMs + bounded(s.second.kexecDelayMs, L.kexecDelayMs) +
    bounded(s.second.serviceDelayMs, L.serviceDelayMs) +
    bounded(s.second.deadlineS, L.deadlineS) * 1000;
  const parts: [string, number, Path][] = [];
  s.machine.devices.forEach((d, i) => {
    const path = ["machine", "devices", i];
    if (d.kind === "nic") {
      const burst = d.traffic.bursts.reduce(
        (a, b) => a + b.framesPerSecond * bounded(b.durationUs, L.burstUs) / 1e6,
        0,
      );
      parts.push(
        [
          "NIC frames",
          d.traffic.framesPerSecond * uptimeMs / 1000 + burst,
          [...path, "traffic", "framesPerSecond"],
        ],
        ["RX buffers", 2 * d.driver.rxRingSize, [...path, "driver", "rxRingSize"]],
        ["statistics DMAs", runMs * 1000 / Math.max(d.driver.statsTicksUs, L.statsTicksMin.value), [
          ...path,
          "driver",
          "statsTicksUs",
        ]],
      );
    } else if (d.kind === "svm") {
      parts.push(
        ["accelerator jobs", runMs * 1000 / d.driver.intervalUs, [...path, "driver", "intervalUs"]],
        ["resident pages", d.driver.resident, [...path, "driver", "resident"]],
      );
    }
  });
  return { total: parts.reduce((a, p) => a + p[1], 0), parts };
}

const work: ScenarioCheck = {
  name: "work: the device operations of one run stay within the simulation's budget",
  check(s) {
    const { total, parts } = workEstimate(s);
    if (total <= L.work.value) return [];
    const byKind = new Map<string, number>();
    for (const [kind, n] of parts) byKind.set(kind, (byKind.get(kind) ?? 0) + n);
    const biggest = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
    const fmt = (n: number) => grouped(Math.round(n));
    return [{
      path: biggest[2],
      message: `the run would simulate ~${fmt(total)} device operations (${
        [...byKind].filter(([, n]) => n >= 1).map(([k, n]) => `${k} ${fmt(n)}`).join(", ")
      }), above ${limitText(L.work)}`,
    }];
  },
};

/** Every check, in the order problems are reported. */
export const SCENARIO_CHECKS: readonly ScenarioCheck[] = [
  memoryMap,
  pciWindows,
  iommus,
  bdfs,
  bars,
  crashkernel,
  nics,
  accelerators,
  panic,
  snpHost,
  sme,
  work,
];

/** Every problem of a parsed scenario (none: the machine can exist and its run is bounded). */
export function scenarioProblems(s: Scenario): Problem[] {
  return SCENARIO_CHECKS.flatMap((c) => c.check(s));
}
