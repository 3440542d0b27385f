// What of a pg error may be written. PostgreSQL puts row values in `detail` ("Key (ssn)=(123-45-6789)
// already exists."), in `where` (PL/pgSQL context lines with arguments) and, quoted, in some messages
// ('invalid input syntax for type integer: "123-45-6789"', 'syntax error at or near "'Smith'"').
// Only the SQLSTATE, the error class and the message with every quoted value removed survive.

/** The error as handed to core: a plain object, never the original (whose stack repeats the message). */
export interface SanitizedError {
  name: string
  message: string
  code?: string
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** Words after which PostgreSQL quotes an identifier (a name from the schema, not a value). */
const IDENTIFIER_BEFORE =
  /(?:relation|column|constraint|table|index|schema|type|function|procedure|operator|sequence|view|database|role|user|extension|trigger|cursor|statement|savepoint|portal|domain|collation|tablespace|policy|rule|publication|subscription|parameter|channel|server|aggregate|routine|of)\s+$/i

const MAX_MESSAGE = 300

/** SQLSTATE of a PostgreSQL error, or undefined for driver errors (ECONNREFUSED, timeouts). */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined
}

/** Removes values from a PostgreSQL or driver error message, keeping identifiers. */
export function sanitizeMessage(message: string): string {
  let m = message.split('\n', 1)[0]!.slice(0, 2000)
  // Key (ssn)=(123-45-6789) and its variants in messages (normally only in detail)
  m = m.replace(/\bKey\s*\([^)]*\)\s*=\s*\([\s\S]*?\)(?=\s|$|[.,;])/g, 'Key (?)=(?)')
  m = m.replace(/\bFailing row contains\s*\([\s\S]*$/i, 'Failing row contains (?)')
  // "quoted" parts: keep those that name a schema object, replace the rest
  m = m.replace(/"((?:[^"]|"")*)"/g, (whole, _inner: string, offset: number) =>
    IDENTIFIER_BEFORE.test(m.slice(Math.max(0, offset - 40), offset)) ? whole : '"?"',
  )
  // 'single quoted' values (some extensions and driver messages use them)
  m = m.replace(/'(?:[^']|'')*'/g, "'?'")
  // a message cut inside a quote could leave an unterminated value: drop from the stray quote on
  const quotes = (m.match(/"/g) ?? []).length
  if (quotes % 2 === 1) m = `${m.slice(0, m.lastIndexOf('"'))}"?"`
  if (m.length > MAX_MESSAGE) m = `${m.slice(0, MAX_MESSAGE)}...`
  return m
}

/** A plain, value-free description of any error pg or the pool produced. */
export function sanitizeError(err: unknown): SanitizedError {
  if (err === null || typeof err !== 'object') {
    return { name: 'Error', message: sanitizeMessage(String(err)) }
  }
  const e = err as { name?: unknown; message?: unknown; code?: unknown; constructor?: { name?: unknown } }
  // pg's DatabaseError carries the protocol message name ('error') in `name`: use the class then.
  const ctor = typeof e.constructor?.name === 'string' ? e.constructor.name : ''
  const name =
    typeof e.name === 'string' && /^[A-Z]/.test(e.name) ? e.name : ctor && ctor !== 'Object' ? ctor : 'Error'
  const message = typeof e.message === 'string' ? sanitizeMessage(e.message) : ''
  const out: SanitizedError = { name: name.slice(0, 64), message }
  // SQLSTATE, or a Node/system code such as ECONNREFUSED
  if (typeof e.code === 'string' && /^[A-Z0-9_]{1,32}$/.test(e.code)) out.code = e.code
  return out
}
