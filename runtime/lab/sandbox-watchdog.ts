/**
 * The watchdog of a sandbox host (a Worker inside it): every few milliseconds it reads the
 * running frame (plugin and hook, as name indices) the host's main thread keeps in a
 * SharedArrayBuffer and, when it changed, writes it to stderr for the parent. It runs on its
 * own thread, so the parent learns the frame even when the main thread is stuck in users'
 * code or about to die of OOM.
 *
 * @module
 */

/** What the host sends: the shared frame word and the line prefix (mark and nonce). */
interface Start {
  frame: SharedArrayBuffer;
  prefix: string;
}

const POLL_MS = 5;

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Start>) => void) | null;
};

scope.onmessage = (e) => {
  const word = new Int32Array(e.data.frame);
  const encoder = new TextEncoder();
  let last = 0;
  setInterval(() => {
    const now = Atomics.load(word, 0);
    if (now === last) return;
    last = now;
    const line = `${e.data.prefix}F${now >>> 16} ${now & 0xffff}\n`;
    try {
      Deno.stderr.writeSync(encoder.encode(line));
    } catch { /* the parent is gone */ }
  }, POLL_MS);
};
