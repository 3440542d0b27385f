import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { compileHttpAuditOptions } from './options'

const req = (headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  ({ headers, ...extra }) as unknown as IncomingMessage

describe('compileHttpAuditOptions', () => {
  it('has safe defaults', () => {
    const c = compileHttpAuditOptions(undefined)
    expect(c.failClosed).toBe(false)
    expect(c.refuseWhenClosed).toBe(true)
    expect(compileHttpAuditOptions({ failClosed: true })).toMatchObject({
      failClosed: true,
      refuseWhenClosed: true,
    })
    expect(compileHttpAuditOptions({ failClosed: false })).toMatchObject({
      failClosed: false,
      refuseWhenClosed: false,
    })
    expect(c.requestIdHeader).toBe('x-request-id')
    expect(c.echoRequestId).toBe(true)
    expect(c.isIgnored(req(), '/healthz')).toBe(false)
    expect(c.actionFor('GET', '/x')).toBeUndefined()
  })

  it('rejects unknown and mistyped options with a message naming them', () => {
    expect(() => compileHttpAuditOptions({ failclosed: true })).toThrow(/unknown option 'failclosed'/)
    expect(() => compileHttpAuditOptions({ failClosed: 'yes' })).toThrow(/failClosed must be true or false/)
    expect(() => compileHttpAuditOptions({ actor: 'sub' })).toThrow(/actor must be a function/)
    expect(() => compileHttpAuditOptions({ ignore: 'healthz' })).toThrow(/paths must start with '\/'/)
    expect(() => compileHttpAuditOptions({ ignore: [42] })).toThrow(/ignore must be a path string, a RegExp/)
    expect(() => compileHttpAuditOptions({ actions: { 'patients/:id': 'x' } })).toThrow(
      /must be a route template/,
    )
    expect(() => compileHttpAuditOptions({ actions: { '/p': 'has space' } })).toThrow(
      /must be an action name/,
    )
    expect(() => compileHttpAuditOptions({ headers: ['cookie'] })).toThrow(/'cookie' carries credentials/)
    expect(() => compileHttpAuditOptions({ requestIdHeader: 'a b' })).toThrow(
      /requestIdHeader must be a header name/,
    )
    expect(() => compileHttpAuditOptions([])).toThrow(/must be an object/)
    expect(() => compileHttpAuditOptions({ extra: 1 }, { extraKeys: ['extra'] })).not.toThrow()
  })

  it('ignore rules: exact paths, prefixes, regular expressions (even global ones) and predicates', () => {
    const c = compileHttpAuditOptions({
      ignore: ['/healthz', '/metrics*', /^\/static\//g, (r: IncomingMessage) => r.headers['x-probe'] === '1'],
    })
    expect(c.isIgnored(req(), '/healthz')).toBe(true)
    expect(c.isIgnored(req(), '/healthz/deep')).toBe(false)
    expect(c.isIgnored(req(), '/metrics/prom')).toBe(true)
    // a global regex would alternate true/false through lastIndex; it must not
    for (let i = 0; i < 4; i++) expect(c.isIgnored(req(), '/static/app.js')).toBe(true)
    expect(c.isIgnored(req({ 'x-probe': '1' }), '/x')).toBe(true)
    expect(c.isIgnored(req(), '/patients/1')).toBe(false)
    const throwing = compileHttpAuditOptions({
      ignore: () => {
        throw new Error('boom')
      },
    })
    expect(throwing.isIgnored(req(), '/x')).toBe(false)
  })

  it('per-route actions by method and route, or by function', () => {
    const c = compileHttpAuditOptions({
      actions: { 'GET /patients/:id': 'patient-record-read', '/patients/:id': 'patient-record-change' },
    })
    expect(c.actionFor('GET', '/patients/:id')).toBe('patient-record-read')
    expect(c.actionFor('PUT', '/patients/:id')).toBe('patient-record-change')
    expect(c.actionFor('GET', '/other')).toBeUndefined()
    expect(c.actionFor('GET', undefined)).toBeUndefined()
    const f = compileHttpAuditOptions({
      actions: ({ method }: { method: string }) => (method === 'DELETE' ? 'record-delete' : 'bad name'),
    })
    expect(f.actionFor('DELETE', '/x')).toBe('record-delete')
    expect(f.actionFor('GET', '/x')).toBeUndefined()
  })

  it('actor: custom resolver replaces the default; throwing resolvers give no actor', () => {
    const custom = compileHttpAuditOptions({
      actor: (r: IncomingMessage) => ({ id: String(r.headers['x-u']) }),
    })
    expect(custom.resolveActor(req({ 'x-u': 'me' }, { user: { id: 'other' } }))).toEqual({ id: 'me' })
    const bad = compileHttpAuditOptions({
      actor: () => {
        throw new Error('no')
      },
    })
    expect(bad.resolveActor(req())).toBeUndefined()
    const invalid = compileHttpAuditOptions({ actor: () => ({ name: 'no id' }) as never })
    expect(invalid.resolveActor(req())).toBeUndefined()
  })

  it('identity headers are ignored unless configured', () => {
    const spoofed = req({ 'x-forwarded-user': 'admin' })
    expect(compileHttpAuditOptions({}).resolveActor(spoofed)).toBeUndefined()
    const trusted = compileHttpAuditOptions({ trustedIdentityHeaders: 'x-forwarded-user' })
    expect(trusted.resolveActor(spoofed)).toEqual({ id: 'admin', type: 'user' })
    // the conventions still apply when the header is absent
    expect(trusted.resolveActor(req({}, { user: { id: 'u' } }))).toEqual({ id: 'u' })
  })
})
