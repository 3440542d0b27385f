// The monitor's own audit events: alerts and changes of enforcement state. They are written and
// sealed like every record, so the trail shows what the monitor saw and what it did.
import { type AuditRecord, audit, type BuildEnv, baseRecord } from '../events/record'
import type { AuditContext } from '../types'
import type { Finding } from './engine'

export const RULESET = 'boundary-audit-monitor'

/** `event.kind: "alert"`, `event.action: "access-anomaly"`; the actor is the one the rule is about. */
export function alertRecord(env: BuildEnv, f: Finding, enforcement: readonly string[]): AuditRecord {
  // No request context: the alert is the monitor's statement, not an event of the request that tripped it.
  const record = baseRecord(env, undefined, {
    action: 'access-anomaly',
    category: 'iam',
    type: 'info',
    outcome: 'unknown',
    level: 'warn',
    message: `access anomaly (${f.rule}): actor ${f.actor} ${f.message}`,
    actor: { id: f.actor },
    reason: f.message,
  })
  record.event.kind = 'alert'
  record.event.category = ['intrusion_detection']
  const window =
    f.windowSeconds !== undefined
      ? {
          end: new Date(f.time).toISOString(),
          seconds: f.windowSeconds,
          start: new Date(f.time - f.windowSeconds * 1000).toISOString(),
        }
      : undefined
  audit(record).monitor = {
    actor: f.actor,
    count: f.count,
    enforcement: enforcement.length > 0 ? [...enforcement] : undefined,
    individual: f.individual,
    rule: f.rule,
    threshold: f.threshold,
    window,
  }
  record.rule = { name: f.rule, ruleset: RULESET }
  return record
}

export type StateChange =
  | { state: 'blocked'; actor: string; until: number; by: string; reason?: string }
  | { state: 'unblocked'; actor: string; by: string; reason?: string }
  | { state: 'scram-started'; by: string; reason?: string }
  | { state: 'scram-ended'; by: string; reason?: string }

const ACTIONS = {
  blocked: 'monitor-actor-blocked',
  unblocked: 'monitor-actor-unblocked',
  'scram-started': 'monitor-scram-started',
  'scram-ended': 'monitor-scram-ended',
} as const

/**
 * A change of enforcement state. `ctx` is the operator's context for a programmatic call (its actor
 * is the operator), undefined when a rule, a signal or an expiry made the change.
 */
export function stateRecord(env: BuildEnv, ctx: AuditContext | undefined, change: StateChange): AuditRecord {
  const action = ACTIONS[change.state]
  const who = 'actor' in change ? ` actor ${change.actor}` : ''
  const record = baseRecord(env, ctx, {
    action,
    category: 'actor' in change ? 'iam' : 'configuration',
    type: 'change',
    outcome: 'success',
    level: change.state === 'blocked' || change.state === 'scram-started' ? 'warn' : 'info',
    message: `privacy monitor: ${change.state}${who} (by ${change.by})`,
    reason: change.reason,
  })
  audit(record).monitor = {
    actor: 'actor' in change ? change.actor : undefined,
    by: change.by,
    state: change.state,
    until:
      change.state === 'blocked' && Number.isFinite(change.until)
        ? new Date(change.until).toISOString()
        : undefined,
  }
  return record
}
