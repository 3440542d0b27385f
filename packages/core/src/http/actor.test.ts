import { describe, expect, it } from 'vitest'
import { actorFromClaims, actorFromHeaders, compileIdentityHeaders, conventionalActor } from './actor'

describe('actorFromClaims', () => {
  it('maps OIDC claims (Dex): sub -> id, iss -> domain, groups -> roles, never email as id', () => {
    const dex = {
      iss: 'https://dex.example.com',
      sub: 'CiQwOGE4Njg0Yi1kYjg4',
      email: 'kilgore@example.com',
      email_verified: true,
      groups: ['admins', 'clinicians'],
      name: 'Kilgore Trout',
      preferred_username: 'ktrout',
    }
    expect(actorFromClaims(dex)).toEqual({
      id: 'CiQwOGE4Njg0Yi1kYjg4',
      name: 'ktrout',
      roles: ['admins', 'clinicians'],
      domain: 'https://dex.example.com',
    })
  })

  it('reads Passport-style user objects and numeric ids', () => {
    expect(actorFromClaims({ id: 42, username: 'nurse1', roles: ['nurse'] })).toEqual({
      id: '42',
      name: 'nurse1',
      roles: ['nurse'],
    })
    expect(actorFromClaims({ username: 'doc', role: 'physician' })).toEqual({
      id: 'doc',
      roles: ['physician'],
    })
    expect(actorFromClaims('user-7')).toEqual({ id: 'user-7' })
  })

  it('uses permissions or scope only when there are no roles or groups', () => {
    expect(actorFromClaims({ sub: 'a', scope: 'read:patients write:notes' })?.roles).toEqual([
      'read:patients',
      'write:notes',
    ])
    expect(actorFromClaims({ sub: 'a', roles: ['x'], scope: 'y' })?.roles).toEqual(['x'])
    expect(actorFromClaims({ sub: 'a', realm_access: { roles: ['kc'] } })?.roles).toEqual(['kc'])
  })

  it('takes email as the id only when no other id exists', () => {
    expect(actorFromClaims({ email: 'a@b.example' })).toEqual({ id: 'a@b.example' })
    expect(actorFromClaims({ sub: 's', email: 'a@b.example' })?.id).toBe('s')
  })

  it('returns undefined without an id and survives hostile input', () => {
    expect(actorFromClaims({})).toBeUndefined()
    expect(actorFromClaims(null)).toBeUndefined()
    expect(actorFromClaims({ sub: { nested: 1 } })).toBeUndefined()
    expect(actorFromClaims({ sub: 'x\n\u0000y'.padEnd(1000, 'z') })?.id).toHaveLength(256)
    expect(actorFromClaims({ sub: 'x\r\ny' })?.id).toBe('xy')
  })
})

describe('conventionalActor', () => {
  it('reads req.user, then req.auth.payload, then req.auth, then req.oidc.user', () => {
    expect(conventionalActor({ user: { id: 'u' }, auth: { sub: 'a' } })?.id).toBe('u')
    expect(conventionalActor({ auth: { payload: { sub: 'p', iss: 'https://idp' }, token: 'x' } })).toEqual({
      id: 'p',
      domain: 'https://idp',
    })
    expect(conventionalActor({ auth: { sub: 'jwt' } })?.id).toBe('jwt')
    expect(conventionalActor({ oidc: { user: { sub: 'o' } } })?.id).toBe('o')
    expect(conventionalActor({})).toBeUndefined()
  })
})

describe('identity headers', () => {
  it('presets and explicit specs compile; bad ones throw with a hint', () => {
    expect(compileIdentityHeaders('oauth2-proxy').id).toBe('x-auth-request-user')
    expect(compileIdentityHeaders({ id: 'X-Remote-User', domain: 'corp' })).toEqual({
      id: 'x-remote-user',
      domain: 'corp',
    })
    expect(() => compileIdentityHeaders('nope')).toThrow(
      /must be 'oauth2-proxy', 'x-forwarded-user' or an object/,
    )
    expect(() => compileIdentityHeaders({})).toThrow(/trustedIdentityHeaders.id must be a header name/)
    expect(() => compileIdentityHeaders({ id: 'x', group: 'y' })).toThrow(/unknown key 'group'/)
    expect(() => compileIdentityHeaders(true)).toThrow(/must be a preset name or an object/)
  })

  it('reads the configured headers', () => {
    const spec = compileIdentityHeaders('oauth2-proxy')
    expect(
      actorFromHeaders(
        {
          'x-auth-request-user': 'u-1',
          'x-auth-request-groups': 'admins, nurses',
          'x-auth-request-preferred-username': 'nurse.joy',
        },
        spec,
      ),
    ).toEqual({ id: 'u-1', name: 'nurse.joy', roles: ['admins', 'nurses'], type: 'user' })
    expect(actorFromHeaders({ 'x-forwarded-user': 'u' }, spec)).toBeUndefined()
    expect(actorFromHeaders({ 'x-auth-request-user': '  ' }, spec)).toBeUndefined()
  })
})
