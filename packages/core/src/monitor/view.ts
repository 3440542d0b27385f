// What the rules see of a record: the same function reads live records and exported lines, so the
// replay and the live monitor judge the same facts.
import type { AccessView } from './types'

const EMPTY: readonly string[] = Object.freeze([])

/** Actions of the adapters' own events: they are not accesses to an individual's record. */
const NOT_ACCESS = new Set(['http-request', 'db-query', 'access-anomaly'])

/**
 * The access a record describes, or undefined: it needs an actor (`user.id`), an ordinary event
 * (`event.kind` "event") and a resource or a purpose. Never throws; reads plain JSON only.
 */
export function accessViewOf(record: unknown): AccessView | undefined {
  if (record === null || typeof record !== 'object') return undefined
  const r = record as Record<string, any>
  const event = r.event
  if (event === null || typeof event !== 'object' || event.kind !== 'event') return undefined
  const audit = r.audit
  if (audit === null || typeof audit !== 'object') return undefined
  const resource = audit.resource
  const purpose = typeof audit.purpose === 'string' ? audit.purpose : undefined
  if ((resource === null || typeof resource !== 'object') && purpose === undefined) return undefined
  const action = typeof event.action === 'string' ? event.action : ''
  if (NOT_ACCESS.has(action)) return undefined
  const user = r.user
  const actor = user !== null && typeof user === 'object' && typeof user.id === 'string' ? user.id : undefined
  if (actor === undefined || actor.length === 0) return undefined
  const time = Date.parse(r['@timestamp'])
  if (!Number.isFinite(time)) return undefined
  const roles = Array.isArray(user.roles)
    ? (user.roles as unknown[]).filter((x) => typeof x === 'string')
    : EMPTY
  return {
    time,
    actor,
    roles: roles as readonly string[],
    action,
    resourceType: typeof resource?.type === 'string' ? resource.type : undefined,
    individual: typeof resource?.id === 'string' ? resource.id : undefined,
    purpose,
    reason: typeof event.reason === 'string' ? event.reason : undefined,
    outcome: typeof event.outcome === 'string' ? event.outcome : undefined,
  }
}

const PSEUDONYM = /^ps_(?:([0-9a-f]{6})_)?([0-9a-f]{24})$/

/**
 * The part of a pseudonym that names the individual: its 24 hex digits. Trails from before key ids
 * (`ps_<24 hex>`) and after (`ps_<kid>_<24 hex>`) then count one individual once. Anything else
 * (a mask, a clear value a caller put there) is returned unchanged.
 */
export function individualKey(id: string): string {
  const m = PSEUDONYM.exec(id)
  return m ? (m[2] as string) : id
}

/** The key id of a pseudonym, when it names one. */
export function pseudonymKid(id: string): string | undefined {
  return PSEUDONYM.exec(id)?.[1]
}

/** True for `ps_<24 hex>` or `ps_<6 hex>_<24 hex>`. */
export function isPseudonym(id: string): boolean {
  return PSEUDONYM.test(id)
}
