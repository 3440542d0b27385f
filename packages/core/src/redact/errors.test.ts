import { describe, expect, it } from 'vitest'
import { compilePolicy, describeError } from './index'

const policy = compilePolicy(undefined, {})
const d = (e: unknown) => describeError(e, policy)

describe('describeError', () => {
  it('gives type, code and the message through the detectors, never the stack', () => {
    const err = Object.assign(new Error('duplicate key for jane@example.org (ssn 123-45-6789)'), {
      code: '23505',
      detail: 'Key (email)=(jane@example.org) already exists.',
    })
    const out = d(err)
    expect(out).toEqual({
      type: 'Error',
      code: '23505',
      message: 'duplicate key for [REDACTED:email] (ssn [REDACTED:ssn])',
    })
    expect(JSON.stringify(out)).not.toMatch(/at |\.ts:|jane/)
  })
  it('uses the error name or class', () => {
    class DbError extends Error {}
    expect(d(new TypeError('x')).type).toBe('TypeError')
    expect(d(new DbError('x')).type).toBe('Error')
    const named = new DbError('x')
    named.name = 'DbError'
    expect(d(named).type).toBe('DbError')
    expect(d(Object.assign(new Error('x'), { code: 42 })).code).toBe('42')
  })
  it('handles things that are not Errors', () => {
    expect(d('failed for 555-123-4567')).toEqual({ type: 'string', message: 'failed for [REDACTED:phone]' })
    expect(d(42)).toEqual({ type: 'number', message: '42' })
    expect(d(null)).toEqual({ type: 'null' })
    expect(d(undefined)).toEqual({ type: 'undefined' })
    expect(d({ message: 'm', code: 'E' })).toEqual({ type: 'Object', message: 'm', code: 'E' })
    expect(d(Symbol('x'))).toEqual({ type: 'symbol', message: 'Symbol(x)' })
  })
  it('never throws, whatever the thrown value does', () => {
    const hostile = new Proxy(new Error('x'), {
      get() {
        throw new Error('trap')
      },
      getPrototypeOf() {
        throw new Error('trap')
      },
    })
    expect(d(hostile)).toEqual({ type: 'Object' })
    const evil = new Error('x')
    Object.defineProperty(evil, 'message', {
      get() {
        throw new Error('getter')
      },
    })
    Object.defineProperty(evil, 'name', {
      value: {
        toString: () => {
          throw new Error('toString')
        },
      },
    })
    expect(d(evil)).toEqual({ type: 'Error' })
  })
  it('sanitises and caps what it returns', () => {
    const out = d(Object.assign(new Error(`\x1b[31m${'a '.repeat(5000)}`), { name: 'Bad\nName\u0000' }))
    expect(out.type).toBe('Bad\nName')
    expect(out.message!.length).toBeLessThanOrEqual(1024)
    expect(out.message).not.toContain('\x1b')
  })
})
