// serializeRecord must write exactly what JSON.stringify writes, for every record the builders make
// (the integrity chain splices this text) and for anything else that ends up in a record slot: it may
// only be faster. Generated inputs go through the real builders with a real policy; then generated
// values are planted in every slot and nested object of the records.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../options'
import { compilePolicy } from '../redact/index'
import type { AuditContext } from '../types'
import { accessRecord, customRecord } from './access'
import { loginRecord, logoutRecord } from './auth'
import { dbRecord } from './db'
import { httpRecord } from './http'
import { type AuditRecord, type BuildEnv, buildService } from './record'
import { isPlain, serializeRecord } from './serialize'

const RUNS = 400

function envOf(service: {
  name: string
  version?: string
  environment?: string
  instance?: string
}): BuildEnv {
  return {
    policy: compilePolicy(undefined, {}),
    service: buildService(resolveOptions({ service, destination: { write() {} } })),
    tokens: new Map(),
  }
}
const env = envOf({ name: 'svc', version: '1.0.0', environment: 'test', instance: 'pod-1' })

/** Both give the same text, or both throw. */
function expectSame(record: unknown): void {
  let expected: string | undefined
  let threw = false
  try {
    expected = JSON.stringify(record)
  } catch {
    threw = true
  }
  if (threw) {
    expect(() => serializeRecord(record as AuditRecord)).toThrow()
  } else {
    expect(serializeRecord(record as AuditRecord)).toBe(expected)
  }
}

// Strings rich in what JSON escapes or a detector changes: quotes, backslashes, controls, separators,
// lone and paired surrogates, non-Latin-1 text, identifiers.
const tricky = fc.constantFrom(
  '"',
  '\\',
  '\n',
  '\t',
  '\x00',
  '\x1f',
  '\x7f',
  '\u2028',
  '\ud800',
  '\udfff',
  '😀',
  'é',
  '中',
  'jane@example.org',
  '123-45-6789',
  'Dr. Smith',
  '</script>',
  ' ',
  'a',
)
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 8 }).map((a) => a.join('')),
)
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const anything = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
})
const detail = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), anything)
const details = fc.dictionary(
  fc.oneof(fc.string(), tricky, fc.constantFrom('__proto__', 'toJSON', 'ssn')),
  detail,
  {
    maxKeys: 6,
  },
)
const actor = fc.record(
  {
    id: fc.oneof(text, fc.integer()),
    name: maybe(text),
    roles: maybe(fc.array(text, { maxLength: 4 })),
    domain: maybe(text),
    type: maybe(fc.constantFrom('user', 'service', 'system')),
    effective: maybe(fc.record({ id: text, name: maybe(text) })),
  },
  { requiredKeys: ['id'] },
)
const context: fc.Arbitrary<AuditContext | undefined> = maybe(
  fc.record(
    {
      actor,
      requestId: text,
      traceId: fc.oneof(text, fc.constant('0af7651916cd43dd8448eb211c80319c')),
      spanId: text,
      clientIp: fc.oneof(text, fc.constant('10.2.3.4')),
      userAgent: text,
      session: text,
      purpose: text,
    },
    { requiredKeys: [] },
  ),
).map((ctx) => ctx as AuditContext | undefined)
const outcome = maybe(fc.oneof(fc.constantFrom('success', 'failure', 'unknown'), text))
const common = {
  actor: maybe(actor),
  reason: maybe(text),
  message: maybe(text),
  details: maybe(details),
  purpose: maybe(text),
  session: maybe(text),
}

