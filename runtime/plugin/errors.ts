/**
 * Errors of the plugin runtime. Every error raised inside a plugin reaches the lab as a
 * {@link PluginError} naming the plugin and the hook point; the run's verdict is then
 * `plugin-error` and the runtime goes on.
 *
 * @module
 */

/**
 * An error thrown by a plugin's handler, attributed to the plugin and the hook point. Only the
 * hook runner's own count (see `isAttributed`): one a plugin constructs and throws is wrapped
 * in a PluginError naming the plugin that threw it.
 */
export class PluginError extends Error {
  /** The error `cause` of plugin `plugin`'s code at `hook`; its message names all three. */
  constructor(
    /** Id of the plugin whose code threw. */
    readonly plugin: string,
    /** Hook point (or symbol) where it happened. */
    readonly hook: string,
    /** The original error. */
    override readonly cause: unknown,
  ) {
    super(`plugin ${plugin} at ${hook}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "PluginError";
  }

  /** The original error's message. */
  get detail(): string {
    return this.cause instanceof Error ? this.cause.message : String(this.cause);
  }
}

/** A plugin manifest that does not validate: which plugin, which field, what is wrong. */
export class ManifestError extends Error {
  /**
   * The error of manifest field `field` of plugin `plugin`: `problem` says what is wrong.
   *
   * @param plugin the plugin's id (`<no id>` when the manifest has no string id)
   * @param field the field at fault, e.g. `requires` or `hooks.amd_iommu.set_dte_entry`
   *   (`(manifest)`: the manifest as a whole)
   * @param problem what is wrong with it, in words
   */
  constructor(readonly plugin: string, readonly field: string, readonly problem: string) {
    super(`plugin ${plugin}: ${field}: ${problem}`);
    this.name = "ManifestError";
  }
}

/** A series that cannot be resolved (unknown id, an ordering cycle, a duplicate). */
export class SeriesError extends Error {
  /** An error with `message` saying what cannot be resolved. */
  constructor(message: string) {
    super(message);
    this.name = "SeriesError";
  }
}

/** Thrown by `ctx.symbol()` when no applied plugin provides the symbol. */
export class MissingSymbolError extends Error {
  /** The error of looking up `symbol`, which no applied plugin provides. */
  constructor(readonly symbol: string) {
    super(`undefined symbol ${symbol} (no applied plugin provides it)`);
    this.name = "MissingSymbolError";
  }
}
