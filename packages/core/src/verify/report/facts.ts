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

/** The facts of one record (`top`: dotted keys expanded). */
export function factsOf(top: Obj): RecordFacts {
  const ts = top['@timestamp']
  const facts: RecordFacts = { time: typeof ts === 'string' ? Date.parse(ts) : Number.NaN }
  const set = <K extends keyof RecordFacts>(k: K, v: RecordFacts[K] | undefined) => {
    if (v !== undefined) facts[k] = v
  }
  set('action', str(get(top, 'event', 'action')))
  set('actor', str(get(top, 'user', 'id')))
  set('effective', str(get(top, 'user', 'effective', 'id')))
  set('session', str(get(top, 'audit', 'session')))
  set('ip', str(get(top, 'source', 'ip')) ?? str(get(top, 'client', 'ip')))
  set('resourceType', str(get(top, 'audit', 'resource', 'type')))
  set('resourceId', str(get(top, 'audit', 'resource', 'id')))
  set('requestId', str(get(top, 'http', 'request', 'id')))
  if (facts.action === 'http-request') {
    const path = str(get(top, 'url', 'path'))
    const pseudonyms = path?.split('/').filter((s) => PSEUDONYM_SEGMENT.test(s))
    if (path && pseudonyms && pseudonyms.length > 0) {
      facts.path = path
      facts.pseudonyms = pseudonyms
    }
  }
  return facts
}

/** The facts and, for `report --rules`, what the monitor's rules judge (the same view as live). */
export function factsWithAccessOf(top: Obj): RecordFacts {
  const facts = factsOf(top)
  const access = accessViewOf(top)
  if (access) facts.access = access
  if (get(top, 'event', 'kind') === 'alert') facts.alert = true
  return facts
}
