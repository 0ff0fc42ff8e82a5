/**
 * The sandbox for users' code. Plugin files (`--plugin`, `--replace`) run in a Deno subprocess
 * — a sandbox host, `sandbox-host.ts` — that may read only the kdump-lab sources and the
 * users' files it was given (no write, net, env, run, ffi or sys permission unless the user
 * grants it), with its V8 heap capped; this process speaks to it with JSON lines, the way a
 * pool speaks to its Workers ({@link SandboxWorker} has a Worker's shape, so the batch and
 * matrix pools use one in place of a Worker).
 *
 * Limits, and how a run that breaks them is attributed:
 * - wall clock: every message that asks for work (the config, a run) must be answered within
 *   the limit, else the host and its process group are killed;
 * - memory: V8's old space is capped (`--max-old-space-size`), and the host's resident memory
 *   is watched (typed arrays live outside V8's heap); past the cap it is killed too;
 * - the host reports which plugin's code runs: the hook runner reports every handler's entry
 *   and exit to a frame sink (an Atomics store into a SharedArrayBuffer), and a watchdog
 *   Worker inside the host writes the frame to stderr whenever it changed (every few ms) — so
 *   the last frame is known here even when the host is stuck in a loop or dies of OOM;
 * - `Deno.exit` (and `close`) inside users' code throws instead (an attributed plugin
 *   error); should the host end by another path, its `unload` handler reports the frame.
 *
 * The outcome of a broken limit is a {@link SandboxFault}, which the pools turn into the run's
 * report: verdict `plugin-timeout` or `plugin-oom` (or `plugin-error` for an exit), naming the
 * plugin and the hook when a plugin's code was running.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { EVENT_NAMES } from "../hw/layouts/event.ts";
import { type Report, ReportSchema, type Verdict } from "./report.ts";

/** Deno permissions users' code can be granted (`--allow-plugin-perms`). */
export const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys"] as const;

/** A Deno permission users' code can be granted. */
export type Permission = (typeof PERMISSIONS)[number];

/** The limits users' code runs under. Plain data (it travels in configs). */
export interface SandboxLimits {
  /** Wall-clock seconds one run (or loading the plugin files) may take. */
  timeoutS: number;
  /** The memory cap in MiB: V8's heap, and (+ the runtime's own) the resident memory. */
  maxMemoryMb: number;
  /** Permissions granted beyond reading the users' own files. */
  allow: Permission[];
}

/** The defaults: 60 s a run, 2048 MiB, no permission beyond reading the users' own files. */
export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutS: 60,
  maxMemoryMb: 2048,
  allow: [],
});

/** Resident memory the Deno runtime itself takes, allowed on top of the heap cap. */
const RUNTIME_MB = 512;

/** How often the host's resident memory is looked at. */
const RSS_POLL_MS = 100;

/** The kdump-lab checkout: what every sandbox may read (its modules). */
export const PROJECT_ROOT: string = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** What ended a sandboxed run before it answered. */
export interface SandboxFault {
  /** Which limit broke: the wall-clock limit, the memory cap, or users' code ended the host. */
  kind: "timeout" | "oom" | "exit";
  /** The plugin whose code was running (undefined: none was). */
  plugin?: string;
  /** The hook point (or `symbol X`, `state()`, `module load`) it was running at. */
  hook?: string;
  /** One line: what happened. */
  message: string;
}

/**
 * The `deno run` arguments of a sandbox: permissions and V8 flags.
 *
 * @param files the users' files it may read (absolute paths)
 */
export function sandboxArgs(files: readonly string[], limits: SandboxLimits): string[] {
  const allow = new Set(limits.allow);
  const args = ["--no-prompt", `--v8-flags=--max-old-space-size=${limits.maxMemoryMb}`];
  args.push(
    allow.has("read") ? "--allow-read" : `--allow-read=${[PROJECT_ROOT, ...files].join(",")}`,
  );
  for (const p of PERMISSIONS) if (p !== "read" && allow.has(p)) args.push(`--allow-${p}`);
  return args;
}

// ---- live subprocesses: killed with their process group when this process ends -----------------

const live = new Set<Deno.ChildProcess>();
let listening = false;

function killGroup(child: Deno.ChildProcess): void {
  for (const target of [-child.pid, child.pid]) {
    try {
      Deno.kill(target, "SIGKILL");
      return;
    } catch { /* already gone, or no group */ }
  }
}

function killAll(): void {
  for (const c of live) killGroup(c);
  live.clear();
}

const onSigint = () => Deno.exit(130);
const onSigterm = () => Deno.exit(143);

/**
 * Keeps `child` (spawned `detached`: its own process group) on the list of subprocesses that
 * are killed, group and all, when this process ends — by its own exit, Ctrl-C (SIGINT) or
 * SIGTERM.
 */
