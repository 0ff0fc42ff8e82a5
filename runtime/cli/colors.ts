/**
 * The colours every command uses: an `ansis` instance whose level follows the usual rules
 * — NO_COLOR (non-empty) turns colours off, FORCE_COLOR (other than "0") turns them on,
 * otherwise colours appear only when stdout is a terminal. ansis' own detection also turns
 * colours on in CI environments (CI=true) even when output is piped; a tool whose output is
 * compared and parsed must not do that.
 *
 * @module
 */
import { Ansis } from "npm:ansis@^4";

/** The colour level: 0 (none) or 3 (truecolor, which ansis downsamples as needed). */
export function colorLevel(
  env: { get(name: string): string | undefined } = Deno.env,
  tty = Deno.stdout.isTerminal(),
): 0 | 3 {
  if ((env.get("NO_COLOR") ?? "") !== "") return 0;
  const force = env.get("FORCE_COLOR");
  if (force !== undefined && force !== "0" && force !== "false") return 3;
  return tty ? 3 : 0;
}

/** The shared colour instance. */
export const ansis: Ansis = new Ansis(colorLevel());
