/**
 * Command submission (amd_iommu.c): building commands, queueing them into the in-memory
 * command buffer, ringing the tail doorbell, and completion waits that poll cmd_sem —
 * including the "Completion-Wait loop timed out" path when the IOMMU never stores it.
 *
 * @module
 */
import {
  CMD_OPCODES,
  COMMAND_LAYOUTS,
  type CommandName,
  INV_ALL_PAGES_ADDRESS,
} from "../../hw/layouts/command.ts";
import { MMIO } from "../../hw/layouts/mmio.ts";
import { COST } from "../cost.ts";
import type { Kernel } from "../kernel.ts";
import { type AmdIommuDev, BUFFER, LOOP_TIMEOUT } from "./types.ts";

/** An encoded command (four dwords). */
export type IommuCmd = Uint32Array;

/** Builds a command from named fields (the build_* helpers of amd_iommu.c). */
export function buildCmd(name: CommandName, fields: Record<string, number>): IommuCmd {
  return COMMAND_LAYOUTS[name].encode({ ...fields, Opcode: CMD_OPCODES[name] });
}

/** build_completion_wait(): store 1 at `sem` (as the IOMMU is given it: iommu_virt_to_phys). */
export function build_completion_wait(sem: number): IommuCmd {
  return buildCmd("COMPLETION_WAIT", { S: 1, StoreAddress: sem / 8, StoreData: 1 });
}

/** build_inv_dte(). */
export function build_inv_dte(devid: number): IommuCmd {
  return buildCmd("INVALIDATE_DEVTAB_ENTRY", { DeviceID: devid });
}

/** build_inv_iommu_pages(): one page, a range, or the whole domain (size = Infinity). */
export function build_inv_iommu_pages(
  address: number,
  size: number,
  domid: number,
  pde: boolean,
): IommuCmd {
  let addr = address, s = 0;
  const first = Math.floor(address / 4096), last = Math.floor((address + size - 1) / 4096);
  if (size === Infinity) {
    addr = INV_ALL_PAGES_ADDRESS;
    s = 1;
  } else if (last !== first) {
    // Encode the smallest naturally aligned power-of-two block holding the first and the
    // last page: ones from bit 12 up to log2(block)-2.
    let pages = 2;
    while (Math.floor(first / pages) !== Math.floor(last / pages)) pages *= 2;
    addr = Math.floor(first / pages) * pages * 4096 + (pages / 2 - 1) * 4096;
    s = 1;
  }
  return buildCmd("INVALIDATE_IOMMU_PAGES", {
    DomainID: domid,
    S: s,
    PDE: pde ? 1 : 0,
    Address: Math.floor(addr / 4096),
  });
}

/** build_inv_irt(). */
export function build_inv_irt(devid: number): IommuCmd {
  return buildCmd("INVALIDATE_INTERRUPT_TABLE", { DeviceID: devid });
}

/** build_inv_all(). */
export function build_inv_all(): IommuCmd {
  return buildCmd("INVALIDATE_IOMMU_ALL", {});
}

/** build_complete_ppr(). */
export function build_complete_ppr(
  devid: number,
  pasid: number,
  status: number,
  tag: number,
): IommuCmd {
  return buildCmd("COMPLETE_PPR_REQUEST", {
    DeviceID: devid,
    PASID: pasid,
    GN: 1,
    CompletionTag: tag,
    Status: status,
  });
}

/** Statistics of command submission (for the report). */
export interface CmdStats {
  /** Commands copied into a command buffer. */
  queued: number;
  /** Completion waits (wait_on_sem calls). */
  waits: number;
  /** Completion waits that timed out ("Completion-Wait loop timed out"). */
  timeouts: number;
}

/**
 * wait_on_sem(): polls cmd_sem every 1 µs up to LOOP_TIMEOUT times; on timeout prints
 * "AMD-Vi: Completion-Wait loop timed out" and returns false (-EIO).
 */
export function wait_on_sem(k: Kernel, iommu: AmdIommuDev, stats: CmdStats): boolean {
  stats.waits++;
  const steps = k.pollWait(
    () => k.mem.read32(iommu.cmd_sem) !== 0 || k.mem.read32(iommu.cmd_sem + 4) !== 0,
    1000,
    LOOP_TIMEOUT,
  );
  if (steps < 0) {
    stats.timeouts++;
    k.pr_alert("AMD-Vi: Completion-Wait loop timed out");
    return false;
  }
  return true;
}

function copy_cmd_to_buffer(k: Kernel, iommu: AmdIommuDev, cmd: IommuCmd, tail: number): void {
  k.mem.writeDwords(iommu.cmd_buf + tail, cmd);
  k.spend(COST.tableWrite);
  k.writel((tail + 16) % BUFFER.CMD, iommu.mmio_base + MMIO.CMD_TAIL);
}

/**
 * __iommu_queue_command_sync(): copies the command at the tail; when fewer than 0x20 bytes
 * are left it first queues a COMPLETION_WAIT and waits for the IOMMU to catch up.
 */
export function iommu_queue_command(
  k: Kernel,
  iommu: AmdIommuDev,
  cmd: IommuCmd,
  stats: CmdStats,
  sync = true,
): boolean {
  for (let tries = 0; tries < 64; tries++) {
    const head = k.readl(iommu.mmio_base + MMIO.CMD_HEAD);
    const tail = k.readl(iommu.mmio_base + MMIO.CMD_TAIL);
    const nextTail = (tail + 16) % BUFFER.CMD;
    const left = (head - nextTail + BUFFER.CMD) % BUFFER.CMD;
    if (left <= 0x20 && left !== 0) {
      k.mem.write32(iommu.cmd_sem, 0);
      k.mem.write32(iommu.cmd_sem + 4, 0);
      copy_cmd_to_buffer(k, iommu, build_completion_wait(k.__sme_set(iommu.cmd_sem)), tail);
      if (!wait_on_sem(k, iommu, stats)) return false;
      continue;
    }
    copy_cmd_to_buffer(k, iommu, cmd, tail);
    stats.queued++;
    iommu.need_sync = sync;
    return true;
  }
  return false;
}

/** iommu_completion_wait(): queue a COMPLETION_WAIT and wait for it (if anything is pending). */
export function iommu_completion_wait(k: Kernel, iommu: AmdIommuDev, stats: CmdStats): boolean {
  if (!iommu.need_sync) return true;
  k.mem.write32(iommu.cmd_sem, 0);
  k.mem.write32(iommu.cmd_sem + 4, 0);
  if (
    !iommu_queue_command(k, iommu, build_completion_wait(k.__sme_set(iommu.cmd_sem)), stats, false)
  ) {
    return false;
  }
  return wait_on_sem(k, iommu, stats);
}
