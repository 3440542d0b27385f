import { pseudonymize } from '../redact/index'
import type { AccessInput, AuditContext, EventCategory, EventInput, EventType, Level } from '../types'
import { finishCommon, outcomeOf } from './auth'
import { type AuditRecord, audit, type BuildEnv, baseRecord, levelForOutcome, renderError } from './record'
import { cleanToken } from './tokens'

const VERB_TYPES: [RegExp, EventType][] = [
  [/(^|-)(read|view|get|search|list|query|export|print|download|open)(-|$)/, 'access'],
  [/(^|-)(create|add|register|insert|upload|import)(-|$)/, 'creation'],
  [/(^|-)(delete|remove|purge|destroy|erase)(-|$)/, 'deletion'],
  [/(^|-)(update|edit|modify|patch|change|write|amend|merge|sign)(-|$)/, 'change'],
]

/** Guesses ECS event.type from an action name such as `patient-record-read`. */
export function typeForAction(action: string): EventType {
  for (const [re, type] of VERB_TYPES) if (re.test(action)) return type
  return 'access'
}

const IAM_RESOURCES =
  /^(user|users|role|roles|group|groups|permission|permissions|account|accounts|credential|credentials)$/

/** Record access (`patient-record-read` ...): the resource id is always pseudonymised. */
export function accessRecord(env: BuildEnv, ctx: AuditContext | undefined, input: AccessInput): AuditRecord {
  const action = cleanAction(input?.action, 'record-access', env)
  const outcome = outcomeOf(input?.outcome, 'success')
  const resourceType = cleanToken(input?.resource?.type, 'unknown', env)
  const category: EventCategory | EventCategory[] =
    input?.category ?? (IAM_RESOURCES.test(resourceType) ? 'iam' : 'database')
  const record = baseRecord(env, ctx, {
    action,
    category,
    type: input?.type ?? typeForAction(action),
    outcome,
    level: levelForOutcome(outcome),
    message: `${action} ${resourceType} ${outcome}`,
    actor: input?.actor,
    reason: input?.reason,
    purpose: input?.purpose,
    session: input?.session,
  })
  audit(record).resource = renderResource(env, input?.resource)
  if (input?.error !== undefined) record.error = renderError(input.error, env.policy)
  finishCommon(env, record, input)
  return record
}

/** Anything else the caller wants in the trail. */
export function customRecord(env: BuildEnv, ctx: AuditContext | undefined, input: EventInput): AuditRecord {
  const action = cleanAction(input?.action, 'custom-event', env)
  const outcome = outcomeOf(input?.outcome, 'unknown')
  const level: Level = input?.level ?? levelForOutcome(outcome)
  const record = baseRecord(env, ctx, {
    action,
    category: input?.category ?? 'process',
    type: input?.type ?? 'info',
    outcome,
    level,
    message: `${action} ${outcome}`,
    actor: input?.actor,
    reason: input?.reason,
    purpose: input?.purpose,
    session: input?.session,
  })
  if (input?.resource) audit(record).resource = renderResource(env, input.resource)
  if (input?.error !== undefined) record.error = renderError(input.error, env.policy)
  finishCommon(env, record, input)
  return record
}

function renderResource(
  env: BuildEnv,
  resource: AccessInput['resource'] | undefined,
): Record<string, unknown> {
  const id = resource?.id
  return {
    id: id !== undefined && id !== null ? pseudonymize(String(id), env.policy, 'resource') : undefined,
    type: cleanToken(resource?.type, 'unknown', env),
  }
}

/** Actions and resource types are identifiers of our vocabulary, never free text. */
export function cleanAction(value: unknown, fallback: string, env: BuildEnv): string {
  return cleanToken(value, fallback, env)
}
