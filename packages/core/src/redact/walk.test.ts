import { describe, expect, it } from 'vitest'
import { compilePolicy, redact } from './index'
import { MAX_DEPTH, MAX_ITEMS, MAX_KEYS, MAX_STRING } from './limits'

const policy = compilePolicy(undefined, {})
const r = (v: unknown) => redact(v, policy) as any

describe('key layer', () => {
  it('replaces strings, numbers, objects and arrays under PHI keys whole; keeps booleans and null', () => {
    expect(
      r({
        ssn: '123-45-6789',
        phone: 5551234567,
        address: { street: '1 Main St', city: 'Springfield' },
        emails: ['a@b.co', 'c@d.co'],
        emailVerified: true,
        fax: null,
        mrn: undefined,
      }),
    ).toEqual({
      address: '[REDACTED:address]',
      emailVerified: true,
      emails: '[REDACTED:email]',
      fax: null,
      phone: '[REDACTED:phone]',
      ssn: '[REDACTED:ssn]',
    })
  })
  it('does not treat bare name, id, type, status as PHI', () => {
    expect(r({ name: 'GET /health', id: 7, type: 'patient', status: 'ok' })).toEqual({
      id: 7,
      name: 'GET /health',
      status: 'ok',
      type: 'patient',
    })
  })
  it('treats name and id under a person as identifiers, also in arrays', () => {
    expect(r({ patient: { name: 'Jane Roe', id: 'p-17', status: 'admitted' } })).toEqual({
      patient: { id: '[REDACTED:id]', name: '[REDACTED:name]', status: 'admitted' },
    })
    expect(r({ patients: [{ name: [{ family: 'Roe', given: ['Jane'] }] }] })).toEqual({
      patients: [{ name: '[REDACTED:name]' }],
    })
    expect(r({ patient: { meta: { id: 'v1' } } })).toEqual({ patient: { meta: { id: 'v1' } } })
  })
  it('a value right under a person key identifies the person; a plural count does not', () => {
    expect(
      r({ patient: 'Jane Roe', member: 12345, patients: 12, guardian: true, contacts: ['Jane Roe', 'p-2'] }),
    ).toEqual({
      contacts: ['[REDACTED:person]', '[REDACTED:person]'],
      guardian: true,
      member: '[REDACTED:person]',
      patient: '[REDACTED:person]',
      patients: 12,
    })
    const remove = compilePolicy({ mode: 'remove' }, {})
    expect(redact({ patient: 'Jane Roe', patients: ['Jane Roe'], ok: 1 }, remove)).toEqual({
      ok: 1,
      patients: [null],
    })
  })
  it('treats a FHIR Patient resource as a person', () => {
    expect(
      r({
        resourceType: 'Patient',
        id: 'example',
        active: true,
        identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
        name: [{ use: 'official', family: 'Chalmers', given: ['Peter', 'James'] }],
        telecom: [{ system: 'phone', value: '(03) 5555 6473' }],
        gender: 'male',
        birthDate: '1974-12-25',
        address: [{ line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
      }),
    ).toEqual({
      active: true,
      address: '[REDACTED:address]',
      birthDate: '[REDACTED:dob]',
      gender: 'male',
      id: '[REDACTED:id]',
      identifier: '[REDACTED:id]',
      name: '[REDACTED:name]',
      resourceType: 'Patient',
      telecom: '[REDACTED:phone]',
    })
  })
  it('honours extra keys and allowKeys', () => {
    const p = compilePolicy({ keys: ['chartRef'], allowKeys: ['accountId'] }, {})
    expect(redact({ chartRef: 'C-1', accountId: 'tenant-9', ssn: '1' }, p)).toEqual({
      accountId: 'tenant-9',
      chartRef: '[REDACTED:chartref]',
      ssn: '[REDACTED:ssn]',
    })
  })
  it('runs the detectors on keys with digits or @', () => {
    expect(r({ 'jane@example.org': 1, '555-123-4567': 2, x86: 3 })).toEqual({
      '[REDACTED:email]': 1,
      '[REDACTED:phone]': 2,
      x86: 3,
    })
    const two = r({ 'a@b.co': 1, 'c@d.co': 2 })
    expect(Object.keys(two)).toHaveLength(2)
    expect(JSON.stringify(two)).not.toMatch(/@/)
  })
})

describe('value layer in the walk', () => {
  it('scans every string at any depth and in arrays', () => {
    const out = JSON.stringify(r({ a: { b: { c: ['x', 'note: ssn 123-45-6789'] } }, msg: 'mail a@b.co' }))
    expect(out).not.toContain('123-45-6789')
    expect(out).not.toContain('a@b.co')
  })
})

describe('output shape', () => {
  it('sorts object keys (UTF-16 order), at every level', () => {
    const out = r({ b: 1, a: { d: 1, c: 2, B: 3 }, A: 0, _: 1 })
    expect(Object.keys(out)).toEqual(['A', '_', 'a', 'b'])
    expect(Object.keys(out.a)).toEqual(['B', 'c', 'd'])
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${(i * 37) % 60}`, i]))
    const keys = Object.keys(r(many))
    expect(keys).toEqual([...keys].sort())
  })
  it('is a copy: the input is never modified', () => {
    const input = { ssn: '123-45-6789', nested: { email: 'a@b.co' } }
    const copy = structuredClone(input)
    r(input)
    expect(input).toEqual(copy)
  })
})

describe('hostile input never throws', () => {
  it('circular references become [Circular], shared ones are kept', () => {
    const a: any = { name: 'a' }
    a.self = a
    a.list = [a, { back: a }]
    const shared = { x: 1 }
    expect(r(a)).toEqual({ list: ['[Circular]', { back: '[Circular]' }], name: 'a', self: '[Circular]' })
    expect(r({ p: shared, q: shared })).toEqual({ p: { x: 1 }, q: { x: 1 } })
  })
  it('BigInt, symbols, functions, undefined, NaN', () => {
    const sym = Symbol('s')
    expect(
      r({
        big: 12n,
        [sym]: 'hidden',
        s: sym,
        f() {},
        u: undefined,
        n: Number.NaN,
        i: -Infinity,
        arr: [undefined, () => 1],
      }),
    ).toEqual({ arr: [null, null], big: '12', i: null, n: null })
  })
  it('getters that throw and Proxies whose traps throw', () => {
    const obj = {
      ok: 1,
      get boom() {
        throw new Error('no')
      },
    }
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap')
        },
      },
    )
    const revocable = Proxy.revocable({}, {})
    revocable.revoke()
    const getter = new Proxy(
      { a: 1 },
      {
        get: () => {
          throw new Error('get')
        },
      },
    )
    expect(r({ obj, trap, revoked: revocable.proxy, getter })).toEqual({
      getter: { a: '[Unreadable]' },
      obj: { boom: '[Unreadable]', ok: 1 },
      revoked: '[Unreadable]',
      trap: '[Unreadable]',
    })
  })
  it('Buffers and typed arrays say their size, never their content', () => {
    const out = r({
      b: Buffer.from('123-45-6789'),
      t: new Uint16Array(4),
      ab: new ArrayBuffer(3),
      dv: new DataView(new ArrayBuffer(2)),
    })
    expect(out).toEqual({
      ab: '[Binary 3 bytes]',
      b: '[Binary 11 bytes]',
      dv: '[Binary 2 bytes]',
      t: '[Binary 8 bytes]',
    })
  })
  it('Dates, Errors, Maps, Sets, boxed primitives, toJSON', () => {
    const err = Object.assign(new TypeError('user jane@example.org not found'), {
      code: 'E_USER',
      detail: 'ssn 123-45-6789',
    })
    const out = r({
      d: new Date(0),
      bad: new Date(Number.NaN),
      err,
      m: new Map<unknown, unknown>([
        ['email', 'a@b.co'],
        [1, 'one'],
      ]),
      s: new Set(['x', 'ssn 123-45-6789']),
      boxed: Object('text'),
      url: new URL('https://example.org/p?q=1'),
    })
    expect(out).toEqual({
      bad: null,
      boxed: 'text',
      d: '1970-01-01T00:00:00.000Z',
      err: { code: 'E_USER', message: 'user [REDACTED:email] not found', type: 'TypeError' },
      m: { '1': 'one', email: '[REDACTED:email]' },
      s: ['x', 'ssn [REDACTED:ssn]'],
      url: 'https://example.org/p?q=1',
    })
    expect(JSON.stringify(out)).not.toContain('stack')
  })
  it('bounds depth, width and length', () => {
    let deep: any = {}
    const root = deep
    for (let i = 0; i < 10_000; i++) deep = deep.n = {}
    let depth = 0
    let node = r(root)
    while (typeof node === 'object') {
      node = node.n
      depth++
    }
    expect(node).toBe('[Truncated]')
    expect(depth).toBe(MAX_DEPTH)

    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]))
    const w = r(wide)
    expect(Object.keys(w)).toHaveLength(MAX_KEYS + 1)
    expect(w['…']).toBe(`[+${500 - MAX_KEYS} keys]`)

    const long = r(Array.from({ length: 1000 }, (_, i) => i))
    expect(long).toHaveLength(MAX_ITEMS + 1)
    expect(long[MAX_ITEMS]).toBe(`[+${1000 - MAX_ITEMS} items]`)

    const s = r({ s: `${'word '.repeat(1000)}end` }).s
    expect(s.length).toBeLessThanOrEqual(MAX_STRING)
    expect(s.endsWith('word…')).toBe(true)
  })
  it('bounds total work on wide and deep input', () => {
    // Shared (not circular) subtrees: 50^6 paths to walk, built in microseconds.
    const level = (n: number): any => {
      if (n === 0) return 'leaf 555-123-4567'
      const child = level(n - 1)
      return Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, child]))
    }
    const input = level(6)
    const t = performance.now()
    const out = JSON.stringify(r(input))
    expect(performance.now() - t).toBeLessThan(2000)
    expect(out).toContain('[Truncated]')
  })
  it('cuts 10 MB strings fast and leaves no half identifier at the cut', () => {
    const big = `${'x'.repeat(2040)} 123-45-6789 ${'y'.repeat(10 * 1024 * 1024)}`
    big.charCodeAt(5000) // flat, as a string read from a socket or file is
    const t = performance.now()
    const out = r(big) as string
    expect(performance.now() - t).toBeLessThan(50)
    expect(out.length).toBeLessThanOrEqual(MAX_STRING)
    expect(out).not.toMatch(/\d{3}/)
  })
  it('caps 10 MB keys fast, and still runs the detectors on their head', () => {
    const obj = { ['a'.repeat(10_000_000)]: 1, ['555-123-4567 '.repeat(1_000_000)]: 2 }
    redact({ warm: 'up' }, policy)
    const t = performance.now()
    const out = r(obj)
    expect(performance.now() - t).toBeLessThan(200)
    const keys = Object.keys(out)
    expect(keys).toHaveLength(2)
    for (const k of keys) expect(k.length).toBeLessThanOrEqual(128)
    expect(JSON.stringify(out)).not.toContain('555-123-4567')
  })
  it('replaces lone surrogates and strips ANSI and control characters, keeps newlines', () => {
    expect(r({ s: 'a\ud800b\x1b[2J\x1b[31mc\r\nd\u0007' })).toEqual({ s: 'a\ufffdbc\nd' })
    expect(r({ 'k\x1b[31m\u0000': 1 })).toEqual({ k: 1 })
  })
  it('__proto__ keys are data, not prototypes', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')
    const out = r(input)
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(JSON.parse(JSON.stringify(out))).toEqual(input)
    expect(({} as any).polluted).toBeUndefined()
  })
  it('accepts anything as the policy', () => {
    expect(redact({ ssn: '1' }, undefined as never)).toEqual({ ssn: '[REDACTED:ssn]' })
    expect(redact('a@b.co', { warnings: [], hasPseudonymKey: false })).toBe('[REDACTED:email]')
  })
})
