/**
 * Counts, over the authentic records (each once, duplicates removed), which individuals the
 * matching actors reached and who reached them; and the requests by those actors that carried
 * pseudonymised route parameters without an access event saying what they reached.
 */
import type { Entry } from '../entry'
import type { RecordFacts } from './facts'
import type { RecordMatcher } from './match'
import { StatedIds } from './stated-ids'

export interface IndividualRow {
  /** The individual's id as the trail holds it (a pseudonym). */
  id: string
  /** The clear id asked for with --patient, when it is one of those. */
  patient?: string
  records: number
  first: string
  last: string
  actions: string[]
  actors: string[]
}

export interface ActorRow {
  id: string
  records: number
  individuals: number
}

/** A request that may have reached individuals not named by an access event. */
export interface UnstatedRequest {
  time: string
  actor?: string
  requestId?: string
  path: string
  stream: string
  seq: number
}

/**
 * One value, or a Set once a second distinct one comes: most individuals are reached by one actor
 * with one action, and a report holds every individual of the window (50,000 in the benchmark)
 * while millions of records pass; two Sets each were most of the main thread's live heap, which
 * every full collection marks.
 */
type OneOrMore = string | Set<string>

function addTo(held: OneOrMore, value: string): OneOrMore {
  if (typeof held !== 'string') return held.add(value)
  return held === value ? held : new Set([held, value])
}

function holds(held: OneOrMore, value: string): boolean {
  return typeof held === 'string' ? held === value : held.has(value)
}

function sortedOf(held: OneOrMore): string[] {
  return typeof held === 'string' ? [held] : [...held].sort()
}

interface Individual {
  id: string
  patient?: string
  records: number
  first: number
  last: number
  actions?: OneOrMore
  actors: OneOrMore
  /**
   * Which of the first BITS actors (by ActorTally.bit) and actions (by the order the tally met
   * them) the individual lists: asking a bit of this object, which the record's count reads
   * anyway, instead of a Set elsewhere in memory (one more cache miss per record).
   */
  actorBits: number
  actionBits: number
}

/** Actors and actions told apart by a bit of a number (31: a small integer); later ones by their Set. */
const BITS = 31

interface ActorTally {
  id: string
  records: number
  individuals: Set<string>
  /** 1 << (order in which the tally met the actor), 0 past the first BITS. */
  bit: number
}

/** Does the individual list the value: by its bit when it has one, else by the value itself. */
function lists(bits: number, bit: number, held: OneOrMore | undefined, value: string): boolean {
  if (bit !== 0) return (bits & bit) !== 0
  return held !== undefined && holds(held, value)
}

const NO_ACTOR = '(no actor)'
/** Access events' request ids kept waiting for their request's record (see Tally.stated). */
export const STATED_MAX = 65_536

export class Tally {
  records = 0
  private readonly individuals = new Map<string, Individual>()
  private readonly actors = new Map<string, ActorTally>()
  /** Bits of the actions met so far (see Individual.actionBits), by their interned name. */
  private readonly actionBit = new Map<string, number>()
  /**
   * One copy of each action and stream name, whatever number of records carry it: every entry
   * comes with strings of its own (parsed from a worker's message), and those kept (an
   * individual's actions, a request's stream) would otherwise each hold a copy.
   */
  private readonly names = new Map<string, string>()
  // Request ids named by an access event whose http-request record has not come yet, with the
  // stream that named them. A stream's records reach the tally in order (the walker authenticates
  // them in order, whatever the input's order), and a request's access events come before its
  // http-request record (written when the response ends); so an id leaves when its own record
  // comes, and memory holds the requests in flight, not one entry per request of the input. An
  // access event whose request record never comes (an ignored route, a job that set a request
  // id) leaves after STATED_MAX to 2 * STATED_MAX later ones (stated-ids.ts): its request, if its
  // record comes after all, is then listed as unstated, which errs on the side of listing. It
  // also pairs an access event with the request it was made in, so a client that reuses a request
  // id cannot state one request's access for another.
  private readonly stated = new StatedIds(STATED_MAX)
  // Requests with pseudonymised route parameters and, so far, no access event; an access event
  // that comes after its request's record (a late write, another stream) takes its request out.
  private readonly requests = new Map<string, UnstatedRequest>()
  /** Per stream, the highest seq of an authentic record inside the window. */
  readonly lastSeqInWindow = new Map<string, number>()

  constructor(
    private readonly match: RecordMatcher,
    private readonly pathMatches: (pseudonyms: readonly string[]) => boolean,
  ) {}

