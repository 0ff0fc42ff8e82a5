/** Progress of long work when stderr is not a terminal: a plain line at every tenth. */
import assert from "node:assert/strict";
import { start } from "../../runtime/cli/progress.ts";

Deno.test("plain progress: one line per tenth of the work, then nothing after stop", () => {
  const lines: string[] = [];
  const p = start(4096, "matrix", { tty: false, write: (l) => lines.push(l) });
  for (let i = 0; i < 4096; i++) p.tick();
  p.stop();
  p.tick(5);
  assert.equal(lines.length, 10);
  assert.equal(lines[0], "matrix: 410/4096 runs");
  assert.equal(lines[4], "matrix: 2048/4096 runs");
  assert.equal(lines[9], "matrix: 4096/4096 runs");
});

Deno.test("plain progress: big ticks report once, a unit can be named, quiet shows nothing", () => {
  const lines: string[] = [];
  const p = start(20, "minimize", { tty: false, unit: "steps", write: (l) => lines.push(l) });
  p.tick(7);
  p.tick(13);
  assert.deepEqual(lines, ["minimize: 7/20 steps", "minimize: 20/20 steps"]);
  const none: string[] = [];
  const q = start(20, "matrix", { tty: false, quiet: true, write: (l) => none.push(l) });
  q.tick(20);
  q.stop();
  assert.deepEqual(none, []);
});

Deno.test("progress: setTotal re-bases the plain lines (work known only by a bound, like ddmin)", () => {
  const lines: string[] = [];
  const p = start(100, "minimize", { tty: false, unit: "tests", write: (l) => lines.push(l) });
  p.tick(5);
  p.setTotal(10);
  p.tick(5);
  p.stop();
  assert.deepEqual(lines, ["minimize: 10/10 tests"]);
});
