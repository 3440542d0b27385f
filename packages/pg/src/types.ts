// Public types of @boundary-audit/pg. Internal shapes live next to the code that uses them (options.ts, state.ts, query-shape.ts, tracer.ts).

/** What an ignore function is shown about a statement. */
export interface QueryInfo {
  /** The SQL text as the application wrote it (may hold literals: use it to decide, never to log). */
  text: string
  /** Normalised text: literals replaced by `?`, comments removed, whitespace collapsed. */
  normalized: string
  /** First keyword, e.g. `SELECT`, `INSERT`, `BEGIN`. */
  operation: string | undefined
  /** Main table, e.g. `patients` or `public.patients`. */
  collection: string | undefined
  /** Prepared statement name, when the query config has one. */
  preparedName: string | undefined
}

/**
 * A statement not to audit (health checks, driver housekeeping):
 * - a string: the whole statement, compared ignoring case, surrounding whitespace, a trailing `;`
 *   and runs of whitespace (`'SELECT 1'` matches `select 1;`);
 * - a RegExp: tested against the SQL text as written;
 * - a function: return true to skip.
 */
export type IgnoreRule = string | RegExp | ((query: QueryInfo) => boolean)

/** How much statement text an event carries. */
export type StatementTextMode = 'normalized' | 'summary' | 'none'

export interface PgAuditOptions {
  /** Statements to skip. Default: none. */
  ignore?: IgnoreRule | readonly IgnoreRule[]
  /** Queries taking at least this many milliseconds are written at `warn` and marked `slow`. Default: off. */
  slowQueryMs?: number
  /**
   * `normalized` (default): `db.query.text` (normalised) and `db.query.summary`;
   * `summary`: only `db.query.summary`; `none`: neither (operation, table and fingerprint remain).
   */
  statementText?: StatementTextMode
  /** Longest `db.query.text` in characters; longer texts are cut at a token boundary. Default 2048. */
  maxTextLength?: number
}

/** Returned by `instrumentPg`: undoes the patch. */
export type Uninstrument = () => void
