/**
 * `--html FILE`: the option every command that can draw its result shares, and the one
 * function that writes the page. The pages themselves come from `runtime/html/mod.ts`
 * (pure functions of the results).
 *
 * A command adds `.addOption(htmlOption())` and, in its action, before it prints anything:
 * `if (opts.html !== undefined) await writeHtml(opts.html, renderXxxHtml(result));`
 *
 * @module
 */
import { Option } from "npm:@commander-js/extra-typings@^14";
import { writeOutputFile } from "./output-files.ts";

/** `--html <file>`: also write a self-contained HTML page of the result to FILE. */
export function htmlOption(what = "the result, with an SVG timeline") {
  return new Option(
    "--html <file>",
    `also write a self-contained HTML page of ${what} to FILE`,
  );
}

/**
 * Writes an HTML page (from `runtime/html/mod.ts`) to `file`, replacing it atomically, and says
 * `wrote FILE` on stderr (see `output-files.ts`).
 *
 * @throws {InputError} when the file cannot be written (one line: the CLI exits 2)
 */
export function writeHtml(file: string, html: string): Promise<void> {
  writeOutputFile("--html", file, html);
  return Promise.resolve();
}
