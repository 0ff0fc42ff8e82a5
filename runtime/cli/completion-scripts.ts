/**
 * Shell completion scripts for bash, zsh and fish, generated from a {@link CompletionModel}.
 *
 * The three scripts work the same way: walk the words typed so far, skipping options and the
 * values of options that take one, to find the command path (`kdump-lab/decode/dte`); then
 * complete an option's value by its kind, an option name after `-`, or a subcommand name or
 * argument choice. The tables they consult (subcommands, options, which options take a
 * value, value kinds) are written out per command path.
 *
 * @module
 */
import {
  allCommands,
  type CompletionCommand,
  type CompletionModel,
  type ValueKind,
} from "./completion-model.ts";

/** The shells with a generator. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** A supported shell. */
export type Shell = (typeof SHELLS)[number];

/** `'text'` for POSIX shells (bash, zsh): `'` becomes `'\''`. */
function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `'text'` for fish: `\` and `'` are escaped with a backslash. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => "\\" + c)}'`;
}

/** A shell identifier from the program name: `kdump-lab` → `_kdump_lab`. */
function ident(program: string): string {
  return "_" + program.replace(/[^A-Za-z0-9_]/g, "_");
}

/** The key of a command in the scripts' tables: `kdump-lab/decode/dte`. */
function key(model: CompletionModel, cmd: CompletionCommand): string {
  return [model.program, ...cmd.path].join("/");
}

/** Option names of a command: long and short flags. */
function flags(cmd: CompletionCommand, valued?: boolean): string[] {
  return cmd.options
    .filter((o) => valued === undefined || o.takesValue === valued)
    .flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
}

/** The word a value kind is known by in the scripts (`choices:a b c` for choices). */
function kindWord(v: ValueKind): string {
  return v.kind === "choices" ? `choices:${v.choices.join(" ")}` : v.kind;
}

/**
 * A POSIX `case` function, `name() { case "$1" in 'k') printf '%s\n' 'v' ;; esac; }`, for
 * every entry with a non-empty value (bash and zsh share it).
 */
function caseFunction(name: string, entries: readonly [string, string][]): string {
  const arms = entries.filter(([, v]) => v !== "").map(([k, v]) =>
    `    ${shQuote(k)}) printf '%s\\n' ${shQuote(v)} ;;`
  );
  return [`${name}() {`, '  case "$1" in', ...arms, "  esac", "}"].join("\n");
}

/** The per-command tables as POSIX functions (`_subs`, `_opts`, `_valued`, `_args`, `_kind`). */
function posixTables(model: CompletionModel, withDescriptions: boolean): string {
  const id = ident(model.program);
  const cmds = allCommands(model.root);
  const described = (name: string, d: string) =>
    withDescriptions ? `${name.replace(/:/g, "\\:")}:${d.replace(/\n/g, " ")}` : name;
  const subs = cmds.map((c): [string, string] => [
    key(model, c),
    c.subcommands.map((s) => described(s.name, s.description)).join(withDescriptions ? "\n" : " "),
  ]);
  const subNames = cmds.map((c): [string, string] => [
    key(model, c),
    c.subcommands.map((s) => s.name).join(" "),
  ]);
  const opts = cmds.map((c): [string, string] => [
    key(model, c),
    withDescriptions
      ? c.options.flatMap((o) =>
        [o.long, o.short].filter((f): f is string => !!f).map((f) => described(f, o.description))
      ).join("\n")
      : flags(c).join(" "),
  ]);
  const valued = cmds.map((c): [string, string] => [key(model, c), flags(c, true).join(" ")]);
  const args = cmds.map((c): [string, string] => [key(model, c), c.argChoices.join(" ")]);
  const kinds = cmds.flatMap((c) =>
    c.options.filter((o) => o.takesValue).flatMap((o) =>
      [o.long, o.short].filter((f): f is string => !!f).map((f): [string, string] => [
        `${key(model, c)} ${f}`,
        kindWord(o.value),
      ])
    )
  );
  return [
    `${id}_plugins=${shQuote(model.plugins.join(" "))}`,
    `${id}_scenarios=${shQuote(model.scenarios.join(" "))}`,
    ...(withDescriptions ? [caseFunction(`${id}_subs`, subs)] : []),
    caseFunction(`${id}_subnames`, subNames),
    caseFunction(`${id}_opts`, opts),
    caseFunction(`${id}_valued`, valued),
    caseFunction(`${id}_args`, args),
    caseFunction(`${id}_kind`, kinds).replace('case "$1" in', 'case "$1 $2" in'),
  ].join("\n\n");
}

/**
 * One step of the bash and zsh walk over the words before the cursor, for `$word`: an option
 * is passed over (and its value with it, `skip=1`, when it takes one); a subcommand's name
 * extends `$cmdpath`.
 */
function walkWord(id: string): string {
  return `    case "$word" in
      --*=*) continue ;;
      -*) [[ " $(${id}_valued "$cmdpath") " == *" $word "* ]] && skip=1; continue ;;
    esac
    [[ " $(${id}_subnames "$cmdpath") " == *" $word "* ]] && cmdpath="$cmdpath/$word"`;
}

/** The bash script (`complete -F`). */
function bashScript(model: CompletionModel): string {
  const id = ident(model.program);
  return `# bash completion for ${model.program}, generated by \`${model.program} completions bash\`.
