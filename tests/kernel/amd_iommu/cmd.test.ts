/**
 * Command submission (runtime/kernel/amd_iommu/cmd.ts): completion waits and their timeout,
 * the "fewer than 0x20 bytes left" path, and the INVALIDATE_IOMMU_PAGES range encoding.
 */
import assert from "node:assert/strict";
import fc from "npm:fast-check@^4";
import { decodeRange, INV_ALL_PAGES_ADDRESS } from "../../../runtime/hw/layouts/command.ts";
import { MMIO } from "../../../runtime/hw/layouts/mmio.ts";
import {
  build_inv_dte,
  build_inv_iommu_pages,
  iommu_completion_wait,
  iommu_queue_command,
} from "../../../runtime/kernel/amd_iommu/cmd.ts";
import { BUFFER, LOOP_TIMEOUT } from "../../../runtime/kernel/amd_iommu/types.ts";
import { COST } from "../../../runtime/kernel/cost.ts";
import { commandLog, KIT, linesSince, makeKit, mmioLog } from "../kit.ts";

const reg = (kit: ReturnType<typeof makeKit>, off: number) =>
  kit.m.mem.read32(KIT.IOMMU_MMIO + off);

Deno.test("cmd: a COMPLETION_WAIT behind an illegal command never completes; wait_on_sem gives up after LOOP_TIMEOUT µs with the alert", () => {
  const kit = makeKit({ nic: true });
  const { k, iommu } = kit;
  k.amd.go_to_state("IOMMU_INITIALIZED");
  const dev = k.amd.iommus[0];
  const cmds = commandLog(iommu);
  const writes = mmioLog(iommu);
  const from = k.dmesg.lines.length;
  // Opcode 0xF is not a command: the command processor logs ILLEGAL_COMMAND_ERROR and stops.
  const bad = new Uint32Array([0x0000_0000, 0xf000_0000, 0x1111_1111, 0x2222_2222]);
  const tail0 = reg(kit, MMIO.CMD_TAIL);
  assert.equal(k.amd.queue(dev, bad), true);
  assert.equal(k.amd.completion_wait(dev), false);
  assert.deepEqual(cmds.map((c) => [c.name, c.addr, c.result]), [
    ["UNKNOWN", dev.cmd_buf + tail0, "illegal"],
  ]);
  assert.equal(reg(kit, MMIO.STATUS) & (1 << 4), 0, "CmdBufRun reads 0");
  assert.equal(reg(kit, MMIO.CMD_HEAD), tail0, "head stays on the illegal command");
  assert.equal(reg(kit, MMIO.CMD_TAIL), (tail0 + 32) % BUFFER.CMD, "the wait is queued behind it");
  assert.equal(kit.m.mem.read32(dev.cmd_sem), 0, "never stored");
  // The alert comes LOOP_TIMEOUT × 1 µs after the COMPLETION_WAIT's doorbell (plus the writel).
  const doorbell = writes.filter((w) => w.offset === MMIO.CMD_TAIL).at(-1)!;
  const alert = k.dmesg.lines.filter((l) => l.level === "alert");
  assert.deepEqual(alert.map((l) => l.text), ["AMD-Vi: Completion-Wait loop timed out"]);
  assert.equal(alert[0].time + k.t0 - doorbell.t, COST.mmioWrite + LOOP_TIMEOUT * 1000);
  assert.equal(LOOP_TIMEOUT, 100_000, "100000 × udelay(1): 100 ms");
  assert.equal(k.amd.cmdStats.timeouts, 1);
  // Meanwhile the event interrupt printed the illegal command (two records + four dwords).
  const addr = (dev.cmd_buf + tail0).toString(16).padStart(16, "0");
  assert.deepEqual(linesSince(k, from), [
    ["err", "AMD-Vi: Event logged ["],
    ["warn", `ILLEGAL_COMMAND_ERROR address=0x${addr}]`],
    ["err", "AMD-Vi: CMD[0]: 00000000"],
    ["err", "AMD-Vi: CMD[1]: f0000000"],
    ["err", "AMD-Vi: CMD[2]: 11111111"],
    ["err", "AMD-Vi: CMD[3]: 22222222"],
    ["alert", "AMD-Vi: Completion-Wait loop timed out"],
  ]);
});

Deno.test("cmd: iommu_completion_wait does nothing when no command is pending (need_sync)", () => {
  const kit = makeKit();
  kit.k.amd.go_to_state("IOMMU_ENABLED");
  const cmds = commandLog(kit.iommu);
  const dev = kit.k.amd.iommus[0];
  assert.equal(dev.need_sync, false);
  const t = kit.m.clock.now;
  assert.equal(iommu_completion_wait(kit.k, dev, kit.k.amd.cmdStats), true);
  assert.equal(cmds.length, 0);
  assert.equal(kit.m.clock.now, t);
});

/** Stops the command processor (CmdBufEn = 0) behind the kernel's back; returns a restart. */
function stopProcessor(kit: ReturnType<typeof makeKit>): () => void {
  const at = KIT.IOMMU_MMIO + MMIO.CONTROL;
  const v = kit.m.mem.read32(at);
  kit.m.mem.write32(at, (v & ~(1 << 12)) >>> 0);
  return () => kit.m.mem.write32(at, kit.m.mem.read32(at) | (1 << 12));
}

