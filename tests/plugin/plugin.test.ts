/**
 * definePlugin validates a manifest with zod and refuses a bad one with a ManifestError that
 * names the plugin and the field at fault; a minimal manifest is accepted with defaults.
 */
import assert from "node:assert/strict";
import {
  definePlugin,
  isPlugin,
  ManifestError,
  type PluginManifest,
} from "../../runtime/plugin/mod.ts";

/** Defines `m` and returns the ManifestError it must throw. */
function refused(m: unknown): ManifestError {
  try {
    definePlugin(m as PluginManifest);
  } catch (e) {
    assert.ok(e instanceof ManifestError, `a ManifestError, got ${e}`);
    return e;
  }
  assert.fail(`manifest accepted: ${JSON.stringify(m)}`);
}

Deno.test("a minimal manifest is accepted, with empty defaults and the plugin mark", () => {
  const p = definePlugin({ id: "my-fix-2", title: "iommu/amd: my fix" });
  assert.equal(p.id, "my-fix-2");
  assert.equal(p.title, "iommu/amd: my fix");
  assert.deepEqual(p.requires, []);
  assert.deepEqual(p.before, []);
  assert.deepEqual(p.after, []);
  assert.deepEqual(p.provides, {});
  assert.deepEqual(p.defines, {});
  assert.deepEqual(p.hooks, {});
  assert.equal(p.state, undefined);
  assert.equal(p.kind, "kdump-lab-plugin");
  assert.ok(isPlugin(p));
  assert.ok(!isPlugin({ id: "my-fix-2", title: "not made by definePlugin" }));
  // Recognised by shape (a plugin file may import the runtime by another URL), all of it.
  assert.ok(isPlugin({ ...p }));
  assert.ok(!isPlugin({ ...p, id: undefined }));
  assert.ok(!isPlugin({ ...p, hooks: null }));
  assert.ok(!isPlugin(null));
  // Functions are kept as given (not copied or wrapped).
  const handler = () => {};
  const state = () => ({ n: 0 });
  const full = definePlugin({
    id: "full",
    title: "t",
    requires: ["a"],
    before: ["b"],
    after: ["c"],
    state,
    hooks: { "amd_iommu.init_iommu_one": handler },
  });
  assert.equal(full.hooks["amd_iommu.init_iommu_one"], handler);
  assert.equal(full.state, state);
  assert.deepEqual([full.requires, full.before, full.after], [["a"], ["b"], ["c"]]);
});

Deno.test("bad ids, titles and dependency lists are refused, naming the plugin and the field", () => {
  let e = refused({ id: "Copy_Dev_Tables", title: "t" });
  assert.equal(e.plugin, "Copy_Dev_Tables");
  assert.equal(e.field, "id");
  assert.match(e.problem, /kebab-case/);
  assert.match(e.message, /^plugin Copy_Dev_Tables: id: must be kebab-case/);

  e = refused({ title: "no id at all" });
  assert.equal(e.plugin, "<no id>");
  assert.equal(e.field, "id");

  e = refused({ id: "empty-title", title: "" });
  assert.deepEqual([e.plugin, e.field, e.problem], ["empty-title", "title", "must not be empty"]);

  e = refused({ id: "req-string", title: "t", requires: "detect-pre-enabled" });
  assert.deepEqual([e.plugin, e.field], ["req-string", "requires"]);
  assert.match(e.problem, /expected array/);

  e = refused({ id: "req-number", title: "t", requires: ["detect-pre-enabled", 7] });
  assert.deepEqual([e.plugin, e.field], ["req-number", "requires.1"]);
  assert.match(e.problem, /expected string/);

  e = refused({ id: "after-bad", title: "t", after: ["Not An Id"] });
  assert.deepEqual([e.plugin, e.field], ["after-bad", "after.0"]);
});

Deno.test("a plugin that refers to itself is refused in the field that does it", () => {
  for (const field of ["requires", "before", "after"] as const) {
    const e = refused({ id: "selfish", title: "t", [field]: ["other", "selfish"] });
    assert.deepEqual([e.plugin, e.field], ["selfish", field]);
    assert.equal(e.problem, "a plugin cannot refer to itself");
  }
});

Deno.test("hooks, provides, defines and state are checked: functions, identifiers, dotted names", () => {
  let e = refused({ id: "h", title: "t", hooks: { "amd_iommu.init_iommu_one": "not a fn" } });
  assert.deepEqual(
    [e.plugin, e.field, e.problem],
    ["h", "hooks.amd_iommu.init_iommu_one", "must be a function"],
  );

  e = refused({ id: "p", title: "t", provides: { "copy-device-table": () => () => true } });
  assert.deepEqual(
    [e.plugin, e.field, e.problem],
    ["p", "provides.copy-device-table", "must be a C identifier"],
  );
  e = refused({ id: "p2", title: "t", provides: { copy_device_table: true } });
  assert.deepEqual([e.field, e.problem], ["provides.copy_device_table", "must be a function"]);

  e = refused({
    id: "d",
    title: "t",
    defines: { copy_entry: { kind: "run-all", doc: "d", default413: "" } },
  });
  assert.deepEqual([e.plugin, e.field], ["d", "defines.copy_entry"]);
  assert.match(e.problem, /must be dotted/);
  e = refused({
    id: "d2",
    title: "t",
    defines: { "my.point": { kind: "first-wins", doc: "d", default413: "" } },
  });
  assert.equal(e.field, "defines.my.point.kind");

  e = refused({ id: "s", title: "t", state: { preEnabled: true } });
  assert.deepEqual([e.plugin, e.field, e.problem], ["s", "state", "must be a function"]);
});

Deno.test("an unknown manifest key is refused and named (a typo must not silently drop handlers)", () => {
  const e = refused({ id: "typo", title: "t", hook: { "amd_iommu.init_iommu_one": () => {} } });
  assert.equal(e.plugin, "typo");
  assert.equal(e.field, "hook");
  assert.match(e.problem, /Unrecognized key: "hook"/);
  assert.equal(e.name, "ManifestError");
});
