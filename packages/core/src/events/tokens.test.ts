import { describe, expect, it } from 'vitest'
import { BoundedCache } from '../cache'
import { compilePolicy } from '../redact/index'
import type { BuildEnv } from './record'
import { createIsoClock } from './time'
import { MAX_TOKENS, tokenList } from './tokens'

const env: BuildEnv = {
  policy: compilePolicy(undefined, {}),
  service: {},
  tokens: new BoundedCache(256, 128),
  dbTokens: new BoundedCache(256, 128),
  dbNames: new BoundedCache(256, 128),
  clock: createIsoClock(),
}

describe('tokenList (event.category / event.type)', () => {
  it('keeps a list of ECS values as it is', () => {
    const list = ['authentication', 'session']
    expect(tokenList(list, env)).toEqual({ list, cut: false })
    expect(tokenList(list, env).list).toBe(list)
    expect(tokenList('web', env)).toEqual({ list: ['web'], cut: false })
  })

  it('cuts long lists and says so', () => {
    const r = tokenList(
      Array.from({ length: 100_000 }, () => 'web'),
      env,
    )
    expect(r.list).toHaveLength(MAX_TOKENS)
    expect(r.cut).toBe(true)
  })

  it('cleans values outside ECS like any caller token: no identifiers, no free text, no non-strings', () => {
    const r = tokenList(['patient 123-45-6789', 42, { a: 1 }, 'x'.repeat(1000), 'custom_kind'], env)
    expect(r.cut).toBe(false)
    expect(r.list).toHaveLength(3)
    expect(r.list.join(' ')).not.toContain('123-45-6789')
    expect(r.list[1]!.length).toBeLessThanOrEqual(128)
    expect(r.list[2]).toBe('custom_kind')
    expect(tokenList(undefined, env)).toEqual({ list: [], cut: false })
  })
})
