import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { shrinkToFit } from './limit'

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')

/** A record as the builders lay it out, with `extra` where callers put their own data. */
function record(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    '@timestamp': '2026-12-06T00:00:00.000Z',
    audit: { resource: { id: 'ps_abcdef_0123456789abcdef01234567', type: 'patient' } },
    'ecs.version': '8.17.0',
    event: { action: 'a', category: ['web'], id: 'e1', kind: 'event', outcome: 'success', type: ['access'] },
    'log.level': 'info',
    message: 'm',
    service: { name: 'svc' },
    ...extra,
  }
}

describe('shrinkToFit', () => {
  it('cuts lists of many short entries, which cutting strings cannot shrink', () => {
    const r = record({ user: { id: 'u1', roles: Array.from({ length: 100_000 }, () => 'r') } })
    ;(r.event as Record<string, unknown>).category = Array.from({ length: 100_000 }, () => 'web')
    const json = shrinkToFit(r, 16383)
    expect(bytes(json)).toBeLessThanOrEqual(16383)
    const out = JSON.parse(json)
    expect(out.audit).toMatchObject({
      truncated: true,
      resource: { id: 'ps_abcdef_0123456789abcdef01234567' },
    })
    expect(out.user.id).toBe('u1')
    expect(out.event.category.length).toBeGreaterThan(0)
  })

  it('an object with thousands of keys in the skeleton ends as the minimal record', () => {
    const event = record({}).event as Record<string, unknown>
    for (let i = 0; i < 5000; i++) event[`k${i}`] = i
    const json = shrinkToFit(record({ event }), 8192)
    expect(bytes(json)).toBeLessThanOrEqual(8192)
    expect(JSON.parse(json).event).toEqual({
      action: 'a',
      category: ['web'],
      id: 'e1',
      kind: 'event',
      outcome: 'success',
      type: ['access'],
    })
  })

  it('never splits a surrogate pair', () => {
    const json = shrinkToFit(record({ message: '🩺'.repeat(20_000) }), 4096)
    expect(bytes(json)).toBeLessThanOrEqual(4096)
    expect((json as unknown as { isWellFormed(): boolean }).isWellFormed()).toBe(true)
  })

  it('property: any JSON data anywhere in a record fits any budget of 4 KiB or more', () => {
    const data = fc.jsonValue({ maxDepth: 6 })
    const wide = fc
      .record({ n: fc.nat(5000), s: fc.string({ unit: 'binary', maxLength: 30 }) })
      .map(({ n, s }) => Array.from({ length: n }, () => s))
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('audit', 'event', 'user', 'http', 'message', 'extra', 'service'),
          fc.oneof(data, wide),
        ),
        fc.integer({ min: 4096, max: 16383 }),
        (extra, budget) => {
          const json = shrinkToFit(record(extra), budget)
          expect(bytes(json)).toBeLessThanOrEqual(budget)
          expect(JSON.parse(json).audit.truncated).toBe(true)
        },
      ),
      { numRuns: 120 },
    )
  })
})
