import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { queryKeys, splitUrl } from './url'

describe('splitUrl', () => {
  it('separates path and query and drops fragments and absolute-form authority', () => {
    expect(splitUrl('/a/b?x=1&y=2')).toEqual({ path: '/a/b', query: 'x=1&y=2' })
    expect(splitUrl('/a/b')).toEqual({ path: '/a/b', query: undefined })
    expect(splitUrl('/a#frag')).toEqual({ path: '/a', query: undefined })
    expect(splitUrl('http://user:pw@host:8080/p?q=1')).toEqual({ path: '/p', query: 'q=1' })
    expect(splitUrl('http://host')).toEqual({ path: '/', query: undefined })
    expect(splitUrl('?x=1')).toEqual({ path: '/', query: 'x=1' })
    expect(splitUrl(undefined)).toEqual({ path: '/', query: undefined })
  })
})

describe('queryKeys', () => {
  it('keeps distinct keys, never values', () => {
    expect(queryKeys('ssn=123-45-6789&name=Jane+Doe&name=x&flag&=orphan&a%5Bb%5D=1')).toEqual([
      'ssn',
      'name',
      'flag',
      'a[b]',
    ])
    expect(queryKeys('')).toBeUndefined()
    expect(queryKeys(undefined)).toBeUndefined()
    expect(queryKeys('bad%zz=1')).toEqual(['bad%zz'])
  })

  it('caps the number and length of keys', () => {
    const q = Array.from({ length: 100 }, (_, i) => `k${i}=v`).join('&')
    expect(queryKeys(q)).toHaveLength(32)
    expect(queryKeys(`${'k'.repeat(500)}=1`)?.[0]).toHaveLength(64)
  })

  it('never returns any part of a value (property)', () => {
    const key = fc.stringMatching(/^[a-z]{1,8}$/)
    const value = fc.stringMatching(/^[A-Z0-9]{6,12}$/)
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 10 }), (pairs) => {
        const keys = queryKeys(pairs.map(([k, v]) => `${k}=${v}`).join('&')) ?? []
        for (const [, v] of pairs) for (const k of keys) expect(k).not.toContain(v)
      }),
    )
  })
})
