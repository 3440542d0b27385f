import { pseudonymize, redact } from '../redact/index'
import type { AuditContext, LoginInput, LogoutInput, Outcome } from '../types'
import { type AuditRecord, audit, type BuildEnv, baseRecord, levelForOutcome, text } from './record'

const OUTCOMES = new Set(['success', 'failure', 'unknown'])

export function outcomeOf(value: unknown, fallback: Outcome): Outcome {
  return typeof value === 'string' && OUTCOMES.has(value) ? (value as Outcome) : fallback
}

/** `user-login`: success or failure. A failed login's typed-in identifier is only ever pseudonymised. */
export function loginRecord(env: BuildEnv, ctx: AuditContext | undefined, input: LoginInput): AuditRecord {
  const outcome = outcomeOf(input?.outcome, 'unknown')
  const record = baseRecord(env, ctx, {
    action: 'user-login',
    category: ['authentication', 'session'],
    type: ['start'],
    outcome,
    level: levelForOutcome(outcome),
    message: `user-login ${outcome}`,
    actor: input?.actor,
    reason: input?.reason,
    purpose: input?.purpose,
    session: input?.session,
  })
  if (input?.attemptedIdentifier !== undefined) {
    // Brute-force analysis needs to group attempts per identifier without the log holding it.
    if (!record.user) record.user = {}
    const user = record.user as Record<string, unknown>
    user.name = pseudonymize(String(input.attemptedIdentifier), env.policy, 'identifier')
  }
  finishCommon(env, record, input)
  if (input?.method !== undefined) audit(record).auth_method = String(input.method).slice(0, 64)
  return record
}

export function logoutRecord(
  env: BuildEnv,
  ctx: AuditContext | undefined,
  input: LogoutInput | undefined,
): AuditRecord {
  const record = baseRecord(env, ctx, {
    action: 'user-logout',
    category: ['authentication', 'session'],
    type: ['end'],
    outcome: 'success',
    level: 'info',
    message: 'user-logout success',
    actor: input?.actor,
    reason: input?.reason,
    purpose: input?.purpose,
    session: input?.session,
  })
  finishCommon(env, record, input)
  return record
}

/** `message` and `details` that every input type may carry. */
export function finishCommon(
  env: BuildEnv,
  record: AuditRecord,
  input: { message?: unknown; details?: unknown } | undefined,
): void {
  if (!input) return
  if (input.details !== undefined) audit(record).details = redact(input.details, env.policy)
  if (input.message !== undefined) {
    // A caller's message is free text: it goes through the same detectors as everything else.
    record.message = `${record.message}: ${text(input.message, env.policy)}`
  }
}
