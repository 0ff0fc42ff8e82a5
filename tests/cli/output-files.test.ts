/**
 * runtime/cli/output-files.ts in-process: files are replaced in one step (a write that fails
 * leaves the old file and no temporary file; permission bits, links and special files are kept),
 * and the checks that refuse outputs which would lose data. The write errors here are simulated
 * at the writer seam (`Deno.FsFile.prototype.writeSync`, `Deno.renameSync` replaced for the
 * test); `output-files-cli.test.ts` makes real ones (a full tmpfs, /dev/full, a closed pipe).
 */
import assert from "node:assert/strict";
import { createProgram } from "../../runtime/cli/main.ts";
import {
  checkOutputs,
  INPUT_OPTIONS,
  OUTPUT_OPTIONS,
  replaceFileSync,
  sameFile,
  writeOutputFile,
} from "../../runtime/cli/output-files.ts";
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import { exec } from "./lab-kit.ts";

/** A fresh directory, removed after `fn`. */
async function inTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kdump-lab-out-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The names in `dir`, sorted. */
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

/** An error as Deno raises for a full disk. */
const enospc = () => new Error("No space left on device (os error 28)");

Deno.test("replaceFileSync: creates, then replaces in one step, keeping the mode; no temporary file left", () =>
  inTempDir((dir) => {
    const f = `${dir}/out.txt`;
    replaceFileSync(f, "one\n");
    assert.equal(Deno.readTextFileSync(f), "one\n");
    Deno.chmodSync(f, 0o640);
    const before = Deno.statSync(f).ino;
    replaceFileSync(f, new TextEncoder().encode("two\n"));
    assert.equal(Deno.readTextFileSync(f), "two\n");
    assert.equal(Deno.statSync(f).mode! & 0o777, 0o640, "the permission bits are kept");
    assert.notEqual(Deno.statSync(f).ino, before, "a new file was renamed into place");
    assert.deepEqual(names(dir), ["out.txt"]);
  }));

Deno.test("replaceFileSync: a write that fails (full disk, simulated) leaves the old file and no temporary file", () =>
  inTempDir((dir) => {
    const f = `${dir}/log`;
    Deno.writeTextFileSync(f, "precious\n");
    const write = Deno.FsFile.prototype.writeSync;
    let calls = 0;
    Deno.FsFile.prototype.writeSync = function (this: Deno.FsFile, p: Uint8Array) {
      // the first chunk lands, the next one finds the disk full
      if (calls++ === 0) return write.call(this, p.subarray(0, 3));
      throw enospc();
    };
    try {
      assert.throws(() => replaceFileSync(f, "new content\n"), /No space left/);
      assert.throws(
        () => writeOutputFile("--out", f, "new content\n"),
        (e: Error) =>
          e.name === "InputError" &&
          e.message === `--out ${f}: cannot write it: no space left on device`,
      );
    } finally {
      Deno.FsFile.prototype.writeSync = write;
    }
    assert.ok(calls >= 2, "the seam was used");
    assert.equal(Deno.readTextFileSync(f), "precious\n", "the old file is whole");
    assert.deepEqual(names(dir), ["log"], "the temporary file is gone");

    const rename = Deno.renameSync;
    Deno.renameSync = () => {
      throw new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    };
    try {
      assert.throws(() => replaceFileSync(f, "new\n"), Deno.errors.PermissionDenied);
    } finally {
      Deno.renameSync = rename;
    }
    assert.equal(Deno.readTextFileSync(f), "precious\n");
    assert.deepEqual(names(dir), ["log"]);
  }));

