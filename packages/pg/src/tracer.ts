import type { AuditLogger, DbQueryRecord } from '@boundary-audit/core'
import { sanitizeError, sqlState } from './error'
import { canonicalStatement, type ResolvedOptions } from './options'
import { analyzeSql } from './sql/analyze'

/** What is known about one statement text, computed once and cached. Holds no literal. */
export interface Prepared {
  operation: string | undefined
  collection: string | undefined
  summary: string | undefined
  text: string | undefined
  fingerprint: string
  preparedName: string | undefined
  type: 'access' | 'change'
}

/** Where the server is; read from the client (or the pool's options when no client was had). */
export interface Endpoint {
  database?: unknown
  host?: unknown
  port?: unknown
}

/** One audit destination with its options; shared by every client and pool wrapped with them. */
export interface Tracer {
  audit: AuditLogger
  options: ResolvedOptions
  /** SQL text (and prepared name) -> analysis, or null when an ignore rule matches. */
  cache: Map<string, Prepared | null>
}

/** Statement texts remembered per tracer; an application has far fewer distinct statements. */
const CACHE_SIZE = 1000
/** Longer texts (bulk inserts with inlined values) are analysed every time rather than kept. */
const MAX_CACHED_TEXT = 8192

export function createTracer(audit: AuditLogger, options: ResolvedOptions): Tracer {
  return { audit, options, cache: new Map() }
}

/** The cached description of a statement, or null when it is to be ignored. Never throws. */
export function prepare(tracer: Tracer, text: string, name: string | undefined): Prepared | null {
  const key = name === undefined ? text : `${name}\u0000${text}`
  const hit = tracer.cache.get(key)
  if (hit !== undefined) return hit
  let prepared: Prepared | null
  try {
    prepared = describe(tracer.options, text, name)
  } catch {
    // An analysis bug must not hide the query: audit it with nothing derived from the text.
    prepared = {
      operation: undefined,
      collection: undefined,
      summary: undefined,
      text: undefined,
      fingerprint: '',
      preparedName: name,
      type: 'change',
    }
  }
  if (text.length <= MAX_CACHED_TEXT) {
    if (tracer.cache.size >= CACHE_SIZE) tracer.cache.delete(tracer.cache.keys().next().value as string)
    tracer.cache.set(key, prepared)
  }
  return prepared
}

function describe(options: ResolvedOptions, text: string, name: string | undefined): Prepared | null {
  if (options.ignoreStrings.size > 0 && options.ignoreStrings.has(canonicalStatement(text))) return null
  for (const pattern of options.ignorePatterns) if (pattern.test(text)) return null
  const a = analyzeSql(text, options.maxTextLength)
  if (options.ignoreFunctions.length > 0) {
    const info = {
      text,
      normalized: a.normalized,
      operation: a.operation,
      collection: a.collection,
      preparedName: name,
    }
    for (const fn of options.ignoreFunctions) {
      try {
        if (fn(info) === true) return null
      } catch {
        // A throwing rule does not ignore (and never breaks the query).
      }
    }
  }
  const mode = options.statementText
  return {
    operation: a.operation,
    collection: a.collection,
    summary: mode === 'none' ? undefined : a.summary,
    text: mode === 'normalized' ? a.normalized : undefined,
    fingerprint: a.fingerprint,
    preparedName: name,
    type: a.write ? 'change' : 'access',
  }
}

/** Rows returned (SELECT) or affected (INSERT/UPDATE/DELETE), summed over multi-statement results. */
export function rowsOf(result: unknown): number | undefined {
  if (result === null || typeof result !== 'object') return undefined
  if (Array.isArray(result)) {
    let total: number | undefined
    for (const r of result) {
      const n = rowsOf(r)
      if (n !== undefined) total = (total ?? 0) + n
    }
    return total
  }
  const r = result as { rowCount?: unknown; rows?: unknown }
  if (typeof r.rowCount === 'number') return r.rowCount
  return Array.isArray(r.rows) ? r.rows.length : undefined
}

/** Builds and hands one db-query record to core. Never throws into the application. */
export function emit(
  tracer: Tracer,
  prepared: Prepared,
  endpoint: Endpoint | undefined,
  start: bigint,
  err: unknown,
  rows: number | undefined,
): void {
  try {
    const durationNs = Number(process.hrtime.bigint() - start)
    const failed = err !== undefined && err !== null
    const slow = durationNs >= tracer.options.slowQueryNs
    const record: DbQueryRecord = {
      system: 'postgresql',
      namespace: typeof endpoint?.database === 'string' ? endpoint.database : undefined,
      serverAddress: typeof endpoint?.host === 'string' ? endpoint.host : undefined,
      serverPort: portOf(endpoint?.port),
      operation: prepared.operation,
      collection: prepared.collection,
      summary: prepared.summary,
      text: prepared.text,
      fingerprint: prepared.fingerprint || undefined,
      preparedName: prepared.preparedName,
      rows: failed ? undefined : rows,
      durationNs,
      outcome: failed ? 'failure' : 'success',
      type: prepared.type,
    }
    if (failed) {
      record.statusCode = sqlState(err)
      record.error = sanitizeError(err)
    }
    if (slow) {
      record.slow = true
      if (!failed) record.level = 'warn'
    }
    tracer.audit.dbQuery(record)
  } catch {
    // core counts its own failures; nothing here may reach the application
  }
}

function portOf(port: unknown): number | undefined {
  if (typeof port === 'number' && Number.isInteger(port)) return port
  if (typeof port === 'string' && /^\d{1,5}$/.test(port)) return Number(port)
  return undefined
}
