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
  // Records carry roles as strings (renderActor); not copied, it runs on every access.
  const roles = Array.isArray(user.roles) ? (user.roles as string[]) : EMPTY
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

/**
 * The 24 hex digits of a pseudonym (`ps_<24 hex>`, or `ps_<6 hex kid>_<24 hex>`), which name the
 * individual: trails from before key ids and after then count one individual once. Undefined for
 * anything else (a mask, a clear value a caller put there). Without a regular expression: it runs
 * on every access.
 */
export function pseudonymDigits(id: string): string | undefined {
  const n = id.length
  if (
    (n !== 27 && n !== 34) ||
    id.charCodeAt(0) !== 112 ||
    id.charCodeAt(1) !== 115 ||
    id.charCodeAt(2) !== 95
  ) {
    return undefined
  }
  if (n === 34 && (id.charCodeAt(9) !== 95 || !isHex(id, 3, 9))) return undefined
  return isHex(id, n - 24, n) ? id.slice(n - 24) : undefined
}

function isHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false
  }
  return true
}

/** The part of a pseudonym that names the individual (its 24 hex digits); anything else unchanged. */
export function individualKey(id: string): string {
  return pseudonymDigits(id) ?? id
}

/** The key id of a pseudonym, when it names one. */
export function pseudonymKid(id: string): string | undefined {
  return id.length === 34 && pseudonymDigits(id) !== undefined ? id.slice(3, 9) : undefined
}

/** True for `ps_<24 hex>` or `ps_<6 hex>_<24 hex>`. */
export function isPseudonym(id: string): boolean {
  return pseudonymDigits(id) !== undefined
}
