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
export function accessViewOf(
  record: unknown,
  timeOf: (iso: string) => number = Date.parse,
): AccessView | undefined {
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
  const time = typeof r['@timestamp'] === 'string' ? timeOf(r['@timestamp']) : Number.NaN
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
 * Date.parse for `@timestamp` values, remembering the last second it parsed: records written in the
 * same second share `YYYY-MM-DDTHH:MM:SS.` and only the milliseconds are read. Same answers as
 * Date.parse for every string; one reader per monitor (or replay), never shared.
 */
export function isoTimeReader(): (iso: string) => number {
  let prefix = ''
  let prefixMs = 0
  return (iso) => {
    if (iso.length === 24 && prefix !== '' && iso.charCodeAt(23) === 90 && iso.startsWith(prefix)) {
      const a = iso.charCodeAt(20) - 48
      const b = iso.charCodeAt(21) - 48
      const c = iso.charCodeAt(22) - 48
      if (a >= 0 && a <= 9 && b >= 0 && b <= 9 && c >= 0 && c <= 9) return prefixMs + a * 100 + b * 10 + c
    }
    const time = Date.parse(iso)
    // Remember the second only for the exact form isoOf writes (`...SS.mmmZ`, a four-digit year).
    if (
      Number.isFinite(time) &&
      iso.length === 24 &&
      iso.charCodeAt(19) === 46 &&
      iso.charCodeAt(23) === 90
    ) {
      const ms = Number(iso.slice(20, 23))
      if (Number.isInteger(ms) && ms >= 0 && ms <= 999) {
        prefix = iso.slice(0, 20)
        prefixMs = time - ms
      }
    }
    return time
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
