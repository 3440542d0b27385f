// Enforcement changes as replicas exchange them through Redis (store-redis.ts): one short JSON text
// per change, naming the replica it came from so that a replica ignores its own announcements.
import type { StateChange } from './records'

export type SharedChange = StateChange

const STATES = new Set(['blocked', 'unblocked', 'scram-started', 'scram-ended'])

/** `{"o":origin,"s":state,"a":actor,"u":until,"b":by,"r":reason}`; until null means until lifted. */
export function serializeSharedChange(change: SharedChange, origin: string): string {
  return JSON.stringify({
    o: origin,
    s: change.state,
    a: 'actor' in change ? change.actor : undefined,
    u: change.state === 'blocked' ? (Number.isFinite(change.until) ? change.until : null) : undefined,
    b: change.by,
    r: change.reason,
  })
}

/** The change and its origin, or undefined for anything malformed (Redis is shared; read with care). */
export function parseSharedChange(text: string): { origin: string; change: SharedChange } | undefined {
  let m: Record<string, unknown>
  try {
    m = JSON.parse(text)
  } catch {
    return undefined
  }
  if (m === null || typeof m !== 'object') return undefined
  const { o, s, a, u, b, r } = m
  if (typeof o !== 'string' || typeof s !== 'string' || !STATES.has(s) || typeof b !== 'string')
    return undefined
  const reason = typeof r === 'string' ? r.slice(0, 256) : undefined
  const by = b.slice(0, 64)
  if (s === 'scram-started' || s === 'scram-ended') return { origin: o, change: { state: s, by, reason } }
  if (typeof a !== 'string' || a.length === 0 || a.length > 256) return undefined
  if (s === 'unblocked') return { origin: o, change: { state: s, actor: a, by, reason } }
  const until = u === null ? Number.POSITIVE_INFINITY : u
  if (typeof until !== 'number' || Number.isNaN(until)) return undefined
  return { origin: o, change: { state: 'blocked', actor: a, until, by, reason } }
}
