/** Canonical form (what MACs cover) and the seal/verify round trip on arbitrary records. */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalize, expandKeys, macInputOf, namesOfFieldsV2 } from '../src/integrity/canonical'
import { createChain } from '../src/integrity/index'

const sha = (s: string) => createHash('sha256').update(s).digest('base64url')

function reorder(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, seed))
  if (v && typeof v === 'object') {
    const keys = Object.keys(v)
    const order = keys
      .map((k, i) => ({ k, r: (i * 7919 + seed * 104729) % (keys.length + 13) }))
      .sort((a, b) => a.r - b.r)
    const out: Record<string, unknown> = {}
    for (const { k } of order) {
      // defineProperty: a "__proto__" key from JSON.parse is data, not the prototype
      Object.defineProperty(out, k, {
        value: reorder((v as Record<string, unknown>)[k], seed),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    }
    return out
  }
  return v
}

describe('canonicalize', () => {
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalize({ b: 1, a: [true, null, 'x'], A: {}, é: 2, '\u{1F600}': 3, '\uFB33': 4 })).toBe(
      '{"A":{},"a":[true,null,"x"],"b":1,"é":2,"\u{1F600}":3,"\uFB33":4}',
    )
  })

  it('prints numbers as ECMAScript does (RFC 8785), non-finite as null, BigInt as a string', () => {
    expect(canonicalize([1e21, 1e-7, -0, 0.1 + 0.2, 100, Number.NaN, Number.POSITIVE_INFINITY, 10n])).toBe(
      '[1e+21,1e-7,0,0.30000000000000004,100,null,null,"10"]',
    )
  })

  it('leaves out undefined, functions and symbols like JSON.stringify, and follows toJSON', () => {
    const d = new Date('2026-11-29T00:00:00Z')
    expect(canonicalize({ a: undefined, f: () => 1, s: Symbol('x'), d, arr: [undefined, () => 1] })).toBe(
      '{"arr":[null,null],"d":"2026-11-29T00:00:00.000Z"}',
    )
  })

  it('expands dotted keys and merges them with their siblings', () => {
    expect(canonicalize({ 'log.level': 'info', log: { logger: 'x' }, 'a.b.c': 1, 'a.b.d': 2 })).toBe(
      '{"a":{"b":{"c":1,"d":2}},"log":{"level":"info","logger":"x"}}',
    )
    expect(canonicalize({ 'log.level': 'info' })).toBe(canonicalize({ log: { level: 'info' } }))
  })

  it('keeps a dotted key literal when it collides with a non-object, whatever the key order', () => {
    expect(canonicalize({ a: 1, 'a.b': 2 })).toBe('{"a":1,"a.b":2}')
    expect(canonicalize({ 'a.b': 2, a: 1 })).toBe('{"a":1,"a.b":2}')
    expect(canonicalize({ 'a.b.c': 1, 'a.b': 5 })).toBe(canonicalize({ 'a.b': 5, 'a.b.c': 1 }))
    expect(canonicalize({ '.a': 1, 'b.': 2, 'c..d': 3 })).toBe('{".a":1,"b.":2,"c..d":3}')
  })

  it('does not modify its input, and handles __proto__ keys as data', () => {
    const input = JSON.parse('{"a.b":1,"a":{"c":2},"__proto__":{"x":1},"p.__proto__":3}')
    const copy = structuredClone(input)
    const out = canonicalize(input)
    expect(input).toEqual(copy)
    expect(JSON.parse(out)).toEqual(JSON.parse('{"__proto__":{"x":1},"a":{"b":1,"c":2},"p":{"__proto__":3}}'))
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('stops at depth 64 (also cycles) with a marker', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    expect(canonicalize(cyclic)).toContain('"[Too deep]"')
  })

  it('is idempotent and independent of key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 1, max: 1000 }), (v, seed) => {
        const c = canonicalize(v)
        expect(canonicalize(JSON.parse(c))).toBe(c)
        expect(canonicalize(reorder(v, seed))).toBe(c)
      }),
      { numRuns: 300 },
    )
  })

  it('is independent of how dotted keys are spelled (property)', () => {
    const key = fc.constantFrom('a', 'b', 'c', 'a.b', 'a.c', 'b.c', 'a.b.c', 'log', 'level')
    const obj = fc.dictionary(
      key,
      fc.oneof(fc.integer(), fc.string(), fc.dictionary(key, fc.integer(), { maxKeys: 3 })),
      {
        maxKeys: 6,
      },
    )
    fc.assert(
      fc.property(obj, fc.integer({ min: 1, max: 1000 }), (v, seed) => {
        const c = canonicalize(v)
        expect(canonicalize(JSON.parse(c))).toBe(c)
        expect(canonicalize(reorder(v, seed))).toBe(c)
        // Expanding the dotted keys first (as Filebeat expand_keys does) changes nothing.
        expect(canonicalize(JSON.parse(JSON.stringify(expandKeys(v))))).toBe(c)
      }),
      { numRuns: 500 },
    )
  })
})

