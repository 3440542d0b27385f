import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSaneRequestId, requestIdFrom } from './request-id'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('request id', () => {
  it('keeps sane incoming tokens', () => {
    for (const id of ['abc', '0f8fad5b-d9cb-469f-a165-70867728950e', 'req:1.2_3-4', 'A'.repeat(128)]) {
      expect(isSaneRequestId(id)).toBe(true)
      expect(requestIdFrom(id)).toBe(id)
    }
  })

  it('replaces anything else with a fresh UUID and never echoes the rejected value', () => {
    const bad = [
      '',
      ' ',
      'A'.repeat(129),
      'jane.doe@example.com',
      'Jane Doe',
      '123-45-6789\n',
      'a/b',
      'x%20y',
      '<script>',
    ]
    for (const id of bad) {
      const out = requestIdFrom(id)
      expect(out).toMatch(UUID)
      expect(out).not.toContain(id.trim() || 'never')
    }
    expect(requestIdFrom(undefined)).toMatch(UUID)
    expect(requestIdFrom(['ok-1', 'ok-2'])).toBe('ok-1')
  })

  it('generates distinct ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => requestIdFrom(undefined)))
    expect(ids.size).toBe(1000)
  })

  it('accepts exactly the documented charset and length (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const sane = s.length > 0 && s.length <= 128 && /^[A-Za-z0-9._:-]+$/.test(s)
        expect(isSaneRequestId(s)).toBe(sane)
        const out = requestIdFrom(s)
        expect(out === s).toBe(sane)
      }),
    )
  })
})
