/**
 * The files the command line writes (`--html`, `--out`, `--log`, `--update-readme`): never lost,
 * never half-written, never two outputs in one file.
 *
 * - {@link replaceFileSync} is the one way a file is written. The bytes go to a new temporary
 *   file in the target's directory (`.NAME.XXXXXXXX.tmp`), are flushed to disk, and the
 *   temporary file is renamed over the target in one step: an error, a full disk or Ctrl-C
 *   leaves the old file or the new one, never a mix or an empty file. An existing file keeps
 *   its permission bits (and its owner, where the process may set it); a symbolic link keeps
 *   pointing where it did (the file it names is replaced). A target that exists but is not a
 *   regular file (`/dev/stdout`, a FIFO) is written straight through: there is nothing to lose
 *   and nothing to rename over.
 * - {@link writeOutputFile} writes an option's file with it and says `wrote FILE` on stderr,
 *   unless the command runs with `--quiet` (see {@link setQuietWrites}).
 * - {@link checkOutputs} runs before a command does (`main.ts`): two output options naming one
 *   file (`matrix --out F --html F`), an output that is one of the command's input files, an
 *   output that is a directory or in a directory that cannot take it — bad input, one line,
 *   exit 2, before anything runs.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { InputError, readFailure } from "../lab/input.ts";
import { printErr } from "./io.ts";

/**
 * The options whose value is a file the command writes, by commander's attribute name. A test
 * checks that every `<file>` option of every command is here or in {@link INPUT_OPTIONS}.
 */
export const OUTPUT_OPTIONS: Readonly<Record<string, string>> = {
  html: "--html",
  out: "--out",
  log: "--log",
  updateReadme: "--update-readme",
};

/**
 * The options whose value is a file the command only reads and no output may overwrite, by
 * commander's attribute name (single paths; `--plugin` and `--replace` carry parsed values and
 * are read before any output is written).
 */
export const INPUT_OPTIONS: Readonly<Record<string, string>> = {
  scenarioFile: "--scenario-file",
  run: "--run",
};

let quiet = false;

/** Turns the `wrote FILE` lines off (the running command's `--quiet`) or back on. */
export function setQuietWrites(on: boolean): void {
  quiet = on;
}

/** Writes all of `bytes` to an open file. */
function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
}

/** Stat of `path` following links, or undefined when nothing is there. */
function statOrNothing(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Where writing `path` lands, as an absolute path: through symbolic links (a link to a file
 * that does not exist yet included: writing through it creates that file) and with the
 * directory's links resolved.
 */
function landingPath(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st: Deno.FileInfo;
    try {
      st = Deno.lstatSync(p);
    } catch {
      break; // nothing there: a new file
    }
    if (!st.isSymlink) break;
    p = resolve(dirname(p), Deno.readLinkSync(p));
  }
  try {
    return Deno.realPathSync(p);
  } catch { /* not there yet */ }
  try {
    return join(Deno.realPathSync(dirname(p)), basename(p));
  } catch {
    return p;
  }
}

/**
 * Replaces (or creates) the file at `path` with `data`, atomically: a temporary file in the same
 * directory, flushed, then renamed over it (see the module's notes for links, modes and special
 * files).
 *
 * @throws the file system's error (`Deno.errors.NotFound` for a missing directory,
 *   `Deno.errors.IsADirectory`, `Deno.errors.PermissionDenied`, a full disk …); the target is
 *   then as it was, and no temporary file is left behind
 */