Deno.test("replaceFileSync: a symbolic link stays a link; a FIFO is written through; a directory is refused", async () => {
  await inTempDir(async (dir) => {
    const real = `${dir}/real.html`, link = `${dir}/link.html`;
    Deno.writeTextFileSync(real, "old");
    Deno.symlinkSync(real, link);
    replaceFileSync(link, "new");
    assert.ok(Deno.lstatSync(link).isSymlink, "still a link");
    assert.equal(Deno.readTextFileSync(real), "new", "the file it names was replaced");
    const dangling = `${dir}/to-be.html`;
    Deno.symlinkSync(`${dir}/target.html`, dangling);
    replaceFileSync(dangling, "created");
    assert.ok(Deno.lstatSync(dangling).isSymlink, "a link to nowhere stays a link…");
    assert.equal(Deno.readTextFileSync(`${dir}/target.html`), "created", "…and gets its file");

    const fifo = `${dir}/fifo`;
    const mk = await exec("mkfifo", [fifo]);
    assert.equal(mk.code, 0, mk.stderr);
    const reader = new Deno.Command("cat", { args: [fifo], stdout: "piped" }).spawn();
    replaceFileSync(fifo, "through the pipe\n");
    const got = await reader.output();
    assert.equal(new TextDecoder().decode(got.stdout), "through the pipe\n");
    assert.ok(Deno.lstatSync(fifo).isFifo, "still a FIFO, not renamed over");

    assert.throws(() => replaceFileSync(dir, "x"), Deno.errors.IsADirectory);
    assert.throws(() => replaceFileSync(`${dir}/no/such/dir/f`, "x"), Deno.errors.NotFound);
    assert.deepEqual(names(dir), ["fifo", "link.html", "real.html", "target.html", "to-be.html"]);
  });
});

Deno.test("checkOutputs: two outputs naming one file (however spelled) or an input file are refused", () =>
  inTempDir((dir) => {
    const f = `${dir}/m.jsonl`, s = `${dir}/s.yaml`;
    Deno.writeTextFileSync(s, "scenario: x\n");
    Deno.mkdirSync(`${dir}/sub`);
    Deno.symlinkSync(f, `${dir}/alias`);
    const refused = (opts: Record<string, unknown>, re: RegExp) =>
      assert.throws(
        () => checkOutputs(opts),
        (e: Error) => e.name === "InputError" && re.test(e.message),
      );
    refused({ out: f, html: f }, /^--html .* and --out .* are the same file/);
    refused({ out: f, html: `${dir}/sub/../m.jsonl` }, /same file/);
    refused({ out: f, html: `${dir}/alias` }, /same file/);
    Deno.writeTextFileSync(f, "");
    Deno.linkSync(f, `${dir}/hard`);
    refused({ out: f, html: `${dir}/hard` }, /same file/);
    refused(
      { html: `${dir}/./s.yaml`, scenarioFile: s },
      /^--html .* would overwrite --scenario-file/,
    );
    refused({ log: `${dir}/sub` }, /^--log .*sub: cannot write it: is a directory$/);
    refused({ html: `${dir}/none/x.html` }, /cannot write it: no such directory$/);
    refused({ out: "" }, /^--out needs a file name$/);
    checkOutputs({ out: f, html: `${dir}/m.html`, scenarioFile: s, quiet: true });
    checkOutputs({ out: "/dev/null" });
    assert.ok(sameFile(f, `${dir}/sub/../m.jsonl`));
    assert.ok(!sameFile(f, `${dir}/m.html`));
    assert.deepEqual(names(dir), ["alias", "hard", "m.jsonl", "s.yaml", "sub"], "probes removed");
  }));

/** Every command below `cmd`, with itself. */
function commands(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return [cmd, ...cmd.commands.flatMap(commands)];
}

Deno.test("checkOutputs knows every file option of every command", async () => {
  // --plugin and --replace carry parsed values, read when the series is built, before any
  // output is written.
  const parsed = new Set(["plugin", "replace"]);
  const unknown: string[] = [];
  let outputs = 0;
  for (const cmd of commands(await createProgram())) {
    for (const o of cmd.options) {
      if (!/<[^>]*\b(file|path)\b[^>]*>/.test(o.flags)) continue;
      const key = o.attributeName();
      if (key in OUTPUT_OPTIONS) {
        outputs++;
        assert.equal(OUTPUT_OPTIONS[key], o.long, o.flags);
      } else if (key in INPUT_OPTIONS) assert.equal(INPUT_OPTIONS[key], o.long, o.flags);
      else if (!parsed.has(key)) unknown.push(`${cmd.name()} ${o.flags}`);
    }
  }
  assert.deepEqual(unknown, [], "file options output-files.ts does not classify");
  assert.ok(outputs >= 8, `${outputs} output options seen`);
});
