import { BoundedCache } from '../cache'
import { contextActor } from '../context'
import type { ResolvedOptions } from '../options'
import type { Policy } from '../redact/index'
import { describeError, pseudonymize, redact } from '../redact/index'
import { activeTraceIds } from '../trace'
import type { Actor, AuditContext, EventCategory, EventType, Level, Outcome } from '../types'
import { randomUuid } from '../uuid'
import { createIsoClock, type IsoClock } from './time'
import { tokenList } from './tokens'

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
  /** Action and resource-type tokens that cleaning left unchanged (see events/tokens.ts). */
  tokens: BoundedCache
  /** Database tokens (operation, system, fingerprint) and names that cleaning left unchanged (events/db.ts). */
  dbTokens: BoundedCache
  dbNames: BoundedCache
  /** `@timestamp` of now (events/time.ts). */
  clock: IsoClock
}

/** Action and resource-type tokens remembered per logger: a vocabulary of tens, rarely hundreds. */
const TOKEN_SLOTS = 256

/** The build environment of one logger. */
export function buildEnv(policy: Policy, options: ResolvedOptions): BuildEnv {
  return {
    policy,
    service: buildService(options),
    tokens: new BoundedCache(TOKEN_SLOTS, 128),
    dbTokens: new BoundedCache(TOKEN_SLOTS, 128),
    dbNames: new BoundedCache(TOKEN_SLOTS, 128),
    clock: createIsoClock(),
  }
}

export function buildService(options: ResolvedOptions): Record<string, unknown> {
  const s = options.service
  // Keys in sorted order here and in every object below: JSON.stringify of a sorted object is its
  // canonical form, which lets the integrity chain skip re-serialising (integrity/canonical.ts).
  return {
    environment: s.environment || undefined,
    name: s.name,
    node: { name: s.instance },
    version: s.version || undefined,
  }
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

/** What a record says about the request it belongs to: the context's, unless a builder knows better. */
export type RequestFacts = Pick<AuditContext, 'clientIp' | 'userAgent' | 'requestId' | 'traceId' | 'spanId'>

/**
 * The fields every event shares: time, ids, service, actor, request context and trace.
 * Caller-supplied text goes through the value detectors here; fixed fields do not.
 * `facts` (client, user agent, request id, trace) default to the context's.
 */
export function baseRecord(
  env: BuildEnv,
  ctx: AuditContext | undefined,
  input: BaseInput,
  facts: RequestFacts | undefined = ctx,
): AuditRecord {
  const policy = env.policy
  const category = tokenList(input.category, env)
  const type = tokenList(input.type, env)
  const event: Record<string, unknown> = {
    action: input.action,
    category: category.list,
    duration: input.durationNs,
    id: randomUuid(),
    kind: 'event',
    outcome: input.outcome,
    reason: input.reason !== undefined ? text(String(input.reason), policy) : undefined,
    type: type.list,
  }

  // Every top-level field a record can have, in sorted order (log.level and ecs.version sort as log
  // and ecs), unused ones left undefined (JSON.stringify skips them). Assigning later keeps this order,
  // so the line is already in canonical order and the integrity chain seals it with a single
  // JSON.stringify (integrity/chain.ts). Readers of raw lines: @timestamp still comes first.
  const record: AuditRecord = {
    '@timestamp': env.clock.now(),
    audit: undefined,
    client: undefined,
    db: undefined,
    'ecs.version': ECS_VERSION,
    error: undefined,
    event,
    http: undefined,
    'log.level': input.level,
    message: input.message,
    server: undefined,
    service: env.service,
    source: undefined,
    span: undefined,
    trace: undefined,
    url: undefined,
    user: undefined,
    user_agent: undefined,
  }

  const actor = mergeActor(input.actor, ctx)
  if (actor) record.user = renderActor(actor, policy)

  if (facts) {
    if (facts.clientIp) {
      record.source = { ip: facts.clientIp }
      record.client = { ip: facts.clientIp }
    }
    if (facts.userAgent) record.user_agent = { original: text(facts.userAgent, policy) }
    if (facts.requestId) record.http = { request: { id: facts.requestId } }
  }

  const trace = activeTraceIds()
  if (trace) {
    record.trace = { id: trace.traceId }
    record.span = { id: trace.spanId }
  } else if (facts?.traceId) {
    record.trace = { id: facts.traceId }
    if (facts.spanId) record.span = { id: facts.spanId }
  }

  const purpose = input.purpose ?? ctx?.purpose
  const session = input.session ?? ctx?.session
  if (purpose !== undefined || session !== undefined) {
    const audit: Record<string, unknown> = {}
    // audit's own keys are put in order by the chain; these two are in sorted order anyway.
    if (purpose !== undefined) audit.purpose = text(String(purpose), policy)
    if (session !== undefined) audit.session = pseudonymize(String(session), policy, 'session')
    record.audit = audit
  }
  // A caller's list longer than MAX_TOKENS was cut: the line says it is not the whole input.
  if (category.cut || type.cut) audit(record).truncated = true
  return record
}

/**
 * The actor of an event: the caller's, else the context's. A caller's actor with the id of the
 * context's (`setActor({ id, roles, domain })`, then `login({ actor: { id } })`) is the same person:
 * what the caller left out (roles, issuer, name) comes from the context.
 */
function mergeActor(given: Actor | undefined, ctx: AuditContext | undefined): Actor | undefined {
  if (!given) return contextActor(ctx)
  if (!ctx || typeof given !== 'object') return given
  const known = contextActor(ctx)
  if (!known || known === given || known.id !== given.id) return given
  const merged: Actor = { ...known }
  for (const key of Object.keys(given) as (keyof Actor)[]) {
    if (given[key] !== undefined) (merged as unknown as Record<string, unknown>)[key] = given[key]
  }
  return merged
}

/** ECS `user.*` from an actor. The id is kept (it says who), but still passes the value detectors. */
export function renderActor(actor: Actor, policy: Policy): Record<string, unknown> {
  return {
    domain: actor.domain !== undefined ? text(String(actor.domain), policy) : undefined,
    effective:
      actor.effective && typeof actor.effective === 'object'
        ? renderActor(actor.effective as Actor, policy)
        : undefined,
    id: cleanId(actor.id, policy),
    name: actor.name !== undefined ? text(String(actor.name), policy) : undefined,
    roles: Array.isArray(actor.roles)
      ? actor.roles.slice(0, 50).map((r) => text(String(r), policy))
      : undefined,
    type: actor.type !== undefined ? String(actor.type).slice(0, 32) : undefined,
  }
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
  return { code: d.code, message: d.message, type: d.type }
}

export function levelForOutcome(outcome: Outcome): Level {
  return outcome === 'failure' ? 'warn' : 'info'
}

/** Caller-supplied free text: sanitised (length, control characters) and run through the detectors. */
export function text(value: unknown, policy: Policy): string {
  return String(redact(typeof value === 'string' ? value : String(value), policy))
}