export function replaceFileSync(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const target = landingPath(path);
  const old = statOrNothing(target);
  if (old?.isDirectory) throw new Deno.errors.IsADirectory(`${path}: is a directory`);
  if (old && !old.isFile) {
    using special = Deno.openSync(target, { write: true, truncate: true });
    writeAll(special, bytes);
    return;
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${crypto.randomUUID().slice(0, 8)}.tmp`,
  );
  const file = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o666 });
  let open = true;
  try {
    writeAll(file, bytes);
    file.syncDataSync();
    file.close();
    open = false;
    if (old) keepOwnership(tmp, old);
    Deno.renameSync(tmp, target);
  } catch (e) {
    if (open) file.close();
    try {
      Deno.removeSync(tmp);
    } catch { /* already gone */ }
    throw e;
  }
}

/** Gives `tmp` the permission bits (and, where allowed, the owner) of the file it replaces. */
function keepOwnership(tmp: string, old: Deno.FileInfo): void {
  if (old.mode !== null) Deno.chmodSync(tmp, old.mode & 0o7777);
  const mine = statOrNothing(tmp);
  if (old.uid === null || old.gid === null || mine === undefined) return;
  if (mine.uid === old.uid && mine.gid === old.gid) return;
  try {
    Deno.chownSync(tmp, old.uid, old.gid);
  } catch { /* only root may give a file away; the file is then the writer's */ }
}

/**
 * Writes `text` to `file` for option `flag` (e.g. `--html`) with {@link replaceFileSync}, then
 * prints `wrote FILE` on stderr unless `--quiet`.
 *
 * @throws {InputError} when it cannot be written (one line naming the option and the file)
 */
export function writeOutputFile(flag: string, file: string, text: string): void {
  if (file.trim() === "") throw new InputError(`${flag} needs a file name`);
  try {
    replaceFileSync(file, text);
  } catch (e) {
    throw new InputError(`${flag} ${file}: cannot write it: ${readFailure(e, "write")}`);
  }
  if (!quiet) printErr(`wrote ${file}`);
}

/**
 * What identifies the file at `path`: its device and inode when it exists (so a hard link
 * compares equal), else where writing it would land (see {@link landingPath}).
 */
export function fileIdentity(path: string): string {
  const landing = landingPath(path);
  const st = statOrNothing(landing);
  return st && st.ino !== null ? `inode ${st.dev}:${st.ino}` : landing;
}

/** Whether `a` and `b` name the same file. */
export function sameFile(a: string, b: string): boolean {
  return fileIdentity(a) === fileIdentity(b);
}

/** One file option's value. */
interface FileArg {
  flag: string;
  file: string;
}

/** The string values among `opts` of the options in `names`. */
function fileArgs(opts: Record<string, unknown>, names: Readonly<Record<string, string>>) {
  const args: FileArg[] = [];
  for (const [key, flag] of Object.entries(names)) {
    const v = opts[key];
    if (typeof v === "string") args.push({ flag, file: v });
  }
  return args;
}

/**
 * Checks that `file` can become an output: a name, not a directory, in a directory where a
 * file can be created (tried with a temporary file, removed at once).
 *
 * @throws {InputError} otherwise
 */
function checkWritable({ flag, file }: FileArg): void {
  if (file.trim() === "") throw new InputError(`${flag} needs a file name`);
  const cannot = (why: string) => new InputError(`${flag} ${file}: cannot write it: ${why}`);
  const target = landingPath(file);
  const st = statOrNothing(target);
  if (st?.isDirectory) throw cannot("is a directory");
  if (st && !st.isFile) return; // a device or FIFO: written straight through
  const dir = dirname(target);
  const d = statOrNothing(dir);
  if (!d || !d.isDirectory) throw cannot("no such directory");
  let probe: string | undefined;
  try {
    probe = Deno.makeTempFileSync({ dir, prefix: `.${basename(target)}.`, suffix: ".tmp" });
  } catch (e) {
    throw cannot(readFailure(e, "write"));
  } finally {
    if (probe !== undefined) Deno.removeSync(probe);
  }
}

/**
 * Refuses, before a command runs, outputs that would lose data: two output options naming one
 * file, an output naming one of the command's input files, an output that cannot be created.
 *
 * @param opts the command's parsed options (commander's `opts()`)
 * @throws {InputError} one line naming the options and files
 */
export function checkOutputs(opts: Record<string, unknown>): void {
  const outputs = fileArgs(opts, OUTPUT_OPTIONS);
  const inputs = fileArgs(opts, INPUT_OPTIONS);
  for (const [i, a] of outputs.entries()) {
    for (const b of outputs.slice(i + 1)) {
      if (sameFile(a.file, b.file)) {
        throw new InputError(
          `${a.flag} ${a.file} and ${b.flag} ${b.file} are the same file: give each output ` +
            `its own`,
        );
      }
    }
    for (const b of inputs) {
      if (sameFile(a.file, b.file)) {
        throw new InputError(`${a.flag} ${a.file} would overwrite ${b.flag} ${b.file}`);
      }
    }
  }
  outputs.forEach(checkWritable);
}
