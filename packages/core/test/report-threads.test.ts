/**
 * The evidence report on worker threads, which are given the report's filters and send the main
 * thread only the time of a record no filter matches (read-segment.ts, match.ts byWhoOf): whatever
 * the filters, the threaded report is the one-thread report (which picks every record's facts on
 * the main thread and filters them there).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hmacPseudonym } from '../src/redact/pseudonymize'
import { type FactTable, fromWire } from '../src/verify/parallel/entry-wire'
import { verifyWorkerFile } from '../src/verify/parallel/pool'
import { eventPieces, readSegment } from '../src/verify/parallel/read-segment'
import { createEvidenceReport, type EvidenceOptions, evidenceReport } from '../src/verify/report/evidence'
import type { RecordFacts } from '../src/verify/report/facts'
import { whoFilterOf } from '../src/verify/report/match'
import { keys, makeTrail, type TrailEvent } from './trail'

const privateKey = keys.privateKeyPem
const pseudonymKey = Buffer.from('a pseudonym secret of the clinic, 32+ bytes')
const T0 = Date.parse('2026-11-01T08:00:00Z')
const STEP = 1000
// The built worker script (npx turbo run build): without it nothing here runs on a thread.
const workerFile = verifyWorkerFile()

// Actors in clear and pseudonymised (the filter takes clear ids and matches both), sessions, IPs,
// patients, and requests with pseudonyms in their path.
const ACTORS = ['dr-a', 'dr-b', hmacPseudonym(pseudonymKey, 'user', 'dr-c'), 'nurse-d']
const event = fc.record({
  actor: fc.constantFrom(...ACTORS),
  patient: fc.option(fc.constantFrom('MRN-1', 'MRN-2', 'MRN-3'), { nil: undefined }),
  session: fc.option(fc.constantFrom('s-1', hmacPseudonym(pseudonymKey, 'session', 's-2')), {
    nil: undefined,
  }),
  ip: fc.option(fc.constantFrom('10.0.0.1', '10.0.0.2'), { nil: undefined }),
  request: fc.option(fc.constantFrom('r1', 'r2', 'r3'), { nil: undefined }),
  path: fc.boolean(),
})
const filters = fc.record({
  actors: fc.option(fc.subarray(['dr-a', 'dr-c', 'nobody']), { nil: undefined }),
  sessions: fc.option(fc.subarray(['s-1', 's-2']), { nil: undefined }),
  ips: fc.option(fc.subarray(['10.0.0.1']), { nil: undefined }),
  patients: fc.option(fc.subarray(['MRN-2']), { nil: undefined }),
  from: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
  span: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
})

function trailOf(events: Array<typeof event extends fc.Arbitrary<infer T> ? T : never>): string {
  const evs = events.map(
    (e): TrailEvent => ({
      actor: e.actor,
      session: e.session,
      ip: e.ip,
      requestId: e.request,
      ...(e.path
        ? { path: `/patients/${hmacPseudonym(pseudonymKey, 'resource', e.patient ?? 'MRN-9')}` }
        : { patient: e.patient && hmacPseudonym(pseudonymKey, 'resource', e.patient) }),
    }),
  )
  return `${makeTrail(evs, { start: T0, step: STEP }).lines.join('\n')}\n`
}

async function* source(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text)
}

describe('the report with its filters on worker threads', () => {
  it('has a built worker script to test', () => {
    expect(workerFile).toBeDefined()
  })

  it('property: whatever the filters, the threaded report is the one-thread report', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 60 }), filters, async (events, f) => {
        const text = trailOf(events)
        const from = f.from === undefined ? undefined : T0 + f.from * STEP
        const options: EvidenceOptions = {
          privateKey,
          pseudonymKeys: [pseudonymKey],
          actors: f.actors,
          sessions: f.sessions,
          ips: f.ips,
          patients: f.patients,
          from,
          to: f.span === undefined ? undefined : (from ?? T0) + f.span * STEP,
        }
        const single = createEvidenceReport(options)
        single.write(text)
        const want = single.end()
        const got = await evidenceReport(source(text), {
          ...options,
          threads: 2,
          threadsAfterBytes: 0,
          workerFile,
        })
        expect(JSON.stringify(got)).toBe(JSON.stringify(want))
      }),
      { numRuns: 40 },
    )
  }, 120_000)

  it('a thread sends the facts of the records a filter matches, and the time only of the others', () => {
    const text = trailOf(
      Array.from({ length: 20 }, (_, i) => ({
        actor: ACTORS[i % 2]!,
        patient: 'MRN-1',
        session: undefined,
        ip: undefined,
        request: undefined,
        path: false,
      })),
    )
    const r = readSegment({
      id: 0,
      bytes: new Uint8Array(Buffer.from(text)),
      facts: 'facts',
      who: whoFilterOf({ actors: ['dr-a'] }, [pseudonymKey]),
    })
    const wires = [...eventPieces(r)].flat() as unknown[][]
    // Wire member 18: the facts (an array), or 0 for the time only.
    const facts = wires.map((w) => w[18])
    // 20 events, the genesis and the stream's other records (no actor: time only).
    expect(facts.length).toBeGreaterThan(20)
    expect(facts.filter((x) => Array.isArray(x))).toHaveLength(10)
    expect(facts.filter((x) => x === 0)).toHaveLength(facts.length - 10)
    // Read as the main thread does (the segment's table of repeated values in order): dr-a's.
    const table: FactTable = []
    const actors = wires.map((w) => (fromWire(w, table).facts as RecordFacts | undefined)?.actor)
    expect(actors.filter((a) => a === 'dr-a')).toHaveLength(10)
    expect(actors.filter((a) => a !== undefined && a !== 'dr-a')).toEqual([])
  })
})
