/**
 * Nothing lost, end to end (spawning the CLI): outputs that would overwrite each other or an
 * input are refused before anything runs; every file written says `wrote FILE` on stderr
 * (nothing with --quiet) and keeps its permission bits; write errors are real here — a stdout
 * whose reader closed the pipe (EPIPE), stdout on /dev/full (ENOSPC), a file on a full 32 KiB
 * tmpfs (mounted in a private mount namespace with `unshare`, where the machine allows it) —
 * and each ends with one line on stderr, never a stack trace.
 */
import assert from "node:assert/strict";
import { errorLine, exec, lab, ok, type Output, ROOT, usage } from "./lab-kit.ts";

const TWO = ["--patches", "copy-dev-tables,copy-old-trans-table", "--with", "bnx2-no-kdump-wait"];

/** Asserts no stack trace in `out`'s stderr. */
function noTrace(out: Output, what: string): void {
  assert.doesNotMatch(out.stderr, /internal error|\bat .*:\d+:\d+/, `${what}: no stack trace`);
}

Deno.test("outputs naming one file, or an input file, are refused before anything runs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-same-" });
  const f = `${dir}/m.jsonl`, s = `${dir}/s.yaml`;
  await Deno.writeTextFile(s, "machine: {}\n");
  try {
    const [matrix, merge, scenario, log] = await Promise.all([
      lab(["matrix", ...TWO, "--out", f, "--html", f]),
      lab(["matrix", "merge", s, "--out", f, "--html", `${dir}/./m.jsonl`]),
      lab(["run", "--scenario-file", s, "--html", `${dir}/../${dir.split("/").pop()}/s.yaml`]),
      lab(["bisect", "--log", dir]),
    ]);
    usage(matrix, /^kdump-lab: matrix: --html \S+ and --out \S+ are the same file/, "matrix");
    usage(merge, /^kdump-lab: matrix merge: --html \S+ and --out \S+ are the same file/, "merge");
    usage(scenario, /^kdump-lab: run: --html \S+ would overwrite --scenario-file /, "scenario");
    usage(log, /^kdump-lab: bisect: --log \S+: cannot write it: is a directory$/, "log dir");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["s.yaml"], "nothing written");
    assert.equal(await Deno.readTextFile(s), "machine: {}\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every file written says 'wrote FILE' on stderr, none with --quiet; an existing file keeps its mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-wrote-" });
  const [out, html, qout, qhtml, page] = ["a.jsonl", "a.html", "q.jsonl", "q.html", "r.html"]
    .map((n) => `${dir}/${n}`);
  await Deno.writeTextFile(page, "old page");
  await Deno.chmod(page, 0o640);
  try {
    const [loud, quiet, run] = await Promise.all([
      lab(["matrix", ...TWO, "--out", out, "--html", html]),
      lab(["matrix", ...TWO, "--out", qout, "--html", qhtml, "--quiet"]),
      lab(["run", "--html", page]),
    ]);
    ok(loud, "matrix");
    const wrote = loud.stderr.split("\n").filter((l) => l.startsWith("wrote "));
    assert.deepEqual(wrote.sort(), [`wrote ${html}`, `wrote ${out}`]);
    assert.equal(ok(quiet, "matrix --quiet").stderr, "", "--quiet: nothing on stderr");
    assert.equal(ok(run, "run --html").stderr, `wrote ${page}\n`);
    for (const f of [out, html, qout, qhtml]) assert.ok(Deno.statSync(f).size > 0, f);
    assert.match(await Deno.readTextFile(page), /^<!doctype html>/i);
    assert.equal(Deno.statSync(page).mode! & 0o777, 0o640, "the page kept its mode");
    assert.equal(await Deno.readTextFile(out), await Deno.readTextFile(qout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("EPIPE: a reader that closed stdout early ends the command with one line, exit 1", async () => {
  const spawnClosed = (args: string[], stdin?: string) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "runtime/cli/main.ts", ...args],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return (async () => {
      // The reader goes away first; only then does the command get its input and print.
      await child.stdout.cancel();
      if (stdin !== undefined) {
        const w = child.stdin.getWriter();
        await w.write(new TextEncoder().encode(stdin));
        await w.close();
      }
      const { code } = await child.status;
      const stderr = await new Response(child.stderr).text();
      return { code, stdout: "", stderr };
    })();
  };
  const dte = "AMD-Vi: DTE[0]: 6000003f9e2a0603\nAMD-Vi: DTE[1]: 0000000000000010\n" +
    "AMD-Vi: DTE[2]: 0\nAMD-Vi: DTE[3]: 0\n";
  const [decode, help] = await Promise.all([
    spawnClosed(["decode", "dte"], dte),
    spawnClosed(["--help"]),
  ]);
  for (
    const [out, what, context] of [[decode, "decode dte", "decode dte: "], [
      help,
      "--help",
      "",
    ]] as const
  ) {
    assert.equal(out.code, 1, `${what}: ${out.stderr}`);
    assert.equal(
      out.stderr,
      `kdump-lab: ${context}cannot write to stdout: broken pipe (its reader closed it)\n`,
      what,
    );
    noTrace(out, what);
  }
});

Deno.test("ENOSPC: stdout on a full device ends with one line, exit 1", async () => {
  const out = await exec("bash", [
    "-c",
    `cd "$1" && NO_COLOR=1 exec "$2" run -A runtime/cli/main.ts scenarios > /dev/full`,
    "bash",
    ROOT,
    Deno.execPath(),
  ]);
  assert.equal(out.code, 1, out.stderr);
  assert.equal(
    out.stderr,
    "kdump-lab: scenarios: cannot write to stdout: no space left on device\n",
  );
});

Deno.test("ENOSPC: a file on a full tmpfs is not written and the old one stays whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-tmpfs-" });
  try {
    // In a private mount namespace: the tmpfs exists only for this shell and its children.
    const script = `mount -t tmpfs -o size=32k tmpfs "$1" || exit 99
printf precious > "$1/page.html"
cd "$3" && NO_COLOR=1 "$2" run -A runtime/cli/main.ts run --html "$1/page.html" 2>"$1/err"
echo "rc=$?"
cat "$1/err"
echo "content=$(cat "$1/page.html")"
echo "files=$(ls -A "$1" | tr '\\n' ' ')"`;
    const out = await exec("unshare", [
      "-rm",
      "sh",
      "-c",
      script,
      "sh",
      dir,
      Deno.execPath(),
      ROOT,
    ]);
    if (out.code !== 0) {
      // No user or mount namespaces here (or no unshare): the simulated full disk of
      // output-files.test.ts covers the writer; say so rather than pass silently.
      console.log(
        `no private tmpfs on this machine (${out.stderr.trim() || out.code}): ` +
          "ENOSPC on files is covered by output-files.test.ts's simulated write error",
      );
      return;
    }
    const lines = out.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "rc=2", out.stdout);
    assert.equal(
      lines[1],
      `kdump-lab: run: --html ${dir}/page.html: cannot write it: no space left on device`,
    );
    assert.equal(lines[2], "content=precious", "the old file is whole");
    assert.equal(lines[3], "files=err page.html", `no temporary file left: ${out.stdout}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad output path is one line, exit 2, whatever the command", async () => {
  const [run, table] = await Promise.all([
    lab(["run", "--html", "/nonexistent/dir/r.html"]),
    lab(["table", "--update-readme", "/"]),
  ]);
  assert.match(errorLine(run), /^kdump-lab: run: --html \S+: cannot write it: no such directory$/);
  assert.match(
    errorLine(table),
    /^kdump-lab: table: --update-readme \/: cannot write it: is a directory$/,
  );
});