  add(e: Entry): void {
    const f = e.facts as RecordFacts | undefined
    if (!f) return
    if (this.match.inWindow(f.time)) {
      const seen = this.lastSeqInWindow.get(e.stream)
      if (seen === undefined || e.seq > seen) this.lastSeqInWindow.set(e.stream, e.seq)
    }
    if (!this.match.byWho(f)) return
    const requestId = f.requestId
    if (f.resourceId !== undefined && requestId !== undefined) {
      if (this.requests.has(requestId)) this.requests.delete(requestId)
      else this.stated.set(requestId, this.intern(e.stream))
    }
    const who = this.match.individual(f)
    if (who) this.count(who, f)
    let stated = false
    if (f.action === 'http-request' && requestId !== undefined) {
      const by = this.stated.get(requestId)
      stated = by !== undefined
      // Another stream's access event (a service behind this one, same request id) stays for
      // that stream's own record.
      if (by === e.stream) this.stated.delete(requestId)
    }
    if (!stated && f.pseudonyms && this.pathMatches(f.pseudonyms)) {
      const key = requestId ?? `${e.stream}#${e.seq}`
      this.requests.set(key, {
        time: new Date(f.time).toISOString(),
        actor: f.actor,
        requestId: f.requestId,
        path: f.path!,
        stream: e.stream,
        seq: e.seq,
      })
    }
  }

  private intern(name: string): string {
    const held = this.names.get(name)
    if (held !== undefined) return held
    this.names.set(name, name)
    return name
  }

  private count(who: { id: string; clear?: string }, f: RecordFacts): void {
    this.records++
    const actor = f.actor ?? NO_ACTOR
    let a = this.actors.get(actor)
    if (!a) {
      const n = this.actors.size
      a = { id: actor, records: 0, individuals: new Set(), bit: n < BITS ? 1 << n : 0 }
      this.actors.set(actor, a)
    }
    a.records++
    let ind = this.individuals.get(who.id)
    if (!ind) {
      ind = {
        id: who.id,
        records: 0,
        first: f.time,
        last: f.time,
        actors: a.id,
        actorBits: a.bit,
        actionBits: 0,
      }
      if (who.clear !== undefined) ind.patient = who.clear
      this.individuals.set(who.id, ind)
      // The individual's own id (one copy in both maps), not this record's.
      a.individuals.add(ind.id)
    } else if (!lists(ind.actorBits, a.bit, ind.actors, a.id)) {
      // An individual lists an actor exactly when the actor's set holds the individual (both are
      // added here together): only an actor new to the individual adds to its set.
      ind.actors = addTo(ind.actors, a.id)
      ind.actorBits |= a.bit
      a.individuals.add(ind.id)
    }
    ind.records++
    if (f.time < ind.first) ind.first = f.time
    if (f.time > ind.last) ind.last = f.time
    if (f.action !== undefined) this.countAction(ind, f.action)
  }

  /** An action the individual already lists (most records) is neither interned nor added again. */
  private countAction(ind: Individual, name: string): void {
    let bit = this.actionBit.get(name)
    if (bit === undefined) {
      const n = this.actionBit.size
      bit = n < BITS ? 1 << n : 0
      this.actionBit.set(this.intern(name), bit)
    }
    if (lists(ind.actionBits, bit, ind.actions, name)) return
    const action = this.intern(name)
    ind.actions = ind.actions === undefined ? action : addTo(ind.actions, action)
    ind.actionBits |= bit
  }

  byIndividual(): IndividualRow[] {
    return [...this.individuals.entries()]
      .map(([id, i]) => {
        const row: IndividualRow = {
          id,
          records: i.records,
          first: isoOrEmpty(i.first),
          last: isoOrEmpty(i.last),
          actions: i.actions === undefined ? [] : sortedOf(i.actions),
          actors: sortedOf(i.actors),
        }
        if (i.patient !== undefined) row.patient = i.patient
        return row
      })
      .sort((a, b) => b.records - a.records || a.id.localeCompare(b.id))
  }

  byActor(): ActorRow[] {
    return [...this.actors.entries()]
      .map(([id, a]) => ({ id, records: a.records, individuals: a.individuals.size }))
      .sort((a, b) => b.individuals - a.individuals || b.records - a.records || a.id.localeCompare(b.id))
  }

  /** Access events' request ids still waiting for their request's record (what `stated` holds). */
  get requestsInFlight(): number {
    return this.stated.size
  }

  /** Requests with pseudonymised route parameters and no access event in the same request. */
  unstated(): UnstatedRequest[] {
    return [...this.requests.entries()].map(([, r]) => r).sort((a, b) => a.time.localeCompare(b.time))
  }

  get individualCount(): number {
    return this.individuals.size
  }
}

function isoOrEmpty(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : ''
}
