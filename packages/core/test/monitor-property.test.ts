// Property tests of the counting rules: against a brute-force count over the window (per process,
// and in the real Redis at 127.0.0.1:6379), and live monitor against the replay of the trail it wrote.
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../scripts/redis.mjs'
import { replayMonitor } from '../src/index'
import type { Counts } from '../src/monitor/store-memory'
import { createRedisStore, loadRedis } from '../src/monitor/store-redis'
import { capture } from './helpers'

const ps = (n: number) => `ps_${n.toString(16).padStart(24, '0')}`

interface Access {
  actor: number
  individual: number
  gap: number
}

const history = fc.array(
  fc.record({
    actor: fc.integer({ min: 0, max: 2 }),
    individual: fc.integer({ min: 0, max: 7 }),
    // Whole seconds, so that accesses often fall exactly on a window's edge.
    gap: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 1, max: 30 }).map((s) => s * 1000),
      fc.integer({ min: 1, max: 40_000 }),
    ),
  }),
  { maxLength: 80 },
)

/** The alerts the rules should raise, by brute force over the whole history for every access. */
function bruteForce(
  events: { actor: string; individual: string; time: number }[],
  rule: 'breadth' | 'rate',
  n: number,
  w: number,
) {
  const out: { actor: string; time: number; count: number }[] = []
  const lastAlert = new Map<string, number>()
  events.forEach((e, i) => {
    const inWindow = events.slice(0, i + 1).filter((x) => x.actor === e.actor && x.time > e.time - w)
    const count = rule === 'breadth' ? new Set(inWindow.map((x) => x.individual)).size : inWindow.length
    if (count <= n) return
    const last = lastAlert.get(e.actor)
    if (last !== undefined && e.time - last < w) return
    lastAlert.set(e.actor, e.time)
    out.push({ actor: e.actor, time: e.time, count: Math.min(count, n + 1) })
  })
  return out
}

/** Synthetic times from the history's gaps. */
function timed(accesses: Access[]) {
  let time = Date.UTC(2026, 0, 1)
  return accesses.map((a) => {
    time += a.gap
    return { actor: `u${a.actor}`, individual: ps(a.individual), time }
  })
}

describe('monitor counting rules (property)', () => {
  it('breadth and rate fire exactly when a brute-force count over the window says they should', () => {
    fc.assert(
      fc.property(
        history,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        (accesses: Access[], breadthN, rateN, windowSeconds) => {
          const events = timed(accesses)
          const records = events.map((e) => ({
            '@timestamp': new Date(e.time).toISOString(),
            event: { kind: 'event', action: 'patient-record-read', outcome: 'success' },
            user: { id: e.actor },
            audit: { resource: { type: 'patient', id: e.individual } },
          }))
          const result = replayMonitor(records, {
            breadth: { threshold: breadthN, windowSeconds },
            rate: { threshold: rateN, windowSeconds },
            emergency: false,
          })
          for (const rule of ['breadth', 'rate'] as const) {
            const expected = bruteForce(
              events,
              rule,
              rule === 'breadth' ? breadthN : rateN,
              windowSeconds * 1000,
            )
            const got = result.alerts
              .filter((a) => a.rule === rule)
              .map((a) => ({ actor: a.actor, time: Date.parse(a.time), count: a.count }))
            expect(got).toEqual(expected)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('the replay of a trail raises the alerts the live monitor wrote into it', () => {
    fc.assert(
      fc.property(
        history,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 8 }),
        (accesses, breadthN, rateN) => {
          const monitor = {
            breadth: { threshold: breadthN, windowSeconds: 3600 },
            rate: { threshold: rateN, windowSeconds: 3600 },
            watched: { ids: ['P3'] },
          }
          const { audit, lines, events } = capture({
            redaction: { pseudonymKey: 'property-test-key-0123456789' },
            monitor,
          })
          for (const a of accesses) {
            audit.access({
              action: 'patient-record-read',
              resource: { type: 'patient', id: `P${a.individual}` },
              actor: { id: `u${a.actor}` },
            })
          }
          const live = events()
            .filter((e) => e.event.kind === 'alert')
            .map((e) => ({
              rule: e.rule.name,
              actor: e.user.id,
              count: e.audit.monitor.count,
              individual: e.audit.monitor.individual,
            }))
          const replayed = replayMonitor(lines, monitor, { pseudonymKey: 'property-test-key-0123456789' })
          expect(replayed.recordedAlerts).toBe(live.length)
          expect(
            replayed.alerts.map((a) => ({
              rule: a.rule,
              actor: a.actor,
              count: a.count,
              individual: a.individual,
            })),
          ).toEqual(live)
        },
      ),
      { numRuns: 100 },
    )
  })

  const redis = testRedis()
  afterAll(() => redis.cleanup())

  it('the Redis script alerts exactly when the brute-force count says so, once per window', async () => {
    const Ctor = loadRedis()
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        history,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        async (accesses: Access[], breadthN, rateN, windowSeconds) => {
          const events = timed(accesses)
          const w = windowSeconds * 1000
          const got: (Counts | undefined)[] = []
          const store = createRedisStore(
            {
              url: redis.url,
              client: undefined,
              keyPrefix: `${redis.prefix}${run++}:`,
              timeoutMs: 5000,
              batchMs: 2,
              failClosed: false,
            },
            { breadth: { threshold: breadthN, windowMs: w }, rate: { threshold: rateN, windowMs: w } },
            () => {},
            (token, counts) => {
              got[token as number] = counts
            },
            Ctor,
          )
          try {
            for (let i = 0; i < 500 && !store.ready; i++) await new Promise((r) => setTimeout(r, 10))
            // Each access in its own batch for some histories, all in one for others, and batches of
            // a few accesses (several per actor, actors interleaved) for the rest: the script
            // takes an actor's accesses of a batch together.
            const split = accesses.length % 3
            for (const [i, e] of events.entries()) {
              store.add(e.actor, e.individual.slice(3), e.time, i)
              if (split === 0 || (split === 2 && (accesses[i] as Access).individual % 3 === 0))
                await new Promise((r) => setTimeout(r, 3))
            }
            for (let i = 0; i < 500 && got.filter(Boolean).length < events.length; i++)
              await new Promise((r) => setTimeout(r, 10))
            expect(got.filter(Boolean)).toHaveLength(events.length)
            for (const [rule, bit, n] of [
              ['breadth', 1, breadthN],
              ['rate', 2, rateN],
            ] as const) {
              const alerts = events.flatMap((e, i) => {
                const c = got[i] as Counts
                if (((c.fresh ?? 0) & bit) === 0) return []
                return [
                  { actor: e.actor, time: e.time, count: rule === 'breadth' ? c.individuals : c.records },
                ]
              })
              expect([rule, alerts]).toEqual([rule, bruteForce(events, rule, n, w)])
            }
          } finally {
            await store.close()
          }
        },
      ),
      {
        numRuns: 60,
        // One actor over both thresholds in two windows: two alerts of each rule, the second exactly
        // one window after the first (an alert's quiet time is the window, by access times).
        examples: [
          [
            [
              { actor: 0, individual: 0, gap: 0 },
              { actor: 0, individual: 1, gap: 1000 },
              { actor: 0, individual: 2, gap: 4000 },
              { actor: 0, individual: 3, gap: 1000 },
            ],
            1,
            1,
            5,
          ],
        ],
      },
    )
  }, 120_000)
})