/** Records from every builder, with generated input and context. */
const records: fc.Arbitrary<AuditRecord> = fc.oneof(
  fc
    .tuple(
      context,
      fc.record({
        action: fc.oneof(text, fc.constant('patient-record-read')),
        resource: fc.record({ type: text, id: maybe(fc.oneof(text, fc.integer())) }),
        outcome,
        category: maybe(fc.oneof(text, fc.array(text, { maxLength: 3 }))),
        error: maybe(anything),
        ...common,
      }),
    )
    .map(([ctx, input]) => accessRecord(env, ctx, input as never)),
  fc
    .tuple(
      context,
      fc.record({
        action: text,
        category: fc.oneof(text, fc.array(text, { maxLength: 3 })),
        type: fc.oneof(text, fc.array(text, { maxLength: 3 })),
        outcome,
        level: maybe(fc.constantFrom('debug', 'info', 'warn', 'error')),
        resource: maybe(fc.record({ type: text, id: maybe(text) })),
        ...common,
      }),
    )
    .map(([ctx, input]) => customRecord(env, ctx, input as never)),
  fc
    .tuple(context, fc.record({ outcome, attemptedIdentifier: maybe(text), method: maybe(text), ...common }))
    .map(([ctx, input]) => loginRecord(env, ctx, input as never)),
  fc.tuple(context, maybe(fc.record(common))).map(([ctx, input]) => logoutRecord(env, ctx, input as never)),
  fc
    .tuple(
      context,
      fc.record({
        method: text,
        route: maybe(text),
        path: fc.oneof(text, fc.constant('/patients/123-45-6789/chart')),
        pathParams: maybe(fc.array(text, { maxLength: 3 })),
        queryKeys: maybe(fc.array(text, { maxLength: 3 })),
        statusCode: maybe(fc.integer({ min: 100, max: 599 })),
        durationNs: maybe(fc.double()),
        requestBytes: maybe(fc.double()),
        responseBytes: maybe(fc.integer()),
        userAgent: maybe(text),
        clientIp: maybe(text),
        requestId: maybe(text),
        headers: maybe(fc.dictionary(text, text, { maxKeys: 3 })),
        outcome,
        reason: maybe(text),
        error: maybe(anything),
        actor: maybe(actor),
        action: maybe(text),
        handler: maybe(fc.record({ controller: maybe(text), name: maybe(text) })),
        traceId: maybe(text),
        spanId: maybe(text),
      }),
    )
    .map(([ctx, input]) => httpRecord(env, ctx, input as never)),
  fc
    .tuple(
      context,
      fc.record({
        system: maybe(text),
        namespace: maybe(text),
        serverAddress: maybe(text),
        serverPort: maybe(fc.integer()),
        operation: maybe(text),
        collection: maybe(text),
        summary: maybe(text),
        text: maybe(text),
        fingerprint: maybe(text),
        preparedName: maybe(text),
        rows: maybe(fc.double()),
        durationNs: maybe(fc.double()),
        outcome,
        statusCode: maybe(text),
        error: maybe(anything),
        slow: maybe(fc.boolean()),
        type: maybe(fc.constantFrom('access', 'change')),
      }),
    )
    .map(([ctx, input]) => dbRecord(env, ctx, input as never)),
)

/** Every object in a record, with the key path to it (plants go into each). */
function objectsOf(value: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    out.push(value as Record<string, unknown>)
    for (const v of Object.values(value)) objectsOf(v, out)
  }
  return out
}

