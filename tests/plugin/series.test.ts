/**
 * Series editing by id, resolution with before/after hints (a stable topological order),
 * ordering cycles, unmet dependencies, and copies that do not share edits.
 */
import assert from "node:assert/strict";
import {
  definePlugin,
  hookPoint,
  HookRunner,
  type Plugin,
  type PluginManifest,
  Series,
  SeriesError,
} from "../../runtime/plugin/mod.ts";

const P = (id: string, m: Partial<PluginManifest> = {}): Plugin =>
  definePlugin({ id, title: `plugin ${id}`, ...m });
const ids = (ps: readonly Plugin[]) => ps.map((p) => p.id);
const order = (s: Series) => ids(s.resolve().plugins);

/** Runs `fn`, expects a SeriesError, returns its message. */
function seriesError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SeriesError, `a SeriesError, got ${e}`);
    return e.message;
  }
  assert.fail("no SeriesError");
}

Deno.test("editing by id: enable, disable, only, insert, remove, move, replace, order", () => {
  const s = new Series(["a", "b", "c", "d"].map((id) => P(id)));
  assert.deepEqual(s.ids(), ["a", "b", "c", "d"]);
  assert.deepEqual(s.enabledIds(), ["a", "b", "c", "d"]);

  s.disable("b");
  assert.deepEqual(s.ids(), ["a", "b", "c", "d"], "a disabled plugin stays in the list");
  assert.deepEqual(s.enabledIds(), ["a", "c", "d"]);
  assert.deepEqual(order(s), ["a", "c", "d"], "and is not applied");
  s.enable("b");
  assert.deepEqual(s.enabledIds(), ["a", "b", "c", "d"]);

  s.only(["d", "b"]);
  assert.deepEqual(s.enabledIds(), ["b", "d"], "list order, not the order only() was given");
  s.only(["a", "b", "c", "d"]);

  s.insert(P("x"), { before: "c" }).insert(P("y"), { after: "a" }).insert(P("z"));
  assert.deepEqual(s.ids(), ["a", "y", "b", "x", "c", "d", "z"]);
  s.remove("y").remove("z");
  assert.deepEqual(s.ids(), ["a", "b", "x", "c", "d"]);

  s.move("a", { after: "c" });
  assert.deepEqual(s.ids(), ["b", "x", "c", "a", "d"]);
  s.move("d", { before: "b" });
  assert.deepEqual(s.ids(), ["d", "b", "x", "c", "a"]);
  s.move("d", {});
  assert.deepEqual(s.ids(), ["b", "x", "c", "a", "d"], "no target: to the end");

  // replace keeps the position and the enabled state
  s.disable("x");
  const x2 = P("x2");
  s.replace("x", x2);
  assert.deepEqual(s.ids(), ["b", "x2", "c", "a", "d"]);
  assert.deepEqual(s.enabledIds(), ["b", "c", "a", "d"]);
  assert.equal(s.get("x2"), x2);
  assert.ok(s.has("x2") && !s.has("x"));
  const c2 = P("c", { description: "same id, new body" });
  s.replace("c", c2);
  assert.equal(s.get("c"), c2);

  s.order(["d", "a"]);
  assert.deepEqual(s.ids(), ["d", "a", "b", "x2", "c"], "named first, the rest in their order");
});

Deno.test("bad edits throw a SeriesError listing the known ids, and leave the series as it was", () => {
  const s = new Series([P("a"), P("b"), P("c")]);
  for (
    const edit of [
      () => s.enable("nope"),
      () => s.disable("nope"),
      () => s.only(["a", "nope"]),
      () => s.remove("nope"),
      () => s.get("nope"),
      () => s.insert(P("n"), { before: "nope" }),
      () => s.move("nope", { after: "a" }),
      () => s.move("a", { before: "nope" }),
      () => s.replace("nope", P("n")),
      () => s.order(["c", "nope"]),
    ]
  ) {
    const msg = seriesError(edit);
    assert.match(msg, /no plugin "nope" in the series \(have: a, b, c\)/);
    assert.deepEqual(s.ids(), ["a", "b", "c"]);
    assert.deepEqual(s.enabledIds(), ["a", "b", "c"]);
  }
  assert.match(seriesError(() => s.insert(P("b"))), /plugin "b" is already in the series/);
  assert.match(seriesError(() => s.replace("a", P("c"))), /plugin "c" is already in the series/);
  assert.match(seriesError(() => s.move("a", { before: "a" })), /relative to itself/);
  assert.match(seriesError(() => s.order(["b", "b"])), /"b" named twice/);
  assert.match(seriesError(() => new Series([P("a"), P("a")])), /already in the series/);
  assert.match(seriesError(() => new Series().get("a")), /\(have: none\)/);
  assert.deepEqual(s.ids(), ["a", "b", "c"]);
});

