/**
 * Every third-party import in the sources is a full `npm:` specifier, so a user's script or
 * plugin anywhere can import `mod.ts` by path (no `--config` pointing at this checkout), and
 * each one is exactly the version `deno.json` declares in "imports" (one place says which
 * packages and versions the project depends on).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const declared: Record<string, string> = JSON.parse(
  Deno.readTextFileSync(join(ROOT, "deno.json")),
).imports;

function* sources(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory && !e.name.startsWith(".")) yield* sources(p);
    else if (e.isFile && p.endsWith(".ts")) yield p;
  }
}

Deno.test("imports: third-party modules are imported by their full npm: specifier, as deno.json declares", () => {
  const allowed = new Set(Object.values(declared));
  const specifier = /(?:from|import)\s*\(?\s*"([^"]+)"/g;
  const seen = new Set<string>();
  const bad: string[] = [];
  for (const file of ["mod.ts", "runtime", "plugins", "examples", "tests"]) {
    const paths = file.endsWith(".ts") ? [join(ROOT, file)] : [...sources(join(ROOT, file))];
    for (const p of paths) {
      for (const m of Deno.readTextFileSync(p).matchAll(specifier)) {
        const s = m[1];
        if (/^(\.|\/|node:|\$\{)/.test(s)) continue; // relative, absolute, built-in, or a template
        const base = s.replace(/^(npm:(?:@[^/]+\/)?[^/@]+@[^/]+).*$/, "$1");
        if (!allowed.has(base)) bad.push(`${relative(ROOT, p)}: "${s}"`);
        else seen.add(base);
      }
    }
  }
  assert.deepEqual(bad, [], "bare or undeclared third-party imports");
  // Everything declared is used somewhere (commander comes in as extra-typings' peer).
  const unused = Object.entries(declared).filter(([name, spec]) =>
    !seen.has(spec) && name !== "commander"
  );
  assert.deepEqual(unused, []);
});