describe('serializeRecord', () => {
  it('writes what JSON.stringify writes for every record the builders make', () => {
    fc.assert(
      fc.property(records, (record) => {
        expect(serializeRecord(record)).toBe(JSON.stringify(record))
      }),
      { numRuns: RUNS * 3 },
    )
  })

  it('writes what JSON.stringify writes (or throws as it does) whatever is planted in a record', () => {
    const plant = fc.tuple(
      fc.nat(),
      fc.oneof(fc.string(), tricky, fc.constantFrom('roles', 'id', 'node')),
      detail,
    )
    fc.assert(
      fc.property(records, fc.array(plant, { minLength: 1, maxLength: 4 }), (record, plants) => {
        // The service object is shared by every record of the logger: plant into it too, then put it back.
        const service = env.service as Record<string, unknown>
        const node = service.node as Record<string, unknown>
        const saved = { ...service }
        const savedNode = { ...node }
        try {
          const objects = objectsOf(record)
          for (const [at, key, value] of plants) {
            const target = objects[at % objects.length]!
            const existing = Object.keys(target)
            // Half the time replace an existing value (the shape stays), otherwise add a key.
            const k = at % 2 === 0 && existing.length > 0 ? existing[at % existing.length]! : key
            target[k] = value
          }
          expectSame(record)
        } finally {
          for (const k of Object.keys(service)) delete service[k]
          for (const k of Object.keys(node)) delete node[k]
          Object.assign(service, saved)
          Object.assign(node, savedNode)
        }
      }),
      { numRuns: RUNS * 3 },
    )
  })

  it('follows JSON.stringify on toJSON, getters, BigInt, cycles, class instances and boxed values', () => {
    const build = () =>
      accessRecord(env, undefined, {
        action: 'patient-record-read',
        resource: { type: 'patient', id: 'x' },
        actor: { id: 'u1', roles: ['a', 'b'], domain: 'd' },
        purpose: 'treatment',
        reason: 'review',
        details: { a: 1 },
      })
    const cases: ((r: AuditRecord) => void)[] = [
      (r) => {
        r.event.toJSON = () => 'event'
      },
      (r) => {
        r.service = { ...(r.service as object), toJSON: (k: string) => k }
      },
      (r) => {
        r.audit!.details = { toJSON: (k: string) => `details under ${k}` }
      },
      (r) => {
        r.audit!.resource = { id: 1n, type: 'x' }
      },
      (r) => {
        r.message = 10n as never
      },
      (r) => {
        Object.defineProperty(r.event, 'kind', { get: () => 'getter', enumerable: true })
      },
      (r) => {
        Object.defineProperty(r.event, 'outcome', { value: 'hidden', enumerable: false })
      },
      (r) => {
        Object.defineProperty(r.event, 'toJSON', { value: () => 'hidden toJSON', enumerable: false })
        Object.defineProperty(r.user, 'toJSON', { value: () => 'hidden toJSON', enumerable: false })
      },
      (r) => {
        Object.defineProperty(r, 'toJSON', { value: () => 'record toJSON', enumerable: false })
      },
      (r) => {
        const user = r.user as Record<string, unknown>
        user.self = user
      },
      (r) => {
        r.user = new (class Person {
          id = 'x'
        })() as never
      },
      (r) => {
        r.event.action = new String('boxed') as never
        r.event.id = Object('id') as never
      },
      (r) => {
        r.service = Object.assign(Object.create(null), r.service)
      },
      (r) => {
        r['@timestamp'] = new Date(0) as never
      },
      (r) => {
        ;(r.user as Record<string, unknown>).roles = [undefined, () => 1, Symbol('s'), 'ok']
      },
      (r) => {
        ;(r.user as Record<string, unknown>).roles = Object.assign(['a'], { toJSON: () => 'roles' })
      },
      (r) => {
        r.event.duration = -0
        r.event.category = [Number.NaN, Number.POSITIVE_INFINITY, 1e21, 5e-324] as never
      },
      (r) => {
        delete r.audit
        delete (r as Record<string, unknown>).client
      },
      (r) => {
        ;(r.service as Record<string, unknown>).node = { name: 'other' }
      },
      (r) => {
        ;(r.service as Record<string, unknown>).name = 'renamed "service"'
      },
    ]
    for (const change of cases) {
      // Twice: the second call may use what the first remembered (service text, checked strings).
      for (let i = 0; i < 2; i++) {
        const record = build()
        change(record)
        expectSame(record)
      }
      // And the record as built, right after a changed one.
      expectSame(build())
    }
  })

  it('follows JSON.stringify when Object.prototype or Array.prototype has been tampered with', () => {
    const record = accessRecord(env, undefined, {
      action: 'patient-record-read',
      resource: { type: 'patient', id: 'x' },
      actor: { id: 'u1', roles: ['a'] },
      details: { a: 'b' },
    })
    const proto = Object.prototype as Record<string, unknown>
    // Keys of the record's own objects too: an own key hides an inherited one in the record itself,
    // but not in the objects under it that lack it.
    for (const key of ['polluted', 'audit', 'message', 'purpose', 'details', 'id', 'name']) {
      try {
        proto[key] = 'yes'
        expectSame(record)
      } finally {
        delete proto[key]
      }
    }
    try {
      proto.toJSON = () => 'all'
      expectSame(record)
    } finally {
      delete proto.toJSON
    }
    try {
      Object.defineProperty(proto, 'toJSON', { value: () => 'hidden', enumerable: false, configurable: true })
      expectSame(record)
    } finally {
      delete proto.toJSON
    }
    const arrays = Array.prototype as unknown as Record<string, unknown>
    try {
      arrays.toJSON = () => 'array'
      expectSame(record)
    } finally {
      delete arrays.toJSON
    }
    expectSame(record)
  })

  it('reuses the service text only while the service object is unchanged', () => {
    const a = envOf({ name: 'a', version: '1', environment: 'x' })
    const b = envOf({ name: 'b' })
    const rec = (e: BuildEnv) => accessRecord(e, undefined, { action: 'read', resource: { type: 't' } })
    for (const e of [a, a, b, a, b, b]) expectSame(rec(e))
    const r = rec(a)
    ;(a.service as Record<string, unknown>).version = '2'
    expectSame(r)
    ;((a.service as Record<string, unknown>).node as Record<string, unknown>).name = 'n2'
    expectSame(r)
    ;(a.service as Record<string, unknown>).extra = 'x'
    expectSame(r)
  })

  it('reuses the last user text only while every value in it is the same', () => {
    const rec = (actor: Record<string, unknown>) =>
      accessRecord(env, undefined, { action: 'read', resource: { type: 't' }, actor: actor as never })
    const base = { id: 'u1', roles: ['a', 'b'], domain: 'd', name: 'n', type: 'user' }
    const variants: Record<string, unknown>[] = [
      base,
      { ...base },
      { ...base, roles: ['a', 'c'] },
      { ...base, roles: ['a'] },
      { ...base, roles: undefined },
      { ...base, roles: [] },
      { ...base, domain: undefined },
      { ...base, name: 'n "quoted"' },
      { ...base, type: 'service' },
      { ...base, id: 'u2' },
      { ...base, id: 7 },
      base,
    ]
    for (const a of variants) for (const b of variants) for (const r of [rec(a), rec(b)]) expectSame(r)
    // The same record again after its roles changed in place.
    const r = rec(base)
    expectSame(r)
    ;((r.user as Record<string, unknown>).roles as string[])[1] = 'changed'
    expectSame(r)
    ;((r.user as Record<string, unknown>).roles as string[]).push('more')
    expectSame(r)
    ;(r.user as Record<string, unknown>).name = undefined
    expectSame(r)
  })

  it('knows which strings JSON.stringify writes unchanged', () => {
    fc.assert(
      fc.property(text, (s) => {
        const unchanged = JSON.stringify(s) === `"${s}"`
        // Twice: the second answer may come from what the first remembered.
        for (let i = 0; i < 2; i++) {
          if (isPlain(s)) expect(unchanged).toBe(true)
          // Surrogate pairs are written unchanged but sent to JSON.stringify all the same (rare, safe).
          else if (!/[\ud800-\udfff]/.test(s)) expect(unchanged).toBe(false)
        }
      }),
      { numRuns: RUNS * 5 },
    )
  })
})
