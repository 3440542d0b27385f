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
  const operation = token(input?.operation)
  const collection = token(input?.collection)
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

  const db: Record<string, unknown> = { system: { name: token(input?.system) ?? 'postgresql' } }
  if (input?.namespace) db.namespace = redactText(String(input.namespace).slice(0, 128), policy)
  if (operation) db.operation = { name: operation }
  if (collection) db.collection = { name: collection }
  const query: Record<string, unknown> = {}
  if (summary) query.summary = summary
  // Normalised text has no literals, but identifiers and leftovers still pass the detectors.
  if (typeof input?.text === 'string') query.text = redactText(input.text.slice(0, 4096), policy)
  if (Object.keys(query).length > 0) db.query = query
  const response: Record<string, unknown> = {}
  if (typeof input?.rows === 'number' && Number.isFinite(input.rows)) response.returned_rows = input.rows
  if (input?.statusCode) response.status_code = token(input.statusCode)
  if (Object.keys(response).length > 0) db.response = response
  record.db = db

  if (input?.serverAddress) {
    const server: Record<string, unknown> = { address: String(input.serverAddress).slice(0, 256) }
    if (typeof input.serverPort === 'number') server.port = input.serverPort
    record.server = server
  }
  const extra: Record<string, unknown> = {}
  if (input?.fingerprint) extra.fingerprint = token(input.fingerprint)
  if (input?.preparedName) extra.statement_name = redactText(String(input.preparedName).slice(0, 128), policy)
  if (input?.slow) extra.slow = true
  if (Object.keys(extra).length > 0) audit(record).db = extra
  if (input?.error !== undefined) record.error = renderError(input.error, policy)
  return record
}

function token(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined
  return value.replace(/[^A-Za-z0-9_.$-]+/g, '_').slice(0, 128)
}
