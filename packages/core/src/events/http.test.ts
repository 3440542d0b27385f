import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { capture } from '../../test/helpers'
import { pickHeaders } from '../http/headers'
import { compileHeaderAllowList } from '../http/index'

describe('http-request event: request headers', () => {
  it('are written lower-cased, cut at 64 characters and sorted, whatever order and case they come in (property)', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,79}$/)
    const value = fc.stringMatching(/^[a-z]{1,12}$/) // nothing a detector would touch
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, value), {
          maxLength: 12,
          selector: ([n]) => n.toLowerCase().slice(0, 64),
        }),
        (pairs) => {
          const expected = pairs
            .map(([n, v]) => [n.toLowerCase().slice(0, 64), v] as const)
            .sort(([a], [b]) => (a < b ? -1 : 1))
          // As any caller may pass them, and as the adapters do (already lower-case and sorted).
          for (const input of [Object.fromEntries(pairs), Object.fromEntries(expected)]) {
            const { audit, events } = capture()
            audit.httpRequest({ method: 'GET', path: '/', statusCode: 200, headers: input })
            expect(Object.entries(events()[0].http.request.headers ?? {})).toEqual(expected)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('the allow-list is sorted, so the adapters hand them over in the order the record needs', () => {
    const list = compileHeaderAllowList(['X-Tenant', 'accept-language', 'a-first'])
    expect([...list]).toEqual([...list].sort())
    const picked = pickHeaders({ 'x-tenant': 't1', host: 'h', accept: 'a', 'a-first': 'f' }, list)
    expect(Object.keys(picked!)).toEqual(['a-first', 'accept', 'host', 'x-tenant'])
  })
})
