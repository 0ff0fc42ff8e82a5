/**
 * The context fields each kernel hook point declares (`fields`, shown by `kdump-lab hooks`)
 * are the fields the kernel model passes: a plugin tapping every point records the keys of
 * each context it gets. The declarations are checked against the context types at compile
 * time; the @ts-expect-error lines below show that a wrong type name, a missing field and an
 * extra field are refused.
 */
import assert from "node:assert/strict";
import {
  type CtxFields,
  HOOK_POINTS,
  type InitIommuOneCtx,
  type SetDteCtx,
} from "../../runtime/kernel/hooks.ts";
import { definePlugin, type Hooks } from "../../runtime/plugin/mod.ts";
import { seriesFromSpec } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";

// @ts-expect-error the type name must be the field's type
const _wrongType: CtxFields<InitIommuOneCtx> = { iommu: { type: "PciDev", doc: "x" } };
// @ts-expect-error every field must be described
const _missing: CtxFields<SetDteCtx> = { devid: { type: "number", doc: "x" } };
const _extra: CtxFields<InitIommuOneCtx> = {
  iommu: { type: "AmdIommuDev", doc: "x" },
  // @ts-expect-error no field that the context does not have
  nope: { type: "number", doc: "x" },
};
void [_wrongType, _missing, _extra];

/** Members every handler's ctx gets from the plugin runtime, not from the hook point. */
const RUNTIME_KEYS = new Set(["k", "plugin", "state", "symbol", "hooks"]);

Deno.test("hook points: the declared context fields are the keys the kernel passes", () => {
  const seen = new Map<string, Set<string>>();
  const record = (name: string, ctx: object) => {
    const keys = Object.keys(ctx).filter((k) => !RUNTIME_KEYS.has(k));
    const had = seen.get(name) ?? new Set();
    for (const k of keys) had.add(k);
    seen.set(name, had);
  };
  const hooks: Record<string, (...a: never[]) => unknown> = {};
  for (const [name, p] of Object.entries(HOOK_POINTS)) {
    hooks[name] = p.kind === "wrap"
      ? ((ctx: object, next: () => unknown) => (record(name, ctx), next())) as never
      : p.kind === "waterfall"
      ? ((v: unknown, ctx: object) => (record(name, ctx), v)) as never
      : p.kind === "bail"
      ? ((ctx: object) => void record(name, ctx)) as never
      : ((ctx: object) => record(name, ctx)) as never;
  }
  const spy = definePlugin({
    id: "ctx-spy",
    title: "records hook contexts",
    hooks: hooks as Hooks<undefined>,
  });
  for (const sc of Object.values(SCENARIOS)) {
    for (const spec of ["none", "all", "all,bnx2-no-kdump-wait"]) {
      run(sc, { series: seriesFromSpec(spec, [spy]).insert(spy) });
    }
  }
  for (const [name, p] of Object.entries(HOOK_POINTS)) {
    assert.ok(seen.has(name), `${name} was never called`);
    assert.ok(p.fields, `${name} declares its fields`);
    assert.deepEqual([...seen.get(name)!].sort(), Object.keys(p.fields!).sort(), name);
  }
});
