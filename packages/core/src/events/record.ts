import { randomUUID } from 'node:crypto'
import { contextActor } from '../context'
import type { ResolvedOptions } from '../options'
import type { Policy } from '../redact/index'
import { describeError, pseudonymize, redact } from '../redact/index'
import { activeTraceIds } from '../trace'
import type { Actor, AuditContext, EventCategory, EventType, Level, Outcome } from '../types'

/** ECS version the lines follow. */
export const ECS_VERSION = '8.17.0'

/** A record about to be written: plain, JSON-safe, already redacted. */
export type AuditRecord = Record<string, unknown> & {
  event: Record<string, unknown>
  audit?: Record<string, unknown>
}

/** What every event builder needs; created once per logger. */
export interface BuildEnv {
  policy: Policy
  service: Record<string, unknown>
}

export function buildService(options: ResolvedOptions): Record<string, unknown> {
  const s = options.service
  const service: Record<string, unknown> = { name: s.name, node: { name: s.instance } }
  if (s.version) service.version = s.version
  if (s.environment) service.environment = s.environment
  return service
}

export interface BaseInput {
  action: string
  category: readonly EventCategory[] | EventCategory
  type: readonly EventType[] | EventType
  outcome: Outcome
  level: Level
  message: string
  actor?: Actor
  reason?: string
  durationNs?: number
  purpose?: string
  session?: string
}

/**
 * The fields every event shares: time, ids, service, actor, request context and trace.
 * Caller-supplied text goes through the value detectors here; fixed fields do not.
 */
export function baseRecord(env: BuildEnv, ctx: AuditContext | undefined, input: BaseInput): AuditRecord {
  const policy = env.policy
  const event: Record<string, unknown> = {
    kind: 'event',
    category: Array.isArray(input.category) ? input.category : [input.category],
    type: Array.isArray(input.type) ? input.type : [input.type],
    action: input.action,
    outcome: input.outcome,
    id: randomUUID(),
  }
  if (input.durationNs !== undefined) event.duration = input.durationNs
  if (input.reason !== undefined) event.reason = text(String(input.reason), policy)

  const record: AuditRecord = {
    '@timestamp': new Date().toISOString(),
    'log.level': input.level,
    message: input.message,
    'ecs.version': ECS_VERSION,
    event,
    service: env.service,
  }

  const actor = input.actor ?? contextActor(ctx)
  if (actor) record.user = renderActor(actor, policy)

  if (ctx) {
    if (ctx.clientIp) {
      record.source = { ip: ctx.clientIp }
      record.client = { ip: ctx.clientIp }
    }
    if (ctx.userAgent) record.user_agent = { original: text(ctx.userAgent, policy) }
    if (ctx.requestId) record.http = { request: { id: ctx.requestId } }
  }

  const trace = activeTraceIds()
  if (trace) {
    record.trace = { id: trace.traceId }
    record.span = { id: trace.spanId }
  } else if (ctx?.traceId) {
    record.trace = { id: ctx.traceId }
    if (ctx.spanId) record.span = { id: ctx.spanId }
  }

  const purpose = input.purpose ?? ctx?.purpose
  const session = input.session ?? ctx?.session
  if (purpose !== undefined || session !== undefined) {
    const audit: Record<string, unknown> = {}
    if (purpose !== undefined) audit.purpose = text(String(purpose), policy)
    if (session !== undefined) audit.session = pseudonymize(String(session), policy, 'session')
    record.audit = audit
  }
  return record
}

/** ECS `user.*` from an actor. The id is kept (it says who), but still passes the value detectors. */
export function renderActor(actor: Actor, policy: Policy): Record<string, unknown> {
  const user: Record<string, unknown> = { id: cleanId(actor.id, policy) }
  if (actor.name !== undefined) user.name = text(String(actor.name), policy)
  if (actor.domain !== undefined) user.domain = text(String(actor.domain), policy)
  if (actor.roles !== undefined && Array.isArray(actor.roles)) {
    user.roles = actor.roles.slice(0, 50).map((r) => text(String(r), policy))
  }
  if (actor.type !== undefined) user.type = String(actor.type)
  if (actor.effective && typeof actor.effective === 'object') {
    const eff = renderActor(actor.effective as Actor, policy)
    user.effective = eff
  }
  return user
}

function cleanId(id: unknown, policy: Policy): string {
  if (typeof id !== 'string' && typeof id !== 'number') return '[invalid]'
  return text(String(id), policy)
}

export function audit(record: AuditRecord): Record<string, unknown> {
  record.audit ??= {}
  return record.audit
}

export function renderError(err: unknown, policy: Policy): Record<string, unknown> {
  const d = describeError(err, policy)
  const out: Record<string, unknown> = { type: d.type }
  if (d.message !== undefined) out.message = d.message
  if (d.code !== undefined) out.code = d.code
  return out
}

export function levelForOutcome(outcome: Outcome): Level {
  return outcome === 'failure' ? 'warn' : 'info'
}

/** Caller-supplied free text: sanitised (length, control characters) and run through the detectors. */
export function text(value: unknown, policy: Policy): string {
  return String(redact(typeof value === 'string' ? value : String(value), policy))
}
