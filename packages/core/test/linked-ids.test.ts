/**
 * A pseudonym and its clear value never appear together: the resource id of an access call, and the
 * ids a request pseudonymised before, are replaced wherever else they occur in the records.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { clearValuesNextToPseudonyms, hasToken } from '../../../scripts/clear-ids.mjs'
import { pseudonymize } from '../src/index'
import { compilePolicy } from '../src/redact/index'
import { capture } from './helpers'

const KEY = 'linked-ids-test-pseudonym-key-0123456789'
const policy = compilePolicy({ pseudonymKey: KEY }, {})
const ps = (id: string) => pseudonymize(id, policy, 'resource')

describe('an access call', () => {
  it('replaces its own resource id in error.message, reason, message and details', () => {
    const { audit, lines } = capture({ redaction: { pseudonymKey: KEY } })
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: 'p-1001' },
      outcome: 'failure',
      error: new Error('patient p-1001 is locked'),
      reason: 'p-1001 locked by another user',
      message: 'chart of p-1001',
      details: { note: 'see p-1001', list: ['P-1001'] },
    })
    expect(lines).toHaveLength(1)
    expect(lines[0]).not.toMatch(/p-1001/i)
    const e = JSON.parse(lines[0] as string)
    expect(e.audit.resource.id).toBe(ps('p-1001'))
    expect(e.error.message).toBe(`patient ${ps('p-1001')} is locked`)
    expect(e.event.reason).toBe(`${ps('p-1001')} locked by another user`)
  })

  it('without a key: the clear id is masked wherever it occurs, as the resource id is', () => {
    const { audit, lines } = capture({ redaction: { pseudonymKey: undefined } })
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: 'p-1001' },
      error: new Error('patient p-1001 is locked'),
    })
    expect(lines[0]).not.toContain('p-1001')
    expect(JSON.parse(lines[0] as string).error.message).toBe('patient [REDACTED:resource] is locked')
  })

  it('inside a context: later records of the context replace the id too; other contexts do not see it', async () => {
    const { audit, events } = capture({ redaction: { pseudonymKey: KEY } })
    await Promise.all([
      audit.runWithContext({ requestId: 'r-1' }, async () => {
        audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: 'p-1001' } })
        await new Promise((r) => setImmediate(r))
        audit.dbQuery({ operation: 'SELECT', error: new Error('row p-1001 is locked'), text: 'select 1' })
      }),
      audit.runWithContext({ requestId: 'r-2' }, async () => {
        await new Promise((r) => setImmediate(r))
        // another request: p-1001 means nothing here (no pseudonym of it in this request's records)
        audit.dbQuery({ operation: 'SELECT', error: new Error('row p-1001 is locked'), text: 'select 1' })
      }),
    ])
    const byRequest = (id: string) => events().filter((e) => e.http?.request?.id === id)
    expect(byRequest('r-1')[1].error.message).toBe(`row ${ps('p-1001')} is locked`)
    expect(byRequest('r-2')[0].error.message).toBe('row p-1001 is locked')
  })
})

describe('property: random opaque ids never appear as a token in a record that holds their pseudonym', () => {
  const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split(''))
  const id = fc.oneof(
    fc.uuid(),
    fc.string({ unit: alnum, minLength: 1, maxLength: 10 }),
    fc.string({ unit: alnum, minLength: 1, maxLength: 6 }).map((s) => `p-${s}`),
    fc.integer({ min: 0, max: 99_999_999 }).map(String),
  )
  const words = fc.array(
    fc.oneof(fc.string({ unit: alnum, maxLength: 8 }), fc.constantFrom(' ', '-', ':', '/', '"')),
    {
      maxLength: 6,
    },
  )

  it('in error messages, reasons, messages and details of access events and of later db events', () => {
    fc.assert(
      fc.property(id, words, words, (clear, before, after) => {
        const { audit, lines } = capture({ redaction: { pseudonymKey: KEY } })
        const around = (s: string) => `${before.join('')} ${s} ${after.join('')}`
        audit.runWithContext({ requestId: 'r' }, () => {
          audit.access({
            action: 'patient-record-read',
            resource: { type: 'patient', id: clear },
            error: new Error(around(clear)),
            reason: around(clear.toUpperCase()),
            message: around(clear),
            details: { note: around(clear) },
          })
          audit.dbQuery({ operation: 'SELECT', error: new Error(around(clear)), text: 'select 1' })
        })
        expect(lines).toHaveLength(2)
        for (const line of lines) {
          const e = JSON.parse(line)
          const text = JSON.stringify({ message: e.message, event: e.event, error: e.error, audit: e.audit })
          expect(hasToken(text, clear)).toBe(false)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe("the app tests' check (scripts/clear-ids.mjs) is not vacuous", () => {
  it('finds a clear value planted next to its pseudonym, in the same record or the same request', () => {
    const uuid = '3f2504e0-4f89-41d3-9a0c-0305e82c3301'
    const lines = [
      JSON.stringify({ http: { request: { id: 'r1' } }, url: { path: `/patients/${ps(uuid)}` } }),
      JSON.stringify({ http: { request: { id: 'r1' } }, error: { message: `chart:${uuid} missing` } }),
      JSON.stringify({ http: { request: { id: 'r2' } }, error: { message: 'chart p-1001 missing' } }),
      JSON.stringify({ message: `x ${ps('p-1001')} and p-1001` }),
    ]
    expect(clearValuesNextToPseudonyms(lines, ps)).toEqual([
      [uuid, 'r1'],
      ['p-1001', '(none)'],
    ])
  })
})
