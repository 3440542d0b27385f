// Property tests of the counting rules: against a brute-force count over the window, and live
// monitor against the replay of the trail it wrote.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { replayMonitor } from '../src/index'
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

describe('monitor counting rules (property)', () => {
  it('breadth and rate fire exactly when a brute-force count over the window says they should', () => {
    fc.assert(
      fc.property(
        history,
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        (accesses: Access[], breadthN, rateN, windowSeconds) => {
          let time = Date.UTC(2026, 0, 1)
          const events = accesses.map((a) => {
            time += a.gap
            return { actor: `u${a.actor}`, individual: ps(a.individual), time }
          })
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
})
