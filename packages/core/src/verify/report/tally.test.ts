import { describe, expect, it } from 'vitest'
import type { Entry } from '../entry'
import type { RecordFacts } from './facts'
import { recordMatcher } from './match'
import { STATED_MAX, Tally } from './tally'

const PS = (n: number) => `ps_4e1a7c_${n.toString(16).padStart(24, '0')}`

function entry(stream: string, seq: number, facts: RecordFacts): Entry {
  return { stream, seq, mac: '', facts } as unknown as Entry
}

/** A stream of requests in the order a service writes them: access events, then the request's record. */
function requestsOf(tally: Tally, stream: string, items: { id: string; access: boolean; path?: number }[]) {
  let seq = 0
  for (const { id, access, path } of items) {
    const time = 1_000 + seq
    if (access)
      tally.add(
        entry(stream, seq++, {
          time,
          actor: 'dr-a',
          resourceType: 'patient',
          resourceId: PS(1),
          requestId: id,
        }),
      )
    const facts: RecordFacts = { time, actor: 'dr-a', action: 'http-request', requestId: id }
    if (path !== undefined) {
      facts.path = `/patients/${PS(path)}`
      facts.pseudonyms = [PS(path)]
    }
    tally.add(entry(stream, seq++, facts))
  }
}

const newTally = () => new Tally(recordMatcher({}, []), () => true)

/** The http-request record of request `id`, with pseudonymised route parameter `path`. */
const requestRecord = (id: string, path: number): RecordFacts => ({
  time: 500_000 + path,
  action: 'http-request',
  requestId: id,
  path: `/patients/${PS(path)}`,
  pseudonyms: [PS(path)],
})

describe('Tally: requests without an access event', () => {
  it('keeps only the requests in flight, not one entry per request of the input', () => {
    const tally = newTally()
    requestsOf(
      tally,
      'pod-1',
      Array.from({ length: 50_000 }, (_, i) => ({ id: `r${i}`, access: true, path: i })),
    )
    expect(tally.requestsInFlight).toBe(0)
    expect(tally.unstated()).toEqual([])
    expect(tally.records).toBe(50_000)
  })

  it('access events whose request record never comes are kept up to a bound', () => {
    const tally = newTally()
    for (let i = 0; i < STATED_MAX + 10_000; i++)
      tally.add(
        entry('job', i, {
          time: 1_000 + i,
          resourceType: 'patient',
          resourceId: PS(i % 50),
          requestId: `j${i}`,
        }),
      )
    // Two generations (stated-ids.ts): a full young one (STATED_MAX) aged, and 10,000 since.
    expect(tally.requestsInFlight).toBe(STATED_MAX + 10_000)
    expect(tally.records).toBe(STATED_MAX + 10_000)
    // Another STATED_MAX: the first generation is dropped, the memory stays bounded.
    for (let i = STATED_MAX + 10_000; i < 2 * STATED_MAX + 10_000; i++)
      tally.add(
        entry('job', i, { time: 1_000 + i, resourceType: 'patient', resourceId: PS(1), requestId: `j${i}` }),
      )
    expect(tally.requestsInFlight).toBe(STATED_MAX + 10_000)
    // The records of the last STATED_MAX requests still find their access events; the first
    // requests' (evicted) are listed as unstated: erring on the side of listing.
    const recent = STATED_MAX + 10_000
    const first = 0
    tally.add(entry('job', 3 * STATED_MAX, requestRecord(`j${recent}`, recent)))
    tally.add(entry('job', 3 * STATED_MAX + 1, requestRecord(`j${first}`, first)))
    expect(tally.unstated().map((r) => r.requestId)).toEqual([`j${first}`])
  })

  it('pairs an access event with its own request: a reused request id does not state a later request', () => {
    const tally = newTally()
    requestsOf(tally, 'pod-1', [
      { id: 'r1', access: true, path: 5 },
      { id: 'r1', access: false, path: 6 },
      { id: 'r2', access: false, path: 7 },
    ])
    expect(tally.unstated().map((r) => r.path)).toEqual([`/patients/${PS(6)}`, `/patients/${PS(7)}`])
  })

  it('an access event written after its request record, or by a service behind it, still states it', () => {
    const tally = newTally()
    // the request's record first, then a late access event with its id
    requestsOf(tally, 'pod-1', [{ id: 'late', access: false, path: 8 }])
    tally.add(
      entry('pod-1', 9, { time: 2_000, resourceType: 'patient', resourceId: PS(8), requestId: 'late' }),
    )
    // a backend (pod-2) states the access of a request whose record the gateway (pod-3) writes
    tally.add(
      entry('pod-2', 0, { time: 2_000, resourceType: 'patient', resourceId: PS(9), requestId: 'shared' }),
    )
    requestsOf(tally, 'pod-3', [{ id: 'shared', access: false, path: 9 }])
    expect(tally.unstated()).toEqual([])
  })
})

describe('Tally: who reached whom', () => {
  it('more actors and actions than have a bit each: the rows are the brute-force count', () => {
    const tally = newTally()
    const want = new Map<string, { records: number; actors: Set<string>; actions: Set<string> }>()
    const byActor = new Map<string, { records: number; individuals: Set<string> }>()
    let seed = 7
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    for (let i = 0; i < 5_000; i++) {
      const actor = `actor-${next(45)}`
      const action = `action-${next(40)}`
      const id = PS(next(60))
      tally.add(entry('s', i, { time: 1_000 + i, actor, action, resourceType: 'patient', resourceId: id }))
      const w = want.get(id) ?? { records: 0, actors: new Set(), actions: new Set() }
      w.records++
      w.actors.add(actor)
      w.actions.add(action)
      want.set(id, w)
      const a = byActor.get(actor) ?? { records: 0, individuals: new Set() }
      a.records++
      a.individuals.add(id)
      byActor.set(actor, a)
    }
    const rows = new Map(tally.byIndividual().map((r) => [r.id, r]))
    expect(rows.size).toBe(want.size)
    for (const [id, w] of want) {
      const r = rows.get(id)!
      expect(r.records).toBe(w.records)
      expect(r.actors).toEqual([...w.actors].sort())
      expect(r.actions).toEqual([...w.actions].sort())
    }
    const actors = new Map(tally.byActor().map((r) => [r.id, r]))
    for (const [id, a] of byActor) {
      expect(actors.get(id)).toEqual({ id, records: a.records, individuals: a.individuals.size })
    }
  })
})
