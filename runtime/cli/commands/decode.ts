/**
 * `kdump-lab decode …`: decode values pasted from kernel logs (DTE words, event-log entries,
 * page-table entries, IRTEs, MMIO registers). Values are hexadecimal with or without `0x`.
 *
 * @module
 */
import type { CommandUnknownOpts } from "npm:@commander-js/extra-typings@^14";
import {
  type Decoded,
  decodeDte,
  decodeEvent,
  decodeIrte,
  decodeIrteGa,
  decodePte,
  decodeRegister,
  dteWords,
  dteWordsFromText,
  InputError,
  registers,
} from "../../lab/decode.ts";
import { commandPath, errorLine } from "../errors.ts";
import { print, printErr, readStdin } from "../io.ts";
import { renderDecoded, reservedWarning } from "../render.ts";

const JSON_HELP = "print one JSON object keyed by field name";

/** Prints a decoded structure: JSON (reserved-bit warning to stderr) or the human view. */
function emit(d: Decoded, json: boolean | undefined, cmd: CommandUnknownOpts): void {
  if (!json) return print(...renderDecoded(d));
  print(JSON.stringify(d.json, null, 2));
  const warning = reservedWarning(d);
  if (warning) printErr(errorLine(commandPath(cmd), `warning: ${warning}`));
}

/** Registers the `decode` command and its subcommands on `program`. */
export function registerDecode(program: CommandUnknownOpts): void {
  const decode = program
    .command("decode")
    .description("decode IOMMU structures and registers from values printed in kernel logs");

  decode
    .command("dte")
    .description(
      "device table entry: W0 W1 W2 [W3] (W3 defaults to 0), or with no words the dmesg lines " +
        '"AMD-Vi: DTE[0]: …" .. "DTE[3]: …" on stdin',
    )
    .argument("[words...]", "the 64-bit words q0..q3")
    .option("--json", JSON_HELP)
    .action(async (words, opts, cmd) => {
      const qwords = words.length > 0 ? dteWords(words) : dteWordsFromText(
        await readStdin('no DTE words: give W0 W1 W2 [W3] or pipe "AMD-Vi: DTE[i]: …" lines'),
      );
      emit(decodeDte(qwords), opts.json, cmd);
    });

  decode
    .command("event")
    .description(
      "event-log entry: 4 dwords in Linux order (event[0]..event[3], dw0 = DeviceID) or 2 qwords",
    )
    .argument("<values...>", "4 dwords or 2 qwords")
    .option("--json", JSON_HELP)
    .action((values, opts, cmd) => emit(decodeEvent(values), opts.json, cmd));

  decode
    .command("pte")
    .description("I/O page-table entry: a PDE when Next Level is 1..6, a PTE when it is 0 or 7")
    .argument("<value>", "the 64-bit entry")
    .option("--json", JSON_HELP)
    .action((value, opts, cmd) => emit(decodePte(value), opts.json, cmd));

  decode
    .command("irte")
    .description("interrupt remapping table entry: 32-bit legacy, or --ga LO HI (128-bit)")
    .argument("<values...>", "one 32-bit value, or two qwords with --ga")
    .option("--ga", "128-bit guest vAPIC format (Control.GAEn = 1): qwords lo hi")
    .option("--json", JSON_HELP)
    .action((values, opts, cmd) => {
      if (opts.ga) return emit(decodeIrteGa(values), opts.json, cmd);
      if (values.length !== 1) {
        throw new InputError(
          `expected one 32-bit value (use --ga for the 128-bit form), got ${values.length}`,
        );
      }
      emit(decodeIrte(values[0]), opts.json, cmd);
    });

  for (const reg of registers()) {
    decode
      .command(reg.name)
      .description(
        `${reg.structure} register (MMIO 0x${reg.offset.toString(16).padStart(4, "0")}, ` +
          `${reg.linux})`,
      )
      .argument("<value>", "the 64-bit register value")
      .option("--json", JSON_HELP)
      .action((value, opts, cmd) => emit(decodeRegister(reg.name, value), opts.json, cmd));
  }
}