Deno.test("resolve: a stable order — series order, except that a hint delays the plugin it must follow", () => {
  // No hints: series order.
  assert.deepEqual(order(new Series([P("a"), P("b"), P("c"), P("d")])), ["a", "b", "c", "d"]);
  // The order is the smallest by series position that honours the hints: nothing runs
  // earlier than its place in the list, hinted plugins wait for what they must follow.
  // d before b: b waits for d (and so also runs after c).
  assert.deepEqual(
    order(new Series([P("a"), P("b"), P("c"), P("d", { before: ["b"] })])),
    ["a", "c", "d", "b"],
  );
  // c before b, adjacent: they just swap.
  assert.deepEqual(
    order(new Series([P("a"), P("b"), P("c", { before: ["b"] }), P("d")])),
    ["a", "c", "b", "d"],
  );
  // a wants to run after c.
  assert.deepEqual(
    order(new Series([P("a", { after: ["c"] }), P("b"), P("c"), P("d")])),
    ["b", "c", "a", "d"],
  );
  // Both kinds at once, a chain e < b < a.
  assert.deepEqual(
    order(new Series([P("a", { after: ["b"] }), P("b"), P("c"), P("e", { before: ["b"] })])),
    ["c", "e", "b", "a"],
  );
  // Hints that already hold change nothing; hints naming absent or disabled plugins are ignored.
  assert.deepEqual(
    order(new Series([P("a", { before: ["c"] }), P("b", { after: ["ghost"] }), P("c")])),
    ["a", "b", "c"],
  );
  const s = new Series([P("a", { after: ["c"] }), P("b"), P("c")]);
  s.disable("c");
  assert.deepEqual(order(s), ["a", "b"]);
  // Series order is the input: the same hints on a reordered list give the reordered result.
  s.enable("c").move("b", { before: "a" });
  assert.deepEqual(order(s), ["b", "c", "a"]);
});

Deno.test("resolve: contradicting hints are an ordering cycle naming the plugins in it", () => {
  const two = new Series([P("a", { before: ["b"] }), P("b", { before: ["a"] }), P("free")]);
  const msg = seriesError(() => two.resolve());
  assert.match(msg, /ordering cycle among a, b/);
  assert.doesNotMatch(msg, /free/);
  const three = new Series([
    P("x", { after: ["z"] }),
    P("y", { after: ["x"] }),
    P("z", { after: ["y"] }),
    P("w"),
  ]);
  assert.match(seriesError(() => three.resolve()), /ordering cycle among x, y, z \(/);
  assert.match(seriesError(() => new HookRunner(three.resolve().plugins)), /ordering cycle/);
  // Disabling one plugin of the cycle breaks it.
  three.disable("y");
  assert.deepEqual(order(three), ["z", "x", "w"]);
});

Deno.test("resolve: unmet requires and taps of hook points nobody defines are listed, in run order", () => {
  const definer = P("definer", {
    defines: { "my.point": hookPoint("run-all", "a point", "-") },
  });
  const user = P("user", {
    requires: ["definer", "helper"],
    hooks: {
      "my.point": () => {},
      "nobody.defines_this": () => {},
      "bnx2.bnx2_init_one": () => {},
    },
  });
  const s = new Series([definer, P("helper"), user]);
  assert.deepEqual(s.resolve().missing, [{ plugin: "user", requires: "hook:nobody.defines_this" }]);
  s.disable("helper");
  assert.deepEqual(s.resolve().missing, [
    { plugin: "user", requires: "helper" },
    { plugin: "user", requires: "hook:nobody.defines_this" },
  ]);
  s.remove("definer");
  assert.deepEqual(s.resolve().missing, [
    { plugin: "user", requires: "definer" },
    { plugin: "user", requires: "helper" },
    { plugin: "user", requires: "hook:my.point" },
    { plugin: "user", requires: "hook:nobody.defines_this" },
  ]);
  // A missing dependency does not stop resolution: the series stays runnable when forced.
  assert.deepEqual(order(s), ["user"]);
  assert.deepEqual(ids(new HookRunner(s.resolve().plugins).plugins), ["user"]);
});

Deno.test("clone(): edits to the copy leave the original alone, and the other way round", () => {
  const s = new Series([P("a"), P("b"), P("c")]);
  s.disable("c");
  const c = s.clone();
  assert.deepEqual([c.ids(), c.enabledIds()], [["a", "b", "c"], ["a", "b"]]);
  c.enable("c").move("a", { after: "c" }).remove("b").insert(P("n"));
  s.disable("a");
  assert.deepEqual([s.ids(), s.enabledIds()], [["a", "b", "c"], ["b"]]);
  assert.deepEqual([c.ids(), c.enabledIds()], [["c", "a", "n"], ["c", "a", "n"]]);
  assert.equal(c.get("c"), s.get("c"), "the plugins themselves are shared values");
});

Deno.test("replace(): the new plugin stands in for the old id — requires and hints naming it are met", () => {
  const s = new Series([
    P("a", { after: ["c"] }),
    P("b"),
    P("c"),
    P("d", { requires: ["c"], before: ["b"] }),
  ]);
  assert.deepEqual(order(s), ["c", "a", "d", "b"]);
  s.replace("c", P("my-c"));
  assert.deepEqual(s.resolve().missing, [], "d's requires: c is met by my-c");
  assert.deepEqual(order(s), ["my-c", "a", "d", "b"], "a and d still follow its hints");
  // Replacing the replacement keeps the old id's place too; disabling it unmeets it.
  s.replace("my-c", P("my-c2"));
  assert.deepEqual(s.resolve().missing, []);
  assert.ok(!s.has("c") && !s.has("my-c"));
  s.disable("my-c2");
  assert.deepEqual(s.resolve().missing, [{ plugin: "d", requires: "c" }]);
  // A plugin inserted without replacing anything does not stand in for a missing id.
  const t = new Series([P("x", { requires: ["y"] })]).insert(P("y2"));
  assert.deepEqual(t.resolve().missing, [{ plugin: "x", requires: "y" }]);
});