# Load it in this shell:   source <(${model.program} completions bash)
# or install it:           ${model.program} completions bash > ~/.local/share/bash-completion/completions/${model.program}

${posixTables(model, false)}

${id}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmdpath=${shQuote(model.program)} word kind head i skip=0
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
${walkWord(id)}
  done
  if ((skip)); then
    kind="$(${id}_kind "$cmdpath" "\${COMP_WORDS[COMP_CWORD-1]}")"
    head=""
    [[ "$cur" == *,* ]] && head="\${cur%,*},"
    case "$kind" in
      plugin) mapfile -t COMPREPLY < <(compgen -W "$${id}_plugins" -- "$cur") ;;
      plugin-list) mapfile -t COMPREPLY < <(compgen -P "$head" -W "$${id}_plugins" -- "\${cur##*,}") ;;
      series-spec) mapfile -t COMPREPLY < <(compgen -P "$head" -W "all later none $${id}_plugins" -- "\${cur##*,}") ;;
      scenario) mapfile -t COMPREPLY < <(compgen -W "$${id}_scenarios" -- "$cur") ;;
      file) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
      choices:*) mapfile -t COMPREPLY < <(compgen -W "\${kind#choices:}" -- "$cur") ;;
    esac
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(${id}_opts "$cmdpath")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(${id}_subnames "$cmdpath") $(${id}_args "$cmdpath")" -- "$cur")
  fi
  return 0
}

complete -o default -F ${id} ${model.program}
`;
}

/** The zsh script (autoloadable as `_${program}` from `$fpath`, or sourced after compinit). */
function zshScript(model: CompletionModel): string {
  const id = ident(model.program);
  return `#compdef ${model.program}
# zsh completion for ${model.program}, generated by \`${model.program} completions zsh\`.
# Install it:   ${model.program} completions zsh > "\${fpath[1]}/_${model.program}"   (then restart zsh)
# or, after compinit, load it in this shell:   source <(${model.program} completions zsh)

${posixTables(model, true)}

