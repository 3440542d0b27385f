import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RecentMap } from './recent-map'

describe('RecentMap', () => {
  it('keeps what a Map trimmed to its oldest insertion keeps, whatever the sets and deletes', () => {
    const op = fc.oneof(
      fc.record({ set: fc.integer({ min: 0, max: 20 }), value: fc.integer() }),
      fc.record({ del: fc.integer({ min: 0, max: 20 }) }),
      // A request in flight: set, then deleted (leaves a slot behind without an eviction).
      fc.record({ flight: fc.integer({ min: 21, max: 40 }) }),
    )
    fc.assert(
      // slack 0-3: the arrays are sliced and compacted (keys renumbered) many times over.
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(0, 1, 3, 1024),
        fc.array(op, { maxLength: 300 }),
        (max, slack, ops) => {
          const model = new Map<number, number>()
          const recent = new RecentMap<number, number>(max, slack)
          for (const o of ops) {
            if ('set' in o) {
              model.set(o.set, o.value)
              if (model.size > max) model.delete(model.keys().next().value!)
              recent.set(o.set, o.value)
            } else if ('flight' in o) {
              model.set(o.flight, 0)
              if (model.size > max) model.delete(model.keys().next().value!)
              recent.set(o.flight, 0)
              expect(recent.delete(o.flight)).toBe(model.delete(o.flight))
            } else expect(recent.delete(o.del)).toBe(model.delete(o.del))
            expect(recent.size).toBe(model.size)
          }
          for (let k = 0; k <= 40; k++) {
            expect(recent.has(k)).toBe(model.has(k))
            expect(recent.get(k)).toBe(model.get(k))
          }
          expect([...recent.entries()]).toEqual([...model.entries()])
        },
      ),
    )
  })

  it('keeps the last `max` of a million insertions', () => {
    const recent = new RecentMap<number, string>(65_536)
    for (let s = 0; s < 1_000_000; s++) recent.set(s, 'x')
    expect(recent.size).toBe(65_536)
    expect(recent.has(1_000_000 - 65_536)).toBe(true)
    expect(recent.has(1_000_000 - 65_537)).toBe(false)
  })

  it('keys set and deleted again and again do not pile up in its order (requests in flight)', () => {
    const m = new RecentMap<string, number>(16)
    for (let i = 0; i < 200_000; i++) {
      m.set(`r${i}`, i)
      m.delete(`r${i}`)
    }
    m.set('kept', 1)
    expect(m.get('kept')).toBe(1)
    const keys = (m as unknown as { keys: unknown[] }).keys
    expect(keys.length).toBeLessThanOrEqual(2 * 16 + 1024 + 1)
  })
})