describe('macInputOf', () => {
  const record = {
    '@timestamp': '2026-11-29T00:00:00.000Z',
    'log.level': 'info',
    message: 'm',
    'ecs.version': '8.17.0',
    event: { action: 'x', kind: 'event' },
    audit: {
      integrity: {
        stream: 's',
        seq: 1,
        fields: ['@timestamp', 'audit', 'ecs', 'event', 'log', 'message'],
        mac: 'M',
      },
    },
  }
  const fields = record.audit.integrity.fields

  it('writes the canonical text whatever the key order, a field named twice twice, `__proto__` as a key', () => {
    const expected =
      '{"@timestamp":"2026-11-29T00:00:00.000Z","audit":{"integrity":{"fields":["@timestamp","audit","ecs","event","log","message"],"seq":1,"stream":"s"}},"ecs":{},"event":{"action":"x","kind":"event"},"log":{"level":"info"},"message":"m"}'
    expect(macInputOf(record, fields)).toBe(expected)
    expect(macInputOf(reorder(record, 3) as Record<string, unknown>, fields)).toBe(expected)
    expect(macInputOf(record, ['message', 'message'])).toBe('{"message":"m","message":"m"}')
    const proto = JSON.parse('{"__proto__":{"b":1,"a":2},"message":"m"}')
    expect(macInputOf(proto, ['message', '__proto__'])).toBe('{"__proto__":{"a":2,"b":1},"message":"m"}')
  })

  it('covers only the committed top-level fields, without the mac', () => {
    const base = macInputOf(record, fields)
    expect(base).not.toContain('"mac"')
    expect(
      macInputOf(
        { ...record, kubernetes: { pod: 'p' }, stream: 'stdout', time: 't', tag: 'x', _id: '1' },
        fields,
      ),
    ).toBe(base)
    expect(macInputOf({ ...record, message: 'other' }, fields)).not.toBe(base)
    expect(macInputOf({ ...record, audit: { ...record.audit, extra: 1 } }, fields)).not.toBe(base)
  })

  it('ignores shipper-owned paths: ecs.version, event.ingested/dataset/original/module, log.file/offset/flags', () => {
    const base = macInputOf(record, fields)
    const shipped = {
      ...record,
      'ecs.version': '1.12.0',
      event: {
        ...record.event,
        ingested: 'now',
        dataset: 'x',
        agent_id_status: 'verified',
        original: '{}',
        module: 'm',
      },
      log: { file: { path: '/x' }, offset: 5, flags: ['multiline'] },
    }
    expect(macInputOf(shipped, fields)).toBe(base)
    expect(macInputOf({ ...record, event: { ...record.event, outcome: 'failure' } }, fields)).not.toBe(base)
  })
})

describe('seal -> line -> verifier round trip', () => {
  // Arbitrary records, including the shapes that take the chain's slow path.
  const key = fc.oneof(
    fc.constantFrom(
      'message',
      'event',
      'user',
      'audit',
      'log',
      'ecs',
      'log.level',
      'ecs.version',
      'audit.x',
      'a.b',
    ),
    fc.string({ maxLength: 6 }),
  )
  const value = fc.jsonValue({ maxDepth: 3 })
  const records = fc.dictionary(key, value, { maxKeys: 10 })

  it.each([1, 2] as const)(
    'the verifier recomputes the exact MAC input from the parsed line, format %i (property)',
    (version) => {
      const chain = createChain({
        service: { name: 's', instance: 'i' },
        checkpointIntervalSeconds: 0,
        version,
      })
      fc.assert(
        fc.property(records, fc.integer({ min: 1, max: 1000 }), (rec, seed) => {
          const line = chain.seal(rec as Record<string, unknown>)
          const parsed = JSON.parse(line)
          const integrity = expandKeys(
            expandKeys(expandKeys(parsed).audit as Record<string, unknown>).integrity as never,
          )
          const fields = version === 1 ? (integrity.fields as string[]) : namesOfFieldsV2(integrity.fields)!
          const input = macInputOf(parsed, fields, version)
          // Format 2: the record is an epoch of its own; its MAC is over its place and its digest.
          const sealedInput = version === 1 ? input : `2.${integrity.epoch}.${integrity.from}.${sha(input)}`
          expect(sha(sealedInput)).toBe(integrity.mac)
          // ...also after reordering and adding shipper fields.
          const shipped = {
            ...(reorder(parsed, seed) as object),
            kubernetes: { pod_name: 'p' },
            stream: 'stdout',
          }
          expect(macInputOf(shipped, fields, version)).toBe(input)
        }),
        { numRuns: 300 },
      )
    },
  )

  it('keeps the record own top-level order and dotted keys in the line', () => {
    const chain = createChain({ service: { name: 's', instance: 'i' }, checkpointIntervalSeconds: 0 })
    const line = chain.seal({
      '@timestamp': '2026-11-29T00:00:00.000Z',
      'log.level': 'info',
      message: 'hello',
      'ecs.version': '8.17.0',
      event: { kind: 'event', action: 'x' },
      user: { id: 'u' },
    })
    expect(Object.keys(JSON.parse(line))).toEqual([
      '@timestamp',
      'log.level',
      'message',
      'ecs.version',
      'event',
      'user',
      'audit',
    ])
    expect(
      line.startsWith('{"@timestamp":"2026-11-29T00:00:00.000Z","log.level":"info","message":"hello",'),
    ).toBe(true)
  })
})
