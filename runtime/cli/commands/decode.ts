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
  decodeEventLines,
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
  emitAll([d], json, cmd);
}

/**
 * Prints decoded structures: one JSON object (an array of them when there are several), or
 * the human views one after the other; reserved-bit warnings go to stderr with --json.
 */
function emitAll(all: Decoded[], json: boolean | undefined, cmd: CommandUnknownOpts): void {
  if (!json) return print(...all.flatMap((d, i) => [...(i ? [""] : []), ...renderDecoded(d)]));
  const objects = all.map((d) => d.json);
  print(JSON.stringify(objects.length === 1 ? objects[0] : objects, null, 2));
  for (const d of all) {
    const warning = reservedWarning(d);
    if (warning) printErr(errorLine(commandPath(cmd), `warning: ${warning}`));
  }
}

/**
 * Values to paste, as the kernel model prints them or holds them: the dev_err line of
 * `run --series all --dmesg`; lines of the kernel model's own tests (a pr_err fault without
 * driver data, an ILLEGAL_DEV_TABLE_ENTRY's two records, tests/kernel/amd_iommu/events.test.ts);
 * the NIC's DTE and the Control register of the kdump kernel with `all`.
 */
const DECODE_EXAMPLES = `
Examples (lines as the kernel model prints them; timestamps and prefixes may stay):
  kdump-lab decode event '[    0.564364] bnx2 0000:01:00.0: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x0003 address=0x00000000fffba000 flags=0x0020]'
  kdump-lab decode event 'AMD-Vi: Event logged [IO_PAGE_FAULT device=01:00.0 domain=0x0001 address=0x000000001000a000 flags=0x0020]'
  kdump-lab run --series all --dmesg | grep 'Event logged' | kdump-lab decode event --json
  printf 'AMD-Vi: Event logged [\\nILLEGAL_DEV_TABLE_ENTRY device=01:01.0 address=0x0000000000005000 flags=0x00a0]\\n' | kdump-lab decode event
  kdump-lab decode event 0x00000108 0x10a00000 0x00005000 0x00000000
  printf 'AMD-Vi: DTE[0]: 6000000037ffd603\\nAMD-Vi: DTE[1]: 0000000000000003\\nAMD-Vi: DTE[2]: 200000043dfef011\\nAMD-Vi: DTE[3]: 0000000000000000\\n' | kdump-lab decode dte
  kdump-lab decode dte 6000000037ffd603 0000000000000003 200000043dfef011
  kdump-lab decode control 0x000000000000f48d
  kdump-lab decode pte 0x6000000012345001
  kdump-lab decode irte 0x00410001`;

/** Registers the `decode` command and its subcommands on `program`. */
export function registerDecode(program: CommandUnknownOpts): void {
  const decode = program
    .command("decode")
    .description("decode IOMMU structures and registers from values printed in kernel logs")
    .addHelpText("after", DECODE_EXAMPLES);

  decode
    .command("dte")
    .description(
      "device table entry: W0 W1 W2 [W3] (W3 defaults to 0), or the dmesg lines " +
        '"AMD-Vi: DTE[0]: …" .. "DTE[3]: …" as arguments or, with no arguments, on stdin',
    )
    .argument("[words...]", 'the 64-bit words q0..q3, or "AMD-Vi: DTE[i]: …" lines')
    .option("--json", JSON_HELP)
    .addHelpText("after", DECODE_EXAMPLES)
    .action(async (words, opts, cmd) => {
      const joined = words.join(" ");
      const qwords = words.length === 0
        ? dteWordsFromText(
          await readStdin('no DTE words: give W0 W1 W2 [W3] or pipe "AMD-Vi: DTE[i]: …" lines'),
        )
        : /DTE\[\d+\]/.test(joined)
        ? dteWordsFromText(words.join("\n"))
        : dteWords(words);
      emit(decodeDte(qwords), opts.json, cmd);
    });

  decode
    .command("event")
    .description(
      'event-log entry: the line the kernel prints ("AMD-Vi: Event logged [IO_PAGE_FAULT …]", ' +
        "the dev_err form, the two records of other types, timestamps allowed), 4 dwords in " +
        "Linux order (event[0]..event[3], dw0 = DeviceID) or 2 qwords; with no arguments, " +
        "every event in the log lines on stdin (--json: an array when there are several)",
    )
    .argument("[values...]", "a kernel line, 4 dwords or 2 qwords")
    .option("--json", JSON_HELP)
    .addHelpText("after", DECODE_EXAMPLES)
    .action(async (values, opts, cmd) => {
      if (values.length > 0) return emit(decodeEvent(values), opts.json, cmd);
      const text = await readStdin(
        'no event: give a line "AMD-Vi: Event logged [...]", 4 dwords or 2 qwords, or pipe log lines',
      );
      const tokens = text.split(/\s+/).filter((t) => t !== "");
      if (/^(0x)?[0-9a-f]+$/i.test(tokens[0] ?? "") && tokens.length <= 4) {
        return emit(decodeEvent(tokens), opts.json, cmd);
      }
      emitAll(decodeEventLines(text), opts.json, cmd);
    });

  decode
    .command("pte")
    .description("I/O page-table entry: a PDE when Next Level is 1..6, a PTE when it is 0 or 7")
    .argument("<value>", "the 64-bit entry")
    .option("--json", JSON_HELP)
    .addHelpText("after", DECODE_EXAMPLES)
    .action((value, opts, cmd) => emit(decodePte(value), opts.json, cmd));

  decode
    .command("irte")
    .description("interrupt remapping table entry: 32-bit legacy, or --ga LO HI (128-bit)")
    .argument("<values...>", "one 32-bit value, or two qwords with --ga")
    .option("--ga", "128-bit guest vAPIC format (Control.GAEn = 1): qwords lo hi")
    .option("--json", JSON_HELP)
    .addHelpText("after", DECODE_EXAMPLES)
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
      .addHelpText("after", DECODE_EXAMPLES)
      .action((value, opts, cmd) => emit(decodeRegister(reg.name, value), opts.json, cmd));
  }
}
