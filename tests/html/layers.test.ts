/**
 * runtime/html is a layer between the CLI and the lab: it imports the lab (and its own
 * modules), never the CLI; nothing below it — lab, plugin, kernel, hw, plugins — imports it.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* sources(p);
    else if (e.isFile && p.endsWith(".ts")) yield p;
  }
}

/** The repository paths a file imports by relative specifier. */
function imports(file: string): string[] {
  const text = Deno.readTextFileSync(file);
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)]
    .map((m) => relative(ROOT, join(file, "..", m[1])));
}

Deno.test("layers: runtime/html imports only itself and runtime/lab", () => {
  const bad: string[] = [];
  let seen = 0;
  for (const f of sources(join(ROOT, "runtime/html"))) {
    for (const i of imports(f)) {
      seen++;
      if (!/^runtime\/(html|lab)\//.test(i)) bad.push(`${relative(ROOT, f)} → ${i}`);
    }
  }
  assert.ok(seen > 10, "the check saw the folder's imports");
  assert.deepEqual(bad, []);
});

Deno.test("layers: nothing below the CLI imports runtime/html", () => {
  const bad: string[] = [];
  for (const dir of ["runtime/lab", "runtime/plugin", "runtime/kernel", "runtime/hw", "plugins"]) {
    for (const f of sources(join(ROOT, dir))) {
      for (const i of imports(f)) if (i.startsWith("runtime/html/")) bad.push(`${f} → ${i}`);
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(
    imports(join(ROOT, "runtime/cli/commands/run.ts")).includes("runtime/html/mod.ts"),
    "the CLI draws its pages with runtime/html",
  );
});
