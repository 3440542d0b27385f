import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createIsoClock } from './time'

describe('createIsoClock', () => {
  it('is exactly Date#toISOString for any time, in any order (property)', () => {
    // Times near each other (same second, same millisecond) and far apart, in random order, so that
    // every path is taken: the millisecond memo, the second's prefix, and the whole format.
    const time = fc.oneof(
      fc.integer({ min: -62167219200000, max: 253402300799999 }), // years 0000-9999
      fc.integer({ min: 1764000000000, max: 1764000005000 }), // a few seconds of 2025
      fc.integer({ min: -8640000000000000, max: 8640000000000000 }), // every valid Date
    )
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 50 }), (times) => {
        const clock = createIsoClock()
        for (const ms of times) expect(clock.of(ms)).toBe(new Date(ms).toISOString())
      }),
      { numRuns: 500 },
    )
  })

  it("a fresh clock's first call, in the second before the epoch, is formatted whole (found by the property)", () => {
    expect(createIsoClock().of(-35)).toBe('1969-12-31T23:59:59.965Z')
  })

  it('the same millisecond and second reuse their text; a new second starts a new prefix', () => {
    const clock = createIsoClock()
    const base = Date.UTC(2026, 10, 29, 6, 59, 59, 998)
    expect([base, base, base + 1, base + 2, base + 3].map(clock.of)).toEqual([
      '2026-11-29T06:59:59.998Z',
      '2026-11-29T06:59:59.998Z',
      '2026-11-29T06:59:59.999Z',
      '2026-11-29T07:00:00.000Z',
      '2026-11-29T07:00:00.001Z',
    ])
  })

  it('two clocks do not share what they remember', () => {
    const a = createIsoClock()
    const b = createIsoClock()
    const t = Date.UTC(2026, 10, 29, 6, 59, 59, 998)
    expect(a.of(t)).toBe('2026-11-29T06:59:59.998Z')
    expect(b.of(t + 1000)).toBe('2026-11-29T07:00:00.998Z')
    expect(a.of(t + 1)).toBe('2026-11-29T06:59:59.999Z')
  })

  it('now() is the current time', () => {
    const before = Date.now()
    const now = Date.parse(createIsoClock().now())
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
  })
})
