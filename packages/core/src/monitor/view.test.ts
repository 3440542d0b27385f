import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isoTimeReader } from './view'

describe('isoTimeReader', () => {
  it('answers exactly as Date.parse, for record times in any order and for any other text (property)', () => {
    // Times clustered in a few seconds (the cache's case), spread over years, and arbitrary strings
    // shaped like timestamps (wrong digits, other zones, no Z).
    const near = fc.integer({ min: 0, max: 5_000 }).map((d) => new Date(1_765_000_000_000 + d).toISOString())
    const far = fc
      .integer({ min: -62_000_000_000_000, max: 250_000_000_000_000 })
      .map((t) => new Date(t).toISOString())
    const odd = fc.oneof(
      near.map((s) => `${s.slice(0, 20)}9x9Z`),
      near.map((s) => s.replace('Z', '+01:00')),
      near.map((s) => s.slice(0, 23)),
      near.map((s) => `${s.slice(0, 20)}${s.slice(20, 23)}z`),
      fc.string({ maxLength: 30 }),
    )
    fc.assert(
      fc.property(fc.array(fc.oneof(near, near, far, odd), { maxLength: 60 }), (texts) => {
        const read = isoTimeReader()
        for (const t of texts) expect(Object.is(read(t), Date.parse(t))).toBe(true)
      }),
    )
  })

  it('reads the milliseconds of a second it has seen without Date.parse', () => {
    const read = isoTimeReader()
    expect(read('2026-12-06T03:00:01.000Z')).toBe(Date.UTC(2026, 11, 6, 3, 0, 1, 0))
    const parse = Date.parse
    Date.parse = () => {
      throw new Error('Date.parse called')
    }
    try {
      expect(read('2026-12-06T03:00:01.999Z')).toBe(Date.UTC(2026, 11, 6, 3, 0, 1, 999))
      expect(read('2026-12-06T03:00:01.042Z')).toBe(Date.UTC(2026, 11, 6, 3, 0, 1, 42))
    } finally {
      Date.parse = parse
    }
  })
})