export function track(child: Deno.ChildProcess): void {
  live.add(child);
  if (!listening) {
    listening = true;
    globalThis.addEventListener("unload", killAll);
    try {
      Deno.addSignalListener("SIGINT", onSigint);
      Deno.addSignalListener("SIGTERM", onSigterm);
    } catch { /* no signals here */ }
  }
  child.status.finally(() => untrack(child));
}

/** Takes `child` off the list (it ended), and stops listening when the list is empty. */
function untrack(child: Deno.ChildProcess): void {
  live.delete(child);
  if (live.size || !listening) return;
  listening = false;
  globalThis.removeEventListener("unload", killAll);
  try {
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
  } catch { /* no signals here */ }
}

/** Kills `child` and its process group now. */
export function kill(child: Deno.ChildProcess): void {
  killGroup(child);
}

/** Resident memory of a process in MiB (Linux; undefined elsewhere or once it is gone). */
export function residentMb(pid: number): number | undefined {
  try {
    const pages = Number(Deno.readTextFileSync(`/proc/${pid}/statm`).split(" ")[1]);
    return Number.isFinite(pages) ? (pages * 4096) / 2 ** 20 : undefined;
  } catch {
    return undefined;
  }
}

// ---- the Worker-shaped sandbox ----------------------------------------------------------------------

/** What a sandbox host runs: the message handler of a batch, a matrix, or a plugin listing. */
export type SandboxEntry = "batch" | "matrix" | "describe";

/** A message a {@link SandboxWorker} delivers when its host broke a limit (then it is dead). */
export interface FaultMessage {
  type: "fault";
  fault: SandboxFault;
}

