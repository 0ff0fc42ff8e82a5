/**
 * Measures physical memory's cost in a process of its own (started by memory.bench.ts with
 * --expose-gc, so the numbers are not mixed with other benchmarks' garbage). Prints one JSON
 * line.
 *
 *   lines  N: heap + external bytes per touched 256-byte line, for N lines touched densely
 *             (every line of N/16 pages) and sparsely (one line in each of N pages)
 *   tib    N: a 1 TiB machine with N touched pages (64 bytes written at the start of each,
 *             pages 1 MiB apart): write them and list the non-blank pages — RSS and wall
 *             time; then as the dump check goes on: a snapshot, every other page overwritten
 *             (the snapshot keeps their lines), every page read and compared with it
 */
import { PhysMem } from "../../runtime/hw/memory.ts";

const gc = (globalThis as unknown as { gc?: () => void }).gc ?? (() => {});
const used = () => {
  gc();
  gc();
  const u = Deno.memoryUsage();
  return u.heapUsed + u.external;
};

function lines(n: number): Record<string, number> {
  const GIB = 2 ** 30;
  const measure = (dense: boolean) => {
    const before = used();
    const mem = new PhysMem([{ base: 0, size: 64 * GIB, kind: "ram", name: "System RAM" }]);
    for (let i = 0; i < n; i++) {
      const addr = dense ? i * 256 : i * 4096 + (i % 16) * 256;
      mem.write32(addr + 4 * (i % 64), i + 1);
    }
    const bytes = used() - before;
    if (mem.read32(dense ? 0 : 0) !== 1) throw new Error("lost a write");
    return bytes / n;
  };
  return { perLineDense: measure(true), perLineSparse: measure(false), stored: 256 };
}

function tib(n: number): Record<string, number> {
  const TIB = 2 ** 40, MIB = 2 ** 20;
  const started = performance.now();
  const mem = new PhysMem([{ base: 0, size: TIB, kind: "ram", name: "System RAM" }]);
  const frame = new Uint32Array(16);
  for (let i = 0; i < n; i++) {
    frame.fill(i + 1);
    mem.writeDwords(i * MIB, frame);
  }
  const pages = mem.nonBlankPages();
  if (pages.length !== n) throw new Error(`${pages.length} non-blank pages, expected ${n}`);
  const touchSeconds = (performance.now() - started) / 1000;
  const touchMiB = Deno.memoryUsage().rss / MIB;
  // The dump check's part: a snapshot, every other page rewritten, every page compared.
  mem.beginSnapshot();
  for (let i = 0; i < n; i += 2) {
    frame.fill(0xdead_0000 + i);
    mem.writeDwords(i * MIB, frame);
  }
  const page = new Uint32Array(1024);
  let same = 0;
  for (const pfn of pages) {
    mem.readDwords(pfn * 4096, 1024, page);
    if (mem.originalPageEquals(pfn, page)) same++;
  }
  if (same !== n / 2) throw new Error(`${same} pages unchanged, expected ${n / 2}`);
  return {
    touchSeconds,
    touchMiB,
    seconds: (performance.now() - started) / 1000,
    rssMiB: Deno.memoryUsage().rss / MIB,
  };
}

const [what, count] = Deno.args;
const n = Number(count);
console.log(JSON.stringify(what === "tib" ? tib(n) : lines(n)));
