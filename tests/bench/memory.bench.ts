/**
 * Physical memory's cost: heap bytes per touched 256-byte line (target ≤ 1.25× the 256 bytes
 * stored) and a 1 TiB machine with one million touched pages (target ≤ 400 MiB RSS, ≤ 3 s).
 * Each is measured in a process of its own (memory-probe.ts); the bench entry times the
 * 1 TiB probe as a whole process.
 */
import { fileURLToPath } from "node:url";
import { figure } from "./measure.ts";

const PROBE = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));

async function probe(what: string, n: number): Promise<Record<string, number>> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", PROBE, what, String(n)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`memory probe ${what} failed`);
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

const l = await probe("lines", 200_000);
figure(
  "memory per touched 256-byte line",
  `${l.perLineDense.toFixed(0)} B dense (16 lines a page), ${l.perLineSparse.toFixed(0)} B ` +
    `sparse (1 line a page): ${(l.perLineDense / 256).toFixed(2)}x / ` +
    `${(l.perLineSparse / 256).toFixed(2)}x the bytes stored`,
);
const t = await probe("tib", 1_000_000);
figure(
  "1 TiB machine, 1 M touched pages",
  `${t.touchMiB.toFixed(0)} MiB RSS, ${t.touchSeconds.toFixed(2)} s; with a snapshot, half ` +
    `of them rewritten and all compared: ${t.rssMiB.toFixed(0)} MiB, ${t.seconds.toFixed(2)} s`,
);

Deno.bench({
  name: "1 TiB machine, 1 M touched pages (whole probe process)",
  group: "memory",
  n: 1,
  warmup: 0,
  fn: async () => void await probe("tib", 1_000_000),
});
