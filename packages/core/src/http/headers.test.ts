import { describe, expect, it } from 'vitest'
import { compileHeaderAllowList, DEFAULT_HEADER_ALLOW_LIST, headerRefusal, pickHeaders } from './headers'

describe('header allow-list', () => {
  it('defaults to a small list without credentials, user agent or request id', () => {
    expect(DEFAULT_HEADER_ALLOW_LIST).toContain('content-type')
    expect(DEFAULT_HEADER_ALLOW_LIST).not.toContain('authorization')
    expect(DEFAULT_HEADER_ALLOW_LIST).not.toContain('cookie')
    expect(DEFAULT_HEADER_ALLOW_LIST).not.toContain('user-agent')
    expect(DEFAULT_HEADER_ALLOW_LIST).not.toContain('x-request-id')
    for (const name of DEFAULT_HEADER_ALLOW_LIST) expect(headerRefusal(name)).toBeUndefined()
  })

  it('adds extra names, lower-cased', () => {
    const list = compileHeaderAllowList(['X-Tenant', 'accept-language'])
    expect(list).toContain('x-tenant')
    expect(list).toContain('accept-language')
    expect(list).toContain('content-type')
  })

  it('refuses credential headers even when listed, with a message saying what to change', () => {
    for (const name of [
      'authorization',
      'Authorization',
      'cookie',
      'set-cookie',
      'proxy-authorization',
      'x-api-key',
      'x-auth-token',
      'x-csrf-token',
      'x-session-id',
      'x-client-secret',
      'x-auth-request-email',
      'x-forwarded-access-token',
    ]) {
      expect(() => compileHeaderAllowList([name]), name).toThrow(
        /never logged; remove it from the allow-list/,
      )
    }
    expect(() => compileHeaderAllowList('accept')).toThrow(/must be an array of header names/)
    expect(() => compileHeaderAllowList([42])).toThrow(/entries must be strings/)
    expect(() => compileHeaderAllowList(['bad header'])).toThrow(/not a valid header name/)
  })

  it('picks only allow-listed headers, capping long values', () => {
    const picked = pickHeaders(
      {
        accept: 'application/json',
        authorization: 'Bearer secret',
        cookie: 'sid=1',
        'x-tenant': ['a', 'b'],
        'content-type': 'x'.repeat(1000),
      },
      compileHeaderAllowList(['x-tenant']),
    )
    expect(picked).toEqual({
      accept: 'application/json',
      'x-tenant': 'a, b',
      'content-type': 'x'.repeat(256),
    })
    expect(pickHeaders({ authorization: 'x' }, DEFAULT_HEADER_ALLOW_LIST)).toBeUndefined()
  })
})
