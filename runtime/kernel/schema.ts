/**
 * The schema type of the package's API: what a hook point's value check, the Report's schema
 * and the scenario's schema offer callers — `parse` and `safeParse` — without zod's own types.
 * Each is a zod schema underneath, and any zod schema is one of these.
 *
 * @module
 */

/** One problem a schema found in a value. */
export interface SchemaIssue {
  /** Where: the keys and array indices from the top-level value to the offending one. */
  readonly path: readonly PropertyKey[];
  /** What is wrong, in words. */
  readonly message: string;
  /** The kind of problem, as zod names it (`invalid_type`, `too_big`, `custom`, ...). */
  readonly code: string;
}

/** The error of a failed parse (a ZodError): every problem the schema found. */
export interface SchemaError extends Error {
  /** The problems, in the order the schema found them. */
  readonly issues: readonly SchemaIssue[];
}

/** What {@link Schema.safeParse} returns: the parsed value, or the error. */
export type SafeParseResult<T> =
  | { readonly success: true; readonly data: T; readonly error?: undefined }
  | { readonly success: false; readonly data?: undefined; readonly error: SchemaError };

/** A schema that parses unknown data into a `T` (a zod schema). */
export interface Schema<T> {
  /** The parsed value (defaults filled in, strings converted); throws a SchemaError if invalid. */
  parse(data: unknown): T;
  /** The parsed value or the error, without throwing. */
  safeParse(data: unknown): SafeParseResult<T>;
}
