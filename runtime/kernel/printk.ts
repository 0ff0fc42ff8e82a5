/**
 * The kernel log (dmesg): lines with simulated timestamps and printk levels, rendered the
 * way a console shows them: `[    1.234567] text`.
 *
 * @module
 */

/** printk levels (KERN_EMERG = 0 … KERN_DEBUG = 7). */
export const LOGLEVEL = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const;

/** A level name. */
export type LogLevel = keyof typeof LOGLEVEL;

/** One dmesg record. */
export interface LogLine {
  /** Simulated time since this kernel started, ns. */
  time: number;
  /** Its printk level. */
  level: LogLevel;
  /** The message, without timestamp or level. */
  text: string;
}

/** `[%5lu.%06lu]` of a time in ns, as the console prints it. */
export function timestamp(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1_000_000);
  return `[${String(s).padStart(5, " ")}.${String(us % 1_000_000).padStart(6, "0")}]`;
}

/**
 * A per-object ratelimit state (struct ratelimit_state with the default 5 s / 10 burst),
 * as dev_err_ratelimited and amd_iommu_report_page_fault's per-device limit use.
 */
export class RateLimit {
  private start = -Infinity;
  private count = 0;
  /** Messages refused so far (over the burst within an interval). */
  missed = 0;

  /** At most `burst` messages per `intervalNs` ns (default 10 per 5 s). */
  constructor(readonly intervalNs = 5_000_000_000, readonly burst = 10) {}

  /** __ratelimit(): true if this message may be printed at time `t`. */
  allow(t: number): boolean {
    if (t - this.start >= this.intervalNs) {
      this.start = t;
      this.count = 0;
    }
    if (this.count >= this.burst) {
      this.missed++;
      return false;
    }
    this.count++;
    return true;
  }
}

/** The kernel log of one kernel. */
export class Dmesg {
  /** Every line printed, in order. */
  readonly lines: LogLine[] = [];
  /** printk_ratelimit()'s state (the kernel defaults: 10 per 5 s). */
  private readonly rs = new RateLimit();

  /** An empty log; `now` gives the timestamp of each line (ns since the kernel started). */
  constructor(private readonly now: () => number) {}

  /** printk at `level`. */
  printk(level: LogLevel, text: string): void {
    this.lines.push({ time: this.now(), level, text });
  }

  /** Lines dropped by printk_ratelimit. */
  get suppressed(): number {
    return this.rs.missed;
  }

  /** printk_ratelimit(): false (and the drop counted) when the limit is hit. */
  ratelimit(): boolean {
    return this.rs.allow(this.now());
  }

  /** The log as a console shows it. */
  render(): string {
    return this.lines.map((l) => `${timestamp(l.time)} ${l.text}`).join("\n");
  }
}
