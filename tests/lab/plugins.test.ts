/**
 * runtime/lab/plugins.ts: series specs (`all`, `none`, comma lists), the series a user builds
 * with replace / add / order / disable, and loading users' plugin files — every mistake an
 * InputError with one line that names what was wrong.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import {
  buildSeries,
  builtinPlugins,
  driverIds,
  laterIds,
  loadPluginFile,
  patchIds,
  seriesFromSpec,
  seriesIds,
  sourceOf,
} from "../../runtime/lab/plugins.ts";
import { definePlugin, type Plugin } from "../../runtime/plugin/mod.ts";
import { LATER, SERIES } from "../cli/lab-kit.ts";
import { inputError } from "./input-kit.ts";

/** The absolute file URL of the plugin runtime, as a user's plugin file imports it. */
const RUNTIME = new URL("../../runtime/plugin/mod.ts", import.meta.url).href;

/** A user plugin made in-process. */
const userPlugin = (id: string, extra: Partial<Parameters<typeof definePlugin>[0]> = {}) =>
  definePlugin({ id, title: `user plugin ${id}`, ...extra }) as Plugin;

/** Writes `text` to a fresh .ts file; returns its path. */
async function tempModule(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "kdump-lab-plugin-", suffix: ".ts" });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("builtinPlugins / seriesIds / laterIds / driverIds: the twelve in order, the later fixes, then bnx2-no-kdump-wait", () => {
  assert.deepEqual(seriesIds(), SERIES);
  assert.deepEqual(laterIds(), LATER);
  assert.deepEqual(patchIds(), [...SERIES, ...LATER]);
  assert.deepEqual(driverIds(), ["bnx2-no-kdump-wait"]);
  assert.deepEqual([...builtinPlugins().keys()], [...SERIES, ...LATER, "bnx2-no-kdump-wait"]);
});

Deno.test("seriesFromSpec: later names the later fixes, in upstream order; all,later is the series and them", () => {
  assert.deepEqual(seriesFromSpec("later").ids(), LATER);
  assert.deepEqual(seriesFromSpec("all,later").ids(), [...SERIES, ...LATER]);
  assert.deepEqual(seriesFromSpec("later,all").ids(), [...LATER, ...SERIES]);
  assert.throws(() => seriesFromSpec("later,flush-old-domains"), /named twice/);
});

Deno.test("seriesFromSpec: none, all, all inside a list, user plugins by id", () => {
  assert.deepEqual(seriesFromSpec("none").ids(), []);
  assert.deepEqual(seriesFromSpec("").ids(), []);
  assert.deepEqual(seriesFromSpec("all").ids(), SERIES);
  assert.deepEqual(seriesFromSpec("all,bnx2-no-kdump-wait").ids(), [
    ...SERIES,
    "bnx2-no-kdump-wait",
  ]);
  assert.deepEqual(seriesFromSpec("bnx2-no-kdump-wait, all").ids(), [
    "bnx2-no-kdump-wait",
    ...SERIES,
  ]);
  assert.deepEqual(
    seriesFromSpec("detect-pre-enabled,all").ids(),
    SERIES,
    "all adds only what is not named yet",
  );
  assert.deepEqual(seriesFromSpec("copy-dev-tables,none,detect-pre-enabled").ids(), [
    "copy-dev-tables",
    "detect-pre-enabled",
  ]);
  const mine = userPlugin("mine");
  assert.deepEqual(seriesFromSpec("mine,dte-bit-fields", [mine]).ids(), ["mine", "dte-bit-fields"]);
});

Deno.test("seriesFromSpec: unknown ids list the known ones; repeats are refused", async () => {
  assert.equal(
    await inputError(() => seriesFromSpec("all,bnx2-no-kdump-wiat")),
    `unknown plugin "bnx2-no-kdump-wiat" (known: ${
      [...SERIES, ...LATER, "bnx2-no-kdump-wait"].join(", ")
    })`,
  );
  assert.equal(
    await inputError(() => seriesFromSpec("bnx2-no-kdump-wait,bnx2-no-kdump-wait")),
    'plugin "bnx2-no-kdump-wait" named twice',
  );
  assert.match(
    await inputError(() => seriesFromSpec("all", [userPlugin("copy-dev-tables")])),
    /^an added plugin: id "copy-dev-tables" is already taken/,
  );
});