Deno.test("cmd: with fewer than 0x20 bytes left the kernel queues a COMPLETION_WAIT, waits for the IOMMU to catch up, then queues the command", () => {
  const kit = makeKit();
  const { k, m, iommu } = kit;
  k.amd.go_to_state("IOMMU_ENABLED");
  const dev = k.amd.iommus[0], stats = k.amd.cmdStats;
  const h0 = reg(kit, MMIO.CMD_HEAD);
  assert.equal(reg(kit, MMIO.CMD_TAIL), h0);
  const restart = stopProcessor(kit);
  // 509 commands fill the ring up to 0x30 bytes short of the head.
  for (let i = 0; i < 509; i++) {
    assert.equal(iommu_queue_command(k, dev, build_inv_dte(i), stats), true);
  }
  assert.equal(reg(kit, MMIO.CMD_TAIL), (h0 + 509 * 16) % BUFFER.CMD);
  const cmds = commandLog(iommu);
  const waits = stats.waits, queued = stats.queued;
  const t0 = m.clock.now;
  m.clock.after(1_000_000, restart, "test: restart the command processor");
  assert.equal(iommu_queue_command(k, dev, build_inv_dte(509), stats), true);
  assert.equal(stats.waits, waits + 1);
  assert.equal(stats.timeouts, 0);
  assert.equal(stats.queued, queued + 1, "the sync wait is not counted as a queued command");
  // What the IOMMU ran once restarted: the 509, the inserted wait, then nothing yet.
  assert.equal(cmds.length, 510);
  assert.ok(cmds.slice(0, 509).every((c, i) => c.fields.DeviceID === i));
  const cw = cmds[509];
  assert.equal(cw.name, "COMPLETION_WAIT");
  assert.equal(cw.addr, dev.cmd_buf + (h0 + 509 * 16) % BUFFER.CMD);
  assert.equal(cw.fields.StoreAddress * 8, dev.cmd_sem);
  assert.ok(cw.t >= t0 + 1_000_000, "completed only after the restart");
  // The command itself went in right after the wait.
  assert.equal(reg(kit, MMIO.CMD_TAIL), (h0 + 511 * 16) % BUFFER.CMD);
  const w = new Uint32Array(4);
  m.mem.readDwords(dev.cmd_buf + (h0 + 510 * 16) % BUFFER.CMD, 4, w);
  assert.deepEqual([...w], [...build_inv_dte(509)]);
  k.spend(10_000);
  assert.equal(cmds.at(-1)!.fields.DeviceID, 509);
});

Deno.test("cmd: if the IOMMU never catches up the full-buffer wait times out and the command is dropped", () => {
  const kit = makeKit();
  const { k } = kit;
  k.amd.go_to_state("IOMMU_ENABLED");
  const dev = k.amd.iommus[0], stats = k.amd.cmdStats;
  stopProcessor(kit);
  for (let i = 0; i < 509; i++) iommu_queue_command(k, dev, build_inv_dte(i), stats);
  const tail = reg(kit, MMIO.CMD_TAIL), queued = stats.queued;
  const t0 = kit.m.clock.now;
  assert.equal(iommu_queue_command(k, dev, build_inv_dte(509), stats), false);
  assert.equal(stats.timeouts, 1);
  assert.equal(stats.queued, queued);
  assert.equal(reg(kit, MMIO.CMD_TAIL), (tail + 16) % BUFFER.CMD, "only the wait went in");
  assert.ok(kit.m.clock.now - t0 >= LOOP_TIMEOUT * 1000);
  assert.equal(
    kit.k.dmesg.lines.filter((l) => l.text === "AMD-Vi: Completion-Wait loop timed out").length,
    1,
  );
});

Deno.test("cmd: build_inv_iommu_pages: one page (S=0), the whole domain, or an aligned block covering the range", () => {
  const one = build_inv_iommu_pages(0x1234_5678, 16, 7, false);
  assert.deepEqual(decodeRange(one[2], one[3], one[2] & 1), [0x1234_5000, 4096]);
  assert.equal(one[2] & 3, 0, "S=0, PDE=0");
  assert.equal(one[1] & 0xffff, 7);
  const all = build_inv_iommu_pages(0, Infinity, 9, true);
  assert.equal(all[2] & 3, 3, "S=1, PDE=1");
  assert.equal(all[3] * 2 ** 32 + ((all[2] & 0xffff_f000) >>> 0), INV_ALL_PAGES_ADDRESS);
  const r = build_inv_iommu_pages(0x3000, 0x2000, 1, false);
  assert.deepEqual(decodeRange(r[2], r[3], 1), [0, 0x8000], "0x3000..0x4fff straddles 0x4000");
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: 1, max: 2 ** 24 }),
      (address, size) => {
        const w = build_inv_iommu_pages(address, size, 1, false);
        const [first, len] = decodeRange(w[2], w[3], w[2] & 1);
        assert.ok(first <= address && address + size <= first + len, "covers the range");
        // The smallest such block: its aligned halves split the range.
        if (len === 4096) assert.equal(w[2] & 1, 0, "one page: S=0");
        else {assert.notEqual(
            Math.floor(address / (len / 2)),
            Math.floor((address + size - 1) / (len / 2)),
          );}
      },
    ),
    { seed: 4132, numRuns: 500 },
  );
});
