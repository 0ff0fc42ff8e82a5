/**
 * A sandbox host: the subprocess in which users' plugin files are loaded and run (see
 * sandbox.ts for the design). It reads JSON lines on stdin — first `{nonce, entry}`, then the
 * messages of a batch or matrix worker, or a plugin listing — and answers with JSON lines on
 * stdout marked with the nonce (anything else users' code prints is passed on as output).
 *
 * Before any users' code loads it:
 * - installs the frame sink (the running plugin and hook, in a SharedArrayBuffer its watchdog
 *   Worker reports to the parent);
 * - makes `Deno.exit`, `close` and `process.exit` throw (users' code may not end the process:
 *   the throw is attributed to the plugin like any error); its `unload` handler reports the
 *   frame should the process end some other way;
 * - freezes the JavaScript built-ins' prototypes and the classes of kdump-lab's modules
 *   (runtime/hw, kernel, plugin, lab), so users' code cannot change how the model or its
 *   instrumentation works by patching a prototype.
 *
 * @module
 */
import process from "node:process";
import { setFrameSink } from "../plugin/runner.ts";
import { currentFrame } from "../plugin/mod.ts";

const MARK = "\x1e";
const encoder = new TextEncoder();
const realExit = Deno.exit.bind(Deno);

/** Writes all of `bytes` to a stream (a large message takes several writes). */
function writeAll(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += stream.writeSync(bytes.subarray(at));
}

/** The lines of stdin, one at a time. */
async function* lines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of Deno.stdin.readable) {
    buf += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
}

const input = lines();
const first = await input.next();
if (first.done) realExit(0);
const { nonce, entry } = JSON.parse(first.value as string) as { nonce: string; entry: string };
const prefix = MARK + nonce;

/** Sends a message to the parent. */
function post(message: unknown): void {
  writeAll(Deno.stdout, encoder.encode(`${prefix}${JSON.stringify(message)}\n`));
}

// ---- the running frame ------------------------------------------------------------------------

const names = new Map<string, number>();
const frameWord = new Int32Array(new SharedArrayBuffer(4));

function nameIndex(name: string): number {
  let i = names.get(name);
  if (i === undefined) {
    i = names.size;
    names.set(name, i);
    const text = name.replace(/[\r\n]/g, " ");
    writeAll(Deno.stderr, encoder.encode(`${prefix}N${i} ${text}\n`));
  }
  return i;
}

setFrameSink((plugin, hook) => {
  const word = plugin === undefined
    ? 0
    : ((nameIndex(plugin) + 1) << 16) | ((nameIndex(hook ?? "") + 1) & 0xffff);
  Atomics.store(frameWord, 0, word);
});

const watchdog = new Worker(new URL("./sandbox-watchdog.ts", import.meta.url), {
  type: "module",
});
watchdog.postMessage({ frame: frameWord.buffer, prefix });

// ---- users' code may not end the process ---------------------------------------------------

function refuseExit(how: string) {
  return (code?: number) => {
    throw new Error(
      `called ${how}(${code ?? ""}): users' code may not end the process (kdump-lab's sandbox)`,
    );
  };
}
for (
  const [target, key, how] of [
    [Deno, "exit", "Deno.exit"],
    [globalThis, "close", "close"],
    [process, "exit", "process.exit"],
    [process, "reallyExit", "process.reallyExit"],
    [process, "abort", "process.abort"],
  ] as const
) {
  try {
    Object.defineProperty(target, key, {
      value: refuseExit(how),
      writable: false,
      configurable: false,
    });
  } catch { /* not there */ }
}

// Deno's internals (raw ops: an exit that skips `unload`, among others) are not for users' code.
try {
  const internal = (Deno as unknown as { internal: symbol }).internal;
  Object.defineProperty(Deno, internal, { value: undefined, writable: false, configurable: false });
} catch { /* not there */ }

let finishing = false;
globalThis.addEventListener("unload", () => {
  if (finishing) return;
  const frame = currentFrame();
  const where = frame.plugin
    ? `plugin ${frame.plugin}${frame.hook ? ` at ${frame.hook}` : ""}`
    : "users' code";
  post({
    type: "exit",
    fault: {
      kind: "exit",
      ...frame,
      message: `${where} ended the process: users' code may not end the process`,
    },
  });
});

// ---- the handler, then the freeze ------------------------------------------------------------

type Serve = (msg: never) => Promise<void>;
let serve: Serve;
if (entry === "batch") {
  serve = (await import("./batch-worker.ts")).serveBatch(post) as Serve;
} else if (entry === "matrix") {
  serve = (await import("./matrix-worker.ts")).serveMatrix(post) as Serve;
} else if (entry === "describe") {
  serve = (await import("./sandbox-describe.ts")).serveDescribe(post) as Serve;
} else throw new Error(`sandbox host: unknown entry ${entry}`);

await freezeRuntime();
freezeBuiltins();

for await (const line of input) {
  if (!line) continue;
  await serve(JSON.parse(line) as never);
}
finishing = true;
watchdog.terminate();
realExit(0);

/**
 * Freezes the classes (and their prototypes) every module of runtime/hw, kernel, plugin and lab
 * exports, loading them all first.
 */
async function freezeRuntime(): Promise<void> {
  const root = new URL("../", import.meta.url);
  for (const layer of ["hw", "kernel", "plugin", "lab"]) {
    for (const url of await modules(new URL(`${layer}/`, root))) {
      const mod = await import(url.href) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (typeof value !== "function") continue;
        if (value.prototype) Object.freeze(value.prototype);
        Object.freeze(value);
      }
    }
  }
}

/** The modules under `dir` (recursively), without entry points that do things when loaded. */
async function modules(dir: URL): Promise<URL[]> {
  const out: URL[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await modules(new URL(`${e.name}/`, dir)));
    else if (e.name.endsWith(".ts") && !/worker|sandbox-(host|watchdog)/.test(e.name)) {
      out.push(new URL(e.name, dir));
    }
  }
  return out.sort((a, b) => a.href.localeCompare(b.href));
}

/**
 * Freezes the prototypes of JavaScript's built-ins the model and its instrumentation use
 * (arrays, maps, sets, typed arrays, strings, numbers, JSON …), so users' code cannot change
 * how the lab counts and reports.
 */
function freezeBuiltins(): void {
  const typed = Object.getPrototypeOf(Uint8Array);
  const list: unknown[] = [
    Object.prototype,
    Array.prototype,
    Function.prototype,
    Map.prototype,
    Set.prototype,
    WeakMap.prototype,
    WeakSet.prototype,
    Promise.prototype,
    String.prototype,
    Number.prototype,
    Boolean.prototype,
    Symbol.prototype,
    RegExp.prototype,
    Date.prototype,
    ArrayBuffer.prototype,
    SharedArrayBuffer.prototype,
    DataView.prototype,
    typed,
    typed.prototype,
    Uint8Array.prototype,
    Uint16Array.prototype,
    Uint32Array.prototype,
    Int8Array.prototype,
    Int16Array.prototype,
    Int32Array.prototype,
    Float32Array.prototype,
    Float64Array.prototype,
    BigInt64Array.prototype,
    BigUint64Array.prototype,
    Uint8ClampedArray.prototype,
    TextEncoder.prototype,
    TextDecoder.prototype,
    JSON,
    Math,
    Reflect,
    Atomics,
    Object,
    Array,
    Map,
    Set,
    Number,
    String,
    Promise,
  ];
  for (const o of list) Object.freeze(o);
}
