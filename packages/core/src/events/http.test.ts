import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { capture } from '../../test/helpers'
import { compileHeaderAllowList, pickHeaders } from '../http/headers'

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

describe('http-request event: request facts and method', () => {
  // Optional strings as adapters and contexts may hold them: absent, empty (falsy) or set.
  const fact = fc.option(fc.constantFrom('', 'a', 'b-1', '10.0.0.9'), { nil: undefined })

  it("take the request's own client, user agent, request id and trace over the context's (property)", () => {
    const facts = fc.record(
      { clientIp: fact, userAgent: fact, requestId: fact, traceId: fact, spanId: fact },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(facts, fc.option(facts, { nil: undefined }), (input, ctx) => {
        // What the event says, as written before: the context copied, then the request's values over it.
        const merged: Record<string, string | undefined> = { ...ctx }
        if (input.clientIp) merged.clientIp = input.clientIp
        if (input.userAgent) merged.userAgent = input.userAgent
        if (input.requestId) merged.requestId = input.requestId
        if (input.traceId) {
          merged.traceId = input.traceId
          merged.spanId = input.spanId
        }
        const { audit, events } = capture()
        const send = () => audit.httpRequest({ method: 'GET', path: '/', statusCode: 200, ...input })
        if (ctx) audit.runWithContext(ctx, send)
        else send()
        const e = events()[0]
        expect(e.client?.ip).toBe(merged.clientIp || undefined)
        expect(e.source?.ip).toBe(merged.clientIp || undefined)
        expect(e.user_agent?.original).toBe(merged.userAgent || undefined)
        if (!input.requestId && /^[0-9._:-]+$/.test(ctx?.requestId ?? '')) {
          // a context request id of digits and separators (an SSN, phone or date shape) is replaced
          expect(e.http.request.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/)
        } else {
          expect(e.http.request.id).toBe(merged.requestId || undefined)
        }
        expect(e.trace?.id).toBe(merged.traceId || undefined)
        expect(e.span?.id).toBe((merged.traceId && merged.spanId) || undefined)
      }),
      { numRuns: 300 },
    )
  })

  it('is written upper-cased and cut at 16 characters, the common ones as they come (property)', () => {
    const method = fc.oneof(
      fc.constantFrom('GET', 'get', 'Post', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND'),
      fc.string({ maxLength: 24 }),
    )
    fc.assert(
      fc.property(method, (m) => {
        const { audit, events } = capture()
        audit.httpRequest({ method: m, path: '/', statusCode: 200 })
        expect(events()[0].http.request.method).toBe(m.toUpperCase().slice(0, 16))
      }),
      { numRuns: 300 },
    )
  })
})
