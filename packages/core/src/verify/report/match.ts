/**
 * The report's filters: a time window, actors, sessions, client IPs and individuals. Values given
 * in clear are compared with the trail's values as they are, and with what each pseudonym key makes
 * of them (CONTRACTS.md §2: `ps_<kid>_<24 hex>` or the older `ps_<24 hex>`, compared by the 24-hex
 * tail and by the kid when both have one).
 */
import { hmacPseudonym, parsePseudonym } from '../../redact/pseudonymize'
import type { RecordFacts } from './facts'

export interface ReportFilters {
  actors?: readonly string[]
  sessions?: readonly string[]
  ips?: readonly string[]
  /** Individuals' ids in clear (or as pseudonyms already). */
  patients?: readonly string[]
  /** Resource type whose ids name individuals (default `patient`). */
  resourceType?: string
  /** Window, ms since the epoch, both ends included. */
  from?: number
  to?: number
}

/** Is a trail value one of the wanted ones? Also says which clear value it was. */
export type ValueMatcher = (value: string | undefined) => string | undefined

interface Wanted {
  clear: string
  /** 24-hex tails (with the kid that made each) of the value's pseudonyms, one per key. */
  tails: Array<{ kid: string | undefined; tail: string }>
}

/** A matcher for `wanted` clear values, pseudonymised in `categories` with each key; undefined: no filter. */
export function valueMatcher(
  wanted: readonly string[] | undefined,
  keys: readonly Buffer[],
  categories: readonly string[],
): ValueMatcher | undefined {
  if (!wanted || wanted.length === 0) return undefined
  const list: Wanted[] = wanted.map((clear) => {
    const given = parsePseudonym(clear)
    const tails = given ? [given] : []
    for (const key of keys) {
      for (const category of categories) {
        const p = parsePseudonym(hmacPseudonym(key, category, clear))
        if (p) tails.push(p)
      }
    }
    return { clear, tails }
  })
  const exact = new Map(list.map((w) => [w.clear, w.clear]))
  const byTail = new Map<string, Array<{ kid: string | undefined; clear: string }>>()
  for (const w of list) {
    for (const t of w.tails) {
      const l = byTail.get(t.tail) ?? []
      l.push({ kid: t.kid, clear: w.clear })
      byTail.set(t.tail, l)
    }
  }
  return (value) => {
    if (value === undefined) return undefined
    const direct = exact.get(value)
    if (direct !== undefined) return direct
    const p = parsePseudonym(value)
    if (!p) return undefined
    const candidates = byTail.get(p.tail)
    if (!candidates) return undefined
    const hit = candidates.find((c) => p.kid === undefined || c.kid === undefined || c.kid === p.kid)
    return hit?.clear
  }
}

export interface RecordMatcher {
  /** In the window, by the actors / sessions / IPs asked for (all filters combine). */
  byWho(f: RecordFacts): boolean
  /** The individual a record names, if of the resource type (and one of those asked for). */
  individual(f: RecordFacts): { id: string; clear?: string } | undefined
  inWindow(time: number): boolean
}

export function recordMatcher(filters: ReportFilters, keys: readonly Buffer[]): RecordMatcher {
  const actor = valueMatcher(filters.actors, keys, ['identifier', 'user'])
  const session = valueMatcher(filters.sessions, keys, ['session'])
  const ip = valueMatcher(filters.ips, keys, ['ip'])
  const patient = valueMatcher(filters.patients, keys, ['resource'])
  const type = filters.resourceType ?? 'patient'
  const from = filters.from ?? Number.NEGATIVE_INFINITY
  const to = filters.to ?? Number.POSITIVE_INFINITY
  const inWindow = (t: number) => {
    // A record whose time cannot be read is counted when no window is asked for only.
    if (!Number.isFinite(t)) return filters.from === undefined && filters.to === undefined
    return t >= from && t <= to
  }
  return {
    inWindow,
    byWho(f) {
      if (!inWindow(f.time)) return false
      if (actor && actor(f.actor) === undefined && actor(f.effective) === undefined) return false
      if (session && session(f.session) === undefined) return false
      if (ip && ip(f.ip) === undefined) return false
      return true
    },
    individual(f) {
      if (f.resourceType !== type || f.resourceId === undefined) return undefined
      if (!patient) return { id: f.resourceId }
      const clear = patient(f.resourceId)
      return clear === undefined ? undefined : { id: f.resourceId, clear }
    },
  }
}

/**
 * The filters as worker threads are given them (a structured clone: the pseudonym keys as bytes of
 * their own), so that they send the main thread the facts of the records a filter matches only.
 */
export interface WhoFilter {
  filters: ReportFilters
  keys: Uint8Array[]
}

export function whoFilterOf(filters: ReportFilters, keys: readonly Buffer[]): WhoFilter {
  const { actors, sessions, ips, from, to } = filters
  // Copies: a Buffer is often a view of a shared pool, which a structured clone would copy whole.
  return { filters: { actors, sessions, ips, from, to }, keys: keys.map((k) => new Uint8Array(k)) }
}

/**
 * byWho on the worker's side. A record it rejects needs no facts but its time: Tally.add reads
 * only that (inWindow) before byWho, and byWho rejects the time-only facts too (each filter that
 * rejected the record rejects an absent value; the window sees the same time).
 */
export function byWhoOf(who: WhoFilter): RecordMatcher['byWho'] {
  return recordMatcher(
    who.filters,
    who.keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength)),
  ).byWho
}
