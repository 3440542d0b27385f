import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAuditLogger } from '../logger'
import { compilePolicy } from '../redact/index'
import { isPhiShapedRequestId, isSaneRequestId, requestIdFrom } from './request-id'

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
        // kept: sane, and no identifier in it (digits and separators only, or what a detector finds)
        expect(out === s).toBe(sane && !isPhiShapedRequestId(s))
      }),
    )
  })
})

describe('request ids that hold an identifier are replaced, never written', () => {
  const policy = compilePolicy({ detectors: [{ name: 'mrn', pattern: /MRN\d{6,}/g }] }, {})
  const planted = [
    '123-45-6789', // SSN
    '123456789',
    '4111111111111111', // card
    '4111-1111-1111-1111',
    '555-867-5309', // phone
    '+15558675309',
    '1961-07-04', // date of birth
    '07.04.1961',
    '48213377', // an MRN of digits
    'MRN48213377', // the service's MRN format (its own detector)
    'jane.doe_at_example.com',
  ]
  it('by the value detectors (the logger policy, its own detectors included) and the digits-only rule', () => {
    for (const id of planted.slice(0, -1)) {
      const out = requestIdFrom(id, policy)
      expect(out, id).toMatch(UUID)
    }
    // generated ids keep correlating across services
    for (const id of ['0f8fad5b-d9cb-469f-a165-70867728950e', '01HZX3J5Q7K9M2N4P6R8T0V2W4', 'req:1.2_3-4'])
      expect(requestIdFrom(id, policy)).toBe(id)
  })

  it('through a logger: an http event and a runWithContext id never carry the planted value', () => {
    const lines: string[] = []
    const audit = createAuditLogger({
      integrity: { enabled: false },
      destination: { write: (l: string) => lines.push(l) },
      redaction: { detectors: [{ name: 'mrn', pattern: /MRN\d{6,}/g }] },
    })
    for (const id of planted.slice(0, -1)) {
      audit.runWithContext({ requestId: id }, () =>
        audit.event({ action: 'x', category: 'process', type: 'info', outcome: 'success' }),
      )
      audit.runWithContext(
        { requestId: Number.parseInt(id.replace(/\D/g, '').slice(0, 15), 10) as never },
        () => audit.event({ action: 'x', category: 'process', type: 'info', outcome: 'success' }),
      )
    }
    const all = lines.join('\n')
    for (const id of planted.slice(0, -1)) expect(all).not.toContain(id)
    for (const line of lines) expect(JSON.parse(line).http.request.id).toMatch(UUID)
  })
})