${id}() {
  local cur="\${words[CURRENT]}" cmdpath=${shQuote(model.program)} word kind i skip=0
  local -a subs opts choices
  for (( i = 2; i < CURRENT; i++ )); do
    word="\${words[i]}"
    if (( skip )); then skip=0; continue; fi
${walkWord(id)}
  done
  if (( skip )); then
    kind="$(${id}_kind "$cmdpath" "\${words[CURRENT-1]}")"
    case "$kind" in
      plugin) compadd -- \${=${id}_plugins} ;;
      plugin-list) compset -P '*,'; compadd -- \${=${id}_plugins} ;;
      series-spec) compset -P '*,'; compadd -- all later none \${=${id}_plugins} ;;
      scenario) compadd -- \${=${id}_scenarios} ;;
      file) _files ;;
      choices:*) compadd -- \${=kind#choices:} ;;
      *) _message 'value' ;;
    esac
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    opts=(\${(f)"$(${id}_opts "$cmdpath")"})
    (( \${#opts} )) && _describe -t options 'option' opts
  else
    subs=(\${(f)"$(${id}_subs "$cmdpath")"})
    choices=(\${=$(${id}_args "$cmdpath")})
    (( \${#subs} )) && _describe -t commands 'command' subs
    (( \${#choices} )) && compadd -- $choices
  fi
  return 0
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${id} "$@"
else
  compdef ${id} ${model.program}
fi
`;
}

/** fish `complete` lines for one command. */
function fishCommand(model: CompletionModel, cmd: CompletionCommand): string[] {
  const fn = ident(model.program).replace(/^_/, "__");
  const at = fishQuote(`${fn}_at ${key(model, cmd)}`);
  const lines: string[] = [];
  for (const s of cmd.subcommands) {
    lines.push(
      `complete -c ${model.program} -n ${at} -a ${fishQuote(s.name)} -d ${
        fishQuote(s.description)
      }`,
    );
  }
  if (cmd.argChoices.length) {
    lines.push(`complete -c ${model.program} -n ${at} -a ${fishQuote(cmd.argChoices.join(" "))}`);
  }
  for (const o of cmd.options) {
    const parts = [`complete -c ${model.program} -n ${at}`];
    if (o.long) parts.push(`-l ${o.long.replace(/^--/, "")}`);
    if (o.short) parts.push(`-s ${o.short.replace(/^-/, "")}`);
    if (o.takesValue) {
      const v = o.value;
      if (v.kind === "file") parts.push("-r -F");
      else {
        parts.push("-x");
        const values = v.kind === "plugin"
          ? `(${fn}_list plugins)`
          : v.kind === "plugin-list"
          ? `(${fn}_comma (${fn}_list plugins))`
          : v.kind === "series-spec"
          ? `(${fn}_comma all later none (${fn}_list plugins))`
          : v.kind === "scenario"
          ? `(${fn}_list scenarios)`
          : v.kind === "choices"
          ? v.choices.join(" ")
          : "";
        if (values) parts.push(`-a ${fishQuote(values)}`);
      }
    }
    if (o.description) parts.push(`-d ${fishQuote(o.description)}`);
    lines.push(parts.join(" "));
  }
  return lines;
}

/** A fish `switch` function printing one word a line per command path. */
function fishSwitch(name: string, entries: readonly [string, string[]][]): string {
  const arms = entries.filter(([, v]) => v.length > 0).flatMap(([k, v]) => [
    `        case ${fishQuote(k)}`,
    `            printf '%s\\n' ${v.map(fishQuote).join(" ")}`,
  ]);
  return [`function ${name}`, "    switch $argv[1]", ...arms, "    end", "end"].join("\n");
}

/** The fish script (`complete -c`). */
function fishScript(model: CompletionModel): string {
  const fn = ident(model.program).replace(/^_/, "__");
  const cmds = allCommands(model.root);
  const subs = fishSwitch(
    `${fn}_subs`,
    cmds.map((c) => [key(model, c), c.subcommands.map((s) => s.name)]),
  );
  const valued = fishSwitch(
    `${fn}_valued`,
    cmds.map((c) => [key(model, c), flags(c, true)]),
  );
  return `# fish completion for ${model.program}, generated by \`${model.program} completions fish\`.
# Install it:   ${model.program} completions fish > ~/.config/fish/completions/${model.program}.fish

${subs}

${valued}

function ${fn}_list
    switch $argv[1]
        case plugins
            printf '%s\\n' ${model.plugins.map(fishQuote).join(" ")}
        case scenarios
            printf '%s\\n' ${model.scenarios.map(fishQuote).join(" ")}
    end
end

# Completes the last item of a comma list: prints "<items typed so far>,<candidate>".
function ${fn}_comma
    set -l head (string replace -r '[^,]*$' '' -- (commandline -ct))
    for candidate in $argv
        printf '%s%s\\n' "$head" $candidate
    end
end

# The command path of the words typed so far, e.g. ${model.program}/decode/dte.
function ${fn}_path
    set -l words (commandline -opc)
    set -l cmdpath ${fishQuote(model.program)}
    set -l skip 0
    for word in $words[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $word
            case '--*=*'
                continue
            case '-*'
                if contains -- $word (${fn}_valued $cmdpath)
                    set skip 1
                end
                continue
        end
        if contains -- $word (${fn}_subs $cmdpath)
            set cmdpath "$cmdpath/$word"
        end
    end
    printf '%s\\n' $cmdpath
end

function ${fn}_at
    test (${fn}_path) = $argv[1]
end

complete -c ${model.program} -f
${cmds.flatMap((c) => fishCommand(model, c)).join("\n")}
`;
}

/** The completion script for `shell`. */
export function completionScript(shell: Shell, model: CompletionModel): string {
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
}
