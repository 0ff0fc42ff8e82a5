/**
 * The series options on the searching commands (bisect, minimize, ablate) end to end: each
 * step starts from the series they build; --disable keeps a patch out of every step and of
 * the search, --plugin adds a user's plugin to every step, and a bisect log records them for
 * its replay. Expected outcomes come from run() in this process.
 */
import assert from "node:assert/strict";
import { loadPluginFile, seriesFromSpec, seriesIds } from "../../runtime/lab/plugins.ts";
import { run } from "../../runtime/lab/run.ts";
import { SCENARIOS } from "../../runtime/lab/scenarios/mod.ts";
import { lab, ok, ROOT } from "./lab-kit.ts";

const USER_FILE = `${ROOT}examples/old-domain-ids.ts`;

Deno.test("ablate --disable ID: the patch is off in every row and not left out on its own", async () => {
  const out = ok(
    await lab(["ablate", "--disable", "drop-gcr3-root", "--json"]),
    "ablate --disable",
  );
  const rows: { id: string; verdict: string; series: string[] }[] = JSON.parse(out.stdout);
  assert.deepEqual(
    rows.map((r) => r.id),
    ["none", ...seriesIds().filter((id) => id !== "drop-gcr3-root")],
  );
  for (const r of rows) assert.ok(!r.series.includes("drop-gcr3-root"), r.id);
  // The reference row is the series without that patch, as run() gives it.
  const direct = run(SCENARIOS.default, {
    series: seriesFromSpec("all").disable("drop-gcr3-root"),
  });
  assert.equal(rows[0].verdict, direct.verdict);
  assert.deepEqual(rows[0].series, direct.series);
});

Deno.test("minimize and bisect --plugin FILE: the user's plugin runs in every step; the log keeps it", async () => {
  const userPlugin = await loadPluginFile(USER_FILE);
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-search-" });
  const log = `${dir}/bisect.log`;
  try {
    const [m, b] = await Promise.all([
      lab(["minimize", "--plugin", USER_FILE, "--json"]),
      lab(["bisect", "--plugin", USER_FILE, "--json", "--log", log]),
    ]);
    const min = JSON.parse(ok(m, "minimize --plugin").stdout);
    assert.equal(min.status, "minimized");
    // The 1-minimal set with the plugin: good with it, as run() says when the plugin is added.
    const withPlugin = (ids: string[]) => {
      const s = seriesFromSpec(ids.join(",") || "none", [userPlugin]).insert(userPlugin);
      return run(SCENARIOS.default, { series: s });
    };
    const r = withPlugin(min.set);
    assert.equal(r.verdict, "dump-ok");
    assert.ok(r.series.includes(userPlugin.id), `${r.series}`);
    const bis = JSON.parse(ok(b, "bisect --plugin").stdout);
    const text = await Deno.readTextFile(log);
    const options = JSON.parse(/^# options: (.*)$/m.exec(text)![1]);
    assert.deepEqual(options.plugin, [{ file: USER_FILE }]);
    const replay = JSON.parse(ok(await lab(["bisect", "replay", log, "--json"]), "replay").stdout);
    assert.equal(replay.first, bis.first);
    assert.equal(replay.runs, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("matrix --disable ID: the patch stays off in every run, and the header says so", async () => {
  const out = ok(
    await lab([
      "matrix",
      "--pairwise",
      "--patches",
      "copy-dev-tables,disable-only-if-off",
      "--disable",
      "disable-only-if-off",
      "--force",
      "--jsonl",
    ]),
    "matrix --disable",
  );
  const [head, ...lines] = out.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(head.matrix.disable, ["disable-only-if-off"]);
  const byIds = new Map(lines.map((l) => [l.ids.join(","), l]));
  const counters = (l: Record<string, unknown>) => {
    const { index: _i, mask: _m, ids: _d, ...rest } = l;
    return rest;
  };
  // Toggling the disabled patch on changes nothing: with it equals without it.
  assert.deepEqual(
    counters(byIds.get("copy-dev-tables,disable-only-if-off")),
    counters(byIds.get("copy-dev-tables")),
  );
  const direct = run(SCENARIOS.default, {
    series: seriesFromSpec("copy-dev-tables"),
    force: true,
  });
  assert.equal(byIds.get("copy-dev-tables").verdict, direct.verdict);
});
