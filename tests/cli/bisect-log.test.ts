/**
 * `bisect --log FILE` never destroys an existing log: FILE is replaced only when the search
 * ends; meanwhile the steps go to FILE.partial, which an aborted search leaves for
 * `bisect replay FILE.partial --log FILE` to continue, and which a new search refuses to
 * overwrite.
 */
import assert from "node:assert/strict";
import { errorLine, lab, ok } from "./lab-kit.ts";

/** A `--run` predicate script in `dir`: good is dump-ok with no IO_PAGE_FAULT. */
async function predicate(dir: string, name: string, abortInside: boolean): Promise<string> {
  const path = `${dir}/${name}.ts`;
  // The ends are prefix 0 (no plugin) and prefix 12 (12 plugins); any other prefix is
  // inside, where the aborting script exits with 129 (bisect aborts on 128 or more).
  const abort = abortInside
    ? "if (r.series.length > 0 && r.series.length < 12) Deno.exit(129);\n"
    : "";
  await Deno.writeTextFile(
    path,
    "const r = JSON.parse(await new Response(Deno.stdin.readable).text());\n" + abort +
      'Deno.exit(r.verdict === "dump-ok" && r.events.IO_PAGE_FAULT === 0 ? 0 : 1);\n',
  );
  return path;
}

Deno.test("bisect --log: an aborted search leaves the old log whole and its steps in FILE.partial", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-bisect-log-" });
  const log = `${dir}/bisect.log`, partial = `${log}.partial`;
  const old = "# a log from yesterday\ngit bisect start 12 0\n";
  await Deno.writeTextFile(log, old);
  const aborting = await predicate(dir, "abort", true);
  const plain = await predicate(dir, "plain", false);
  try {
    const aborted = await lab(["bisect", "--run", aborting, "--log", log]);
    const line = errorLine(aborted, "aborted");
    assert.match(line, /exited with 129/);
    assert.ok(
      line.endsWith(
        `(${log} is unchanged; the steps so far are in ${partial}: bisect replay ${partial} ` +
          `--log ${log} continues)`,
      ),
      line,
    );
    assert.equal(await Deno.readTextFile(log), old, "the old log is whole");
    const steps = await Deno.readTextFile(partial);
    assert.deepEqual(
      steps.match(/^git bisect (fixed|broken) \S+$/gm)?.map((l) => l.split(" ").at(-1)),
      ["disable-only-if-off", "baseline"],
      `the two ends were tested before the abort:\n${steps}`,
    );

    // A new search would lose those steps: refused, nothing touched.
    const again = await lab(["bisect", "--log", log]);
    assert.equal(
      errorLine(again, "partial left over"),
      `kdump-lab: bisect: --log ${log}: ${partial} holds an interrupted search's steps; ` +
        `continue it with bisect replay ${partial} --log ${log}, or remove it`,
    );
    assert.equal(await Deno.readTextFile(partial), steps);
    assert.equal(await Deno.readTextFile(log), old);

    // Continuing it: the two steps come from the log, the log is replaced, the partial goes.
    const replay = await lab(["bisect", "replay", partial, "--run", plain, "--log", log, "--json"]);
    const r = JSON.parse(ok(replay, "replay").stdout) as {
      status: string;
      steps: { prefix: number; replayed: boolean }[];
    };
    assert.equal(r.status, "found");
    assert.deepEqual(
      r.steps.filter((s) => s.replayed).map((s) => s.prefix),
      [12, 0],
      "the ends come from the partial log",
    );
    assert.ok(r.steps.some((s) => !s.replayed), "the rest was run");
    assert.match(replay.stderr, new RegExp(`^wrote ${log}$`, "m"));
    const done = await Deno.readTextFile(log);
    assert.notEqual(done, old);
    assert.match(done, /^# first fixed commit: \[[\w-]+\] /m, `a finished log:\n${done}`);
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      ["abort.ts", "bisect.log", "plain.ts"],
      "no partial log, no temporary file",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
