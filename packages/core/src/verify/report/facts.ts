/**
 * What the evidence report keeps of a record while the verifier walks it: who, from where, in which
 * session, which individual, when, and for HTTP requests the pseudonyms in the path. Small, plain
 * JSON (it may be spilled with the record).
 */
import { expandKeys } from '../../integrity/canonical'
import type { AccessView } from '../../monitor/types'
import { accessViewOf } from '../../monitor/view'
import { isPlainObject } from '../extract/find-records'

type Obj = Record<string, unknown>

export interface RecordFacts {
  time: number
  action?: string
  actor?: string
  /** The user acted for (user.effective.id). */
  effective?: string
  session?: string
  ip?: string
  resourceType?: string
  resourceId?: string
  requestId?: string
  /** For `http-request` records: the path, when it holds pseudonymised segments. */
  path?: string
  pseudonyms?: string[]
  /** What the monitor's rules judge of an access (factsWithAccessOf, for `report --rules`). */
  access?: AccessView
  /** An alert the live monitor wrote (`event.kind: "alert"`). */
  alert?: true
}

const PSEUDONYM_SEGMENT = /^ps_(?:[0-9a-f]{6}_)?[0-9a-f]{24}$/

function get(o: unknown, ...path: string[]): unknown {
  let cur = o
  for (const key of path) {
    if (!isPlainObject(cur)) return undefined
    cur = expandKeys(cur)[key]
  }
  return cur
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : undefined
}

/** The member `key` of `o`, dotted keys expanded, when it is an object. */
function sub(o: Obj | undefined, key: string): Obj | undefined {
  const v = o?.[key]
  return isPlainObject(v) ? expandKeys(v) : undefined
}

/**
 * The facts of one record. `top` comes with its dotted keys expanded (toEntry's), so is not
 * expanded again; each object below it is expanded once (as get() would, once per path): this runs
 * for every record of a report. `time`: the record's `@timestamp` as toEntry parsed it already
 * (not parsed a second time).
 */
export function factsOf(t: Obj, time?: number): RecordFacts {
  const facts: RecordFacts = { time: time ?? timeOf(t) }
  const event = sub(t, 'event')
  const user = sub(t, 'user')
  const audit = sub(t, 'audit')
  const resource = sub(audit, 'resource')
  const action = str(event?.action)
  if (action !== undefined) facts.action = action
  const actor = str(user?.id)
  if (actor !== undefined) facts.actor = actor
  const effective = str(sub(user, 'effective')?.id)
  if (effective !== undefined) facts.effective = effective
  const session = str(audit?.session)
  if (session !== undefined) facts.session = session
  const ip = str(sub(t, 'source')?.ip) ?? str(sub(t, 'client')?.ip)
  if (ip !== undefined) facts.ip = ip
  const resourceType = str(resource?.type)
  if (resourceType !== undefined) facts.resourceType = resourceType
  const resourceId = str(resource?.id)
  if (resourceId !== undefined) facts.resourceId = resourceId
  const requestId = str(sub(sub(t, 'http'), 'request')?.id)
  if (requestId !== undefined) facts.requestId = requestId
  if (action === 'http-request') {
    const path = str(sub(t, 'url')?.path)
    const pseudonyms = path?.split('/').filter((s) => PSEUDONYM_SEGMENT.test(s))
    if (path && pseudonyms && pseudonyms.length > 0) {
      facts.path = path
      facts.pseudonyms = pseudonyms
    }
  }
  return facts
}

/** `@timestamp` in ms since the epoch (NaN: none, or not a date). */
export function timeOf(top: Obj): number {
  const ts = top['@timestamp']
  return typeof ts === 'string' ? Date.parse(ts) : Number.NaN
}

/** The facts and, for `report --rules`, what the monitor's rules judge (the same view as live). */
export function factsWithAccessOf(top: Obj, time?: number): RecordFacts {
  const facts = factsOf(top, time)
  const access = accessViewOf(top)
  if (access) facts.access = access
  if (get(top, 'event', 'kind') === 'alert') facts.alert = true
  return facts
}