Deno.test("buildSeries: disable leaves a plugin out; its dependants show as missing", () => {
  const s = buildSeries({ spec: "all", disable: ["helper-functions"] });
  assert.deepEqual(s.ids(), SERIES, "disabled plugins stay in the list");
  assert.deepEqual(s.enabledIds(), SERIES.filter((id) => id !== "helper-functions"));
  assert.deepEqual(s.resolve().missing, [
    { plugin: "copy-old-trans-table", requires: "helper-functions" },
  ]);
  assert.deepEqual(buildSeries({}).ids(), [], "the default spec is none");
});

Deno.test("buildSeries: order puts the given ids first, the rest after in theirs", () => {
  const s = buildSeries({
    spec: "all,bnx2-no-kdump-wait",
    order: ["bnx2-no-kdump-wait", "copy-dev-tables"],
  });
  assert.deepEqual(s.resolve().plugins.map((p) => p.id), [
    "bnx2-no-kdump-wait",
    "copy-dev-tables",
    ...SERIES.filter((id) => id !== "copy-dev-tables"),
  ]);
});

Deno.test("buildSeries: added plugins go at the end, or before/after an id", () => {
  const [a, b, c] = ["user-a", "user-b", "user-c"].map((id) => userPlugin(id));
  const s = buildSeries({
    spec: "detect-pre-enabled,helper-functions,dte-bit-fields",
    add: [{ plugin: a }, { plugin: b, before: "helper-functions" }, {
      plugin: c,
      after: "user-a",
    }],
  });
  assert.deepEqual(s.ids(), [
    "detect-pre-enabled",
    "user-b",
    "helper-functions",
    "dte-bit-fields",
    "user-a",
    "user-c",
  ]);
  // Named by the spec: keeps that place; a placement moves it.
  const kept = buildSeries({ spec: "user-a,dte-bit-fields", add: [{ plugin: a }] });
  assert.deepEqual(kept.ids(), ["user-a", "dte-bit-fields"]);
  const moved = buildSeries({
    spec: "user-a,dte-bit-fields",
    add: [{ plugin: a, after: "dte-bit-fields" }],
  });
  assert.deepEqual(moved.ids(), ["dte-bit-fields", "user-a"]);
});

Deno.test("buildSeries: replace keeps the place and the enabled state", () => {
  const mine = userPlugin("my-sanity-check", { requires: ["copy-dev-tables"] });
  const s = buildSeries({ spec: "all", replace: [{ id: "sanity-check-old-dte", plugin: mine }] });
  assert.deepEqual(s.ids(), SERIES.map((id) => id === "sanity-check-old-dte" ? mine.id : id));
  assert.equal(s.get("my-sanity-check"), mine);
  const same = userPlugin("bnx2-no-kdump-wait");
  const t = buildSeries({
    spec: "all,bnx2-no-kdump-wait",
    replace: [{ id: "bnx2-no-kdump-wait", plugin: same }],
  });
  assert.equal(t.get("bnx2-no-kdump-wait"), same, "a file may keep the id it replaces");
  const u = buildSeries({
    spec: "all",
    replace: [{ id: "drop-gcr3-root", plugin: userPlugin("my-gcr3") }],
    disable: ["my-gcr3"],
  });
  assert.equal(u.enabledIds().includes("my-gcr3"), false, "the replacement can be disabled");
});

