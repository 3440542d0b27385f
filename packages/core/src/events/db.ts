import { redactText } from '../redact/index'
import type { AuditContext, DbQueryRecord, Level } from '../types'
import { outcomeOf } from './auth'
import { type AuditRecord, audit, type BuildEnv, baseRecord, renderError } from './record'

/** One `db-query` event from what the pg adapter measured. The statement text is already normalised. */
export function dbRecord(env: BuildEnv, ctx: AuditContext | undefined, input: DbQueryRecord): AuditRecord {
  const policy = env.policy
  const failed = input?.error !== undefined || input?.outcome === 'failure'
  const outcome = outcomeOf(input?.outcome, failed ? 'failure' : 'success')
  const kind = input?.type === 'change' ? 'change' : 'access'
  const level: Level = input?.level ?? (failed ? 'warn' : input?.slow ? 'warn' : 'info')
  const operation = token(input?.operation, env)
  // Table and schema names are the app's (or the data's: `jane.doe_example.org_123-45-6789`): the same
  // detectors as the query text, then the identifier characters.
  const collection = nameOf(input?.collection, env)
  const summary =
    typeof input?.summary === 'string'
      ? redactText(input.summary.slice(0, 256), policy)
      : [operation, collection].filter(Boolean).join(' ') || undefined

  const record = baseRecord(env, ctx, {
    action: 'db-query',
    category: ['database'],
    type: failed ? [kind, 'error'] : [kind],
    outcome,
    level,
    message: summary ?? 'db-query',
    durationNs:
      typeof input?.durationNs === 'number' && Number.isFinite(input.durationNs)
        ? Math.round(input.durationNs)
        : undefined,
  })

  // Keys in sorted order (see record.ts).
  const text = typeof input?.text === 'string' ? redactText(input.text.slice(0, 4096), policy) : undefined
  const rows = typeof input?.rows === 'number' && Number.isFinite(input.rows) ? input.rows : undefined
  const statusCode = input?.statusCode ? token(input.statusCode, env) : undefined
  record.db = {
    collection: collection ? { name: collection } : undefined,
    namespace: input?.namespace ? nameOf(String(input.namespace), env) : undefined,
    operation: operation ? { name: operation } : undefined,
    // Normalised text has no literals, but identifiers and leftovers still pass the detectors.
    query: summary || text !== undefined ? { summary, text } : undefined,
    response:
      rows !== undefined || statusCode !== undefined
        ? { returned_rows: rows, status_code: statusCode }
        : undefined,
    system: { name: token(input?.system, env) ?? 'postgresql' },
  }
  if (input?.serverAddress) {
    record.server = {
      address: String(input.serverAddress).slice(0, 256),
      port: typeof input.serverPort === 'number' ? input.serverPort : undefined,
    }
  }
  if (input?.fingerprint || input?.preparedName || input?.slow) {
    audit(record).db = {
      fingerprint: input.fingerprint ? token(input.fingerprint, env) : undefined,
      slow: input.slow ? true : undefined,
      statement_name: input.preparedName
        ? redactText(String(input.preparedName).slice(0, 128), policy)
        : undefined,
    }
  }
  if (input?.error !== undefined) record.error = renderError(input.error, policy)
  return record
}

// Names and tokens repeat on every run of a statement: those that came out unchanged are remembered
// per logger (only those: one that cleaning changed may hold what a detector found, and is cleaned
// again each time), which spares a regular expression per field and event.

function nameOf(value: unknown, env: BuildEnv): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined
  if (env.dbNames.has(value)) return value
  const name = redactText(value.slice(0, 256), env.policy)
    .replace(/[^A-Za-z0-9_.$:[\]-]+/g, '_')
    .slice(0, 128)
  if (name === value) env.dbNames.add(value)
  return name
}

function token(value: unknown, env: BuildEnv): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined
  if (env.dbTokens.has(value)) return value
  const t = value.replace(/[^A-Za-z0-9_.$-]+/g, '_').slice(0, 128)
  if (t === value) env.dbTokens.add(value)
  return t
}