/** The variables Deno needs to find its cache (npm packages), as this process has them. */
function cacheEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "PATH"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/** What V8 prints when it dies of OOM (kept out of the user's stderr; the fault says it). */
const V8_NOISE =
  /^\[\d+:0x[0-9a-f]+\]|^\s+\S*deno\(|^<---|^#|^====|^\s*$|Fatal JavaScript|Security context/;

/** Marks the host's lines on its stdout and stderr (then a nonce only this process knows). */
const MARK = "\x1e";

/** Options of a {@link SandboxWorker}. */
export interface SandboxWorkerOptions {
  /** The users' files the host may read (plugin files, absolute paths). */
  files: readonly string[];
  limits: SandboxLimits;
}

/**
 * A sandbox host with a Worker's shape: `postMessage` sends it a message, `onmessage` gets its
 * answers, `terminate` kills it. When it breaks a limit or ends unasked, `onmessage` gets one
 * {@link FaultMessage} and the host is gone (start a new one for more work).
 */
export class SandboxWorker {
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  private readonly child: Deno.ChildProcess;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly nonce = crypto.randomUUID();
  private readonly names = new Map<number, string>();
  private frame: { plugin?: string; hook?: string } = {};
  private timer?: ReturnType<typeof setTimeout>;
  private rssTimer?: ReturnType<typeof setInterval>;
  private done = false;
  private faulted?: SandboxFault;
  private stderrTail = "";
  private readonly limits: SandboxLimits;

  constructor(entry: SandboxEntry, opts: SandboxWorkerOptions) {
    this.limits = opts.limits;
    const host = fileURLToPath(new URL("./sandbox-host.ts", import.meta.url));
    this.child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        `--config=${PROJECT_ROOT}/deno.json`,
        ...sandboxArgs(opts.files, opts.limits),
        host,
      ],
      // The user's directory: relative plugin paths in the recipe resolve as they would here.
      cwd: Deno.cwd(),
      // Without --allow-plugin-perms env the host's environment is only what Deno needs.
      clearEnv: !opts.limits.allow.includes("env"),
      env: cacheEnv(),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
    track(this.child);
    this.writer = this.child.stdin.getWriter();
    this.send({ nonce: this.nonce, entry });
    this.readLines(this.child.stdout, (line) => this.fromStdout(line));
    this.readLines(this.child.stderr, (line) => this.fromStderr(line));
    this.child.status.then((s) => this.ended(s));
    this.rssTimer = setInterval(() => this.checkMemory(), RSS_POLL_MS);
  }

  /** Sends a message; its answer is due within the time limit. */
  postMessage(message: unknown): void {
    if (this.done) return;
    this.send(message);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fault("timeout"), this.limits.timeoutS * 1000);
  }

  /**
   * Sends a message that gets no answer (a matrix worker's "learn"): the time limit of the
   * message being answered goes on running, so telling a host things never buys its runaway
   * plugin more time.
   */
  tell(message: unknown): void {
    if (!this.done) this.send(message);
  }

  /** Kills the host (and anything it started). */
  terminate(): void {
    this.finish();
    kill(this.child);
  }

  private send(message: unknown): void {
    this.writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n")).catch(() => {});
  }

  private finish(): void {
    this.done = true;
    clearTimeout(this.timer);
    clearInterval(this.rssTimer);
    this.writer.close().catch(() => {});
  }

  private async readLines(stream: ReadableStream<Uint8Array>, onLine: (l: string) => void) {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of stream) {
        buf += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      }
    } catch { /* the host is gone */ }
    if (buf) onLine(buf);
  }

  /** Splits a line into what users' code printed (passed on to stderr) and the host's part. */
  private split(line: string): string | undefined {
    const at = line.indexOf(MARK + this.nonce);
    const printed = at < 0 ? line : line.slice(0, at);
    if (printed) Deno.stderr.writeSync(new TextEncoder().encode(printed + "\n"));
    return at < 0 ? undefined : line.slice(at + MARK.length + this.nonce.length);
  }

  private fromStdout(line: string): void {
    const body = this.split(line);
    if (body === undefined || this.done) return;
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      this.onmessageerror?.();
      return;
    }
    const m = message as { type?: string; fault?: SandboxFault };
    if (m.type === "exit") return this.fault("exit", m.fault);
    clearTimeout(this.timer);
    this.onmessage?.({ data: message } as MessageEvent);
  }

  private fromStderr(line: string): void {
    const at = line.indexOf(MARK + this.nonce);
    if (at < 0) {
      this.stderrTail = (this.stderrTail + line + "\n").slice(-4000);
      if (!V8_NOISE.test(line)) {
        Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
      }
      return;
    }
    const printed = line.slice(0, at);
    if (printed) Deno.stderr.writeSync(new TextEncoder().encode(printed + "\n"));
    const body = line.slice(at + MARK.length + this.nonce.length);
    if (body.startsWith("N")) {
      const sp = body.indexOf(" ");
      this.names.set(Number(body.slice(1, sp)), body.slice(sp + 1));
    } else if (body.startsWith("F")) {
      const [p, h] = body.slice(1).split(" ").map(Number);
      this.frame = p ? { plugin: this.names.get(p - 1), hook: this.names.get(h - 1) } : {};
    }
  }

  private checkMemory(): void {
    const mb = residentMb(this.child.pid);
    if (mb !== undefined && mb > this.limits.maxMemoryMb + RUNTIME_MB) this.fault("oom");
  }

  private ended(s: Deno.CommandStatus): void {
    if (this.done) return;
    const oom = /out of memory|heap limit|allocation failed/i.test(this.stderrTail) ||
      s.signal === "SIGTRAP" || s.signal === "SIGABRT";
    if (oom) return this.fault("oom");
    // An exit the host did not report: the watchdog's last frame may be some milliseconds
    // old, so no plugin is named.
    this.fault("exit", {
      kind: "exit",
      message: `users' code ended the sandbox host (exit code ${s.code}${
        s.signal ? `, ${s.signal}` : ""
      }): users' code may not end the process`,
    });
  }

  /** Ends the host and delivers the fault. */
  private fault(kind: SandboxFault["kind"], reported?: SandboxFault): void {
    if (this.done) return;
    this.terminate();
    const frame = reported ?? this.frame;
    const where = frame.plugin
      ? `plugin ${frame.plugin}${frame.hook ? ` at ${frame.hook}` : ""}`
      : "the run (no plugin's code was running)";
    const message = kind === "timeout"
      ? `${where} did not finish within ${this.limits.timeoutS} s (--timeout)`
      : kind === "oom"
      ? `${where} went over the memory cap of ${this.limits.maxMemoryMb} MiB (--max-memory)`
      : reported?.message ?? `${where} ended the process`;
    this.faulted = { kind, plugin: frame.plugin, hook: frame.hook, message };
    const m: FaultMessage = { type: "fault", fault: this.faulted };
    this.onmessage?.({ data: m } as MessageEvent);
  }
}

/** The verdict of a fault: `plugin-timeout`, `plugin-oom`, or `plugin-error` (an exit). */
export function faultVerdict(fault: SandboxFault): Verdict {
  return fault.kind === "timeout"
    ? "plugin-timeout"
    : fault.kind === "oom"
    ? "plugin-oom"
    : "plugin-error";
}

/**
 * The report of a run a fault ended: nothing of the simulation survived, so it has the run's
 * identity (scenario, seed, series), the verdict, the cause and the plugin and hook that ran.
 */
export function faultReport(
  base: { scenario: string; seed: number; series: string[] },
  fault: SandboxFault,
): Report {
  return ReportSchema.parse({
    ...base,
    verdict: faultVerdict(fault),
    cause: fault.message,
    missing: [],
    ...(fault.plugin
      ? { pluginError: { plugin: fault.plugin, hook: fault.hook ?? "", message: fault.message } }
      : {}),
    events: Object.fromEntries(EVENT_NAMES.map((n) => [n, 0])),
    eventsDropped: 0,
    faultsSuppressed: 0,
    faultsPrinted: 0,
    strayWrites: [],
    strayWriteCount: 0,
    dmesg: [],
    timeline: [],
    timing: {},
    stats: {},
  });
}