Deno.test("buildSeries: each mistake is one line naming the id", async () => {
  const known = [...SERIES, ...LATER, "bnx2-no-kdump-wait"].join(", ");
  const cases: [() => unknown, string][] = [
    [
      () => buildSeries({ spec: "all", disable: ["nope"] }),
      `cannot disable "nope": unknown plugin (known: ${known})`,
    ],
    [
      () => buildSeries({ spec: "detect-pre-enabled", disable: ["bnx2-no-kdump-wait"] }),
      'cannot disable "bnx2-no-kdump-wait": it is not in the series (series: detect-pre-enabled)',
    ],
    [
      () => buildSeries({ order: ["copy-dev-tables"] }),
      'cannot order by "copy-dev-tables": it is not in the series (series: none)',
    ],
    [
      () => buildSeries({ spec: "all", order: ["copy-dev-tables", "copy-dev-tables"] }),
      'cannot order by "copy-dev-tables": named twice',
    ],
    [
      () =>
        buildSeries({
          spec: "none",
          replace: [{ id: "copy-dev-tables", plugin: userPlugin("x") }],
        }),
      'cannot replace "copy-dev-tables": it is not in the series (series: none)',
    ],
    [
      () =>
        buildSeries({
          spec: "all",
          add: [{ plugin: userPlugin("x"), before: "bnx2-no-kdump-wait" }],
        }),
      `cannot place "x" next to "bnx2-no-kdump-wait": it is not in the series (series: ${
        SERIES.join(", ")
      })`,
    ],
    [
      () =>
        buildSeries({
          spec: "all",
          add: [{ plugin: userPlugin("x"), before: "copy-dev-tables", after: "dte-bit-fields" }],
        }),
      'plugin "x": give before or after, not both',
    ],
    [
      () =>
        buildSeries({
          add: [
            { plugin: userPlugin("p-one", { before: ["p-two"] }) },
            { plugin: userPlugin("p-two", { before: ["p-one"] }) },
          ],
        }),
      "ordering cycle among p-one, p-two (their before/after hints contradict)",
    ],
  ];
  for (const [fn, message] of cases) assert.equal(await inputError(fn), message);
});

Deno.test("loadPluginFile: a file whose default export is a plugin", async () => {
  const path = await tempModule(`
import { definePlugin } from "${RUNTIME}";
export default definePlugin({
  id: "hello-file",
  title: "say hello",
  requires: ["detect-pre-enabled"],
  hooks: { "amd_iommu.init_iommu_one": ({ k }) => k.pr_info("hello") },
});
`);
  try {
    const p = await loadPluginFile(path);
    assert.equal(p.id, "hello-file");
    assert.deepEqual(p.requires, ["detect-pre-enabled"]);
    assert.equal(typeof p.hooks["amd_iommu.init_iommu_one"], "function");
    assert.equal(sourceOf(p), path);
    const again = await loadPluginFile(relative(Deno.cwd(), path));
    assert.equal(again, p, "a relative path is taken from the current directory");
    assert.equal(sourceOf(builtinPlugins().get("copy-dev-tables")!), undefined);
    assert.deepEqual(
      buildSeries({ spec: "all", add: [{ plugin: p, after: "detect-pre-enabled" }] }).ids()
        .slice(0, 3),
      ["detect-pre-enabled", "hello-file", "helper-functions"],
    );
    assert.match(
      await inputError(() => seriesFromSpec("all", [p, p])),
      new RegExp(`^plugin file ${path}: id "hello-file" is already taken`),
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadPluginFile: missing, unloadable, no plugin, bad manifest: one line each", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-plugins-" });
  const files = {
    noDefault: await tempModule("export const plugin = 1;\n"),
    notPlugin: await tempModule('export default { id: "raw", title: "a bare manifest" };\n'),
    manifest: await tempModule(`
import { definePlugin } from "${RUNTIME}";
export default definePlugin({ id: "bad-manifest", title: "x", hooks: { "amd_iommu.init_iommu_one": 42 } as never });
`),
    throws: await tempModule('throw new Error("exploded while loading");\nexport default 1;\n'),
    syntax: await tempModule("export default definePlugin({ id: \n"),
  };
  try {
    const cases: [string, string | RegExp][] = [
      [`${dir}/gone.ts`, `plugin file ${dir}/gone.ts: not found`],
      [dir, `plugin file ${dir}: not a file`],
      [
        files.noDefault,
        `plugin file ${files.noDefault}: no default export (expected export default definePlugin({…}))`,
      ],
      [
        files.notPlugin,
        `plugin file ${files.notPlugin}: the default export is not a plugin (make it with definePlugin({…}))`,
      ],
      [
        files.manifest,
        `plugin file ${files.manifest}: plugin bad-manifest: field hooks.amd_iommu.init_iommu_one: must be a function`,
      ],
      [files.throws, `plugin file ${files.throws}: cannot load it: exploded while loading`],
      [files.syntax, new RegExp(`^plugin file ${files.syntax}: cannot load it: \\S`)],
    ];
    for (const [path, expected] of cases) {
      const message = await inputError(() => loadPluginFile(path));
      if (typeof expected === "string") assert.equal(message, expected);
      else assert.match(message, expected);
    }
  } finally {
    for (const f of [...Object.values(files), dir]) await Deno.remove(f);
  }
});
