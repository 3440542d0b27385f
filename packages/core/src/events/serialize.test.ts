// serializeRecord must write exactly what JSON.stringify writes, for every record the builders make
// (the integrity chain splices this text) and for anything else that ends up in a record slot: it may
// only be faster. Generated inputs go through the real builders with a real policy; then generated
// values are planted in every slot and nested object of the records.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { alreadyCanonical } from '../integrity/canonical'
import { resolveOptions } from '../options'
import { compilePolicy } from '../redact/index'
import { sortKeys } from '../sort-keys'
import type { AuditContext } from '../types'
import { accessRecord, customRecord } from './access'
import { loginRecord, logoutRecord } from './auth'
import { dbRecord } from './db'
import { httpRecord } from './http'
import { type AuditRecord, type BuildEnv, buildEnv } from './record'
import { createRecordSerializer } from './serialize'

const RUNS = 400
// One serializer for the file, as a logger has one: what it remembers carries from record to record.
const { serialize: serializeRecord, sorted, isPlain } = createRecordSerializer()

function envOf(service: {
  name: string
  version?: string
  environment?: string
  instance?: string
}): BuildEnv {
  return buildEnv(compilePolicy(undefined, {}), resolveOptions({ service, destination: { write() {} } }))
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
    expect(sorted(record as AuditRecord)).toBeUndefined()
  } else {
    expect(serializeRecord(record as AuditRecord)).toBe(expected)
    expectSortedOnlyIfSo(record)
  }
}

/**
 * sorted() gives text only when it is JSON.stringify's and every object in the record is in the
 * canonical order (what the integrity chain would otherwise check by walking it): never a wrong yes.
 */
function expectSortedOnlyIfSo(record: unknown): void {
  let text: string | undefined
  try {
    text = sorted(record as AuditRecord)
  } catch {
    throw new Error('sorted() threw')
  }
  if (text === undefined) return
  expect(text).toBe(JSON.stringify(record))
  for (const [k, v] of Object.entries(record as Record<string, unknown>)) {
    if (typeof v === 'object' && v !== null)
      expect(alreadyCanonical(v, 1), `${k} in canonical order`).toBe(true)
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

// Objects of any shape, for the fields whose keys are not fixed (http, url, client, db, details, ...):
// nested objects and lists below and beyond the depth the serializer walks by hand, numbers that
// JSON.stringify writes otherwise than as they are (or not at all), values it leaves out of objects
// and writes as null in lists, and objects it reads otherwise than a `for in` does.
const edgeNumber = fc.constantFrom(
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e21,
  1e-7,
  5e-324,
  2 ** 53 + 2,
  -1.5,
)
/** Made fresh for each value: the planting test adds keys to every object it finds, these included. */
const oddValue = fc
  .constantFrom('function', 'symbol', 'bigint', 'date', 'boxed', 'map')
  .map((kind): unknown => {
    switch (kind) {
      case 'function':
        return () => 1
      case 'symbol':
        return Symbol('s')
      case 'bigint':
        return 10n
      case 'date':
        return new Date(0)
      case 'boxed':
        return new String('boxed')
      default:
        return new Map([['k', 'v']])
    }
  })
const leaf = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: tricky },
  { weight: 3, arbitrary: fc.oneof(fc.double(), fc.integer(), edgeNumber) },
  { weight: 2, arbitrary: fc.constantFrom(true, false, null, undefined) },
  { weight: 1, arbitrary: oddValue },
)
const key = fc.oneof(
  fc.constantFrom('id', 'name', 'request', 'bytes', 'path', '0', '7', '10', '', '__proto__', 'toJSON', 'a"b'),
  fc.string({ maxLength: 6 }),
  tricky,
)

/** How an object holds its entries; `plain` (the builders' own) is the common case. */
type Shape = 'plain' | 'null' | 'getters' | 'hidden' | 'toJSON' | 'inherited'
const shape = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Shape>('plain') },
  { weight: 1, arbitrary: fc.constantFrom<Shape>('null', 'getters', 'hidden', 'toJSON', 'inherited') },
)
/** An enumerable key on a prototype: `for in` lists it, JSON.stringify does not. */
const withInherited = { inherited: 'from the prototype' }

function shaped(entries: readonly (readonly [string, unknown])[], how: Shape): object {
  const o: object =
    how === 'null' ? Object.create(null) : how === 'inherited' ? Object.create(withInherited) : {}
  for (const [k, v] of entries) {
    // defineProperty: `o[k] = v` would set the prototype for '__proto__'.
    Object.defineProperty(
      o,
      k,
      how === 'getters'
        ? { get: () => v, enumerable: true, configurable: true }
        : { value: v, enumerable: true, writable: true, configurable: true },
    )
  }
  if (how === 'hidden') {
    Object.defineProperty(o, 'hidden', { value: 'not enumerable', enumerable: false })
    Object.defineProperty(o, Symbol('key'), { value: 'symbol key', enumerable: true })
  }
  // Its text names the key it was called with: JSON.stringify of a part would call it with ''.
  if (how === 'toJSON') Object.defineProperty(o, 'toJSON', { value: (k: string) => `toJSON under "${k}"` })
  return o
}

/** A chain of plain objects around a value: `{"a":{"b":{...: value}}}`. */
function nest(keys: readonly string[], value: unknown): unknown {
  return keys.reduceRight<unknown>((v, k) => shaped([[k, v]], 'plain'), value)
}

const { tree } = fc.letrec<{ tree: unknown; object: object; list: unknown[] }>((tie) => ({
  tree: fc.oneof(
    { maxDepth: 8, depthSize: 'medium', depthIdentifier: 'tree' },
    { weight: 3, arbitrary: leaf },
    { weight: 3, arbitrary: tie('object') },
    { weight: 1, arbitrary: tie('list') },
    // Straight down past the depth written by hand, with anything at the bottom.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(key, { minLength: 2, maxLength: 7 }), tie('tree'))
        .map(([k, v]) => nest(k, v)),
    },
  ),
  object: fc
    .tuple(fc.array(fc.tuple(key, tie('tree')), { maxLength: 5 }), shape)
    .map(([entries, how]) => shaped(entries, how)),
  list: fc.oneof(
    fc.array(text, { maxLength: 4 }),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.sparseArray(tie('tree'), { maxLength: 4 }),
    fc
      .array(text, { maxLength: 2 })
      .map((a) => Object.assign(a, { toJSON: (k: string) => `list under "${k}"` })),
  ),
}))

/** Where trees go: every top-level field without fixed keys, and objects under audit and http. */
const SLOT_PATHS = [
  ['client'],
  ['db'],
  ['error'],
  ['http'],
  ['server'],
  ['source'],
  ['span'],
  ['trace'],
  ['url'],
  ['user_agent'],
  ['http', 'request'],
  ['http', 'request', 'headers'],
  ['audit', 'details'],
  ['audit', 'handler'],
  ['audit', 'db'],
] as const

/**
 * Sets `value` at `path` in the record, making plain objects on the way where there are none. As an own
 * data property: an earlier tree on the way may hold its keys behind getters, which `=` cannot set.
 */
function setAt(record: AuditRecord, path: readonly string[], value: unknown): void {
  const define = (o: object, k: string, v: unknown) =>
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  let o: object = record
  for (const k of path.slice(0, -1)) {
    let next = (o as Record<string, unknown>)[k]
    if (typeof next !== 'object' || next === null) {
      next = {}
      define(o, k, next)
    }
    o = next as object
  }
  define(o, path[path.length - 1]!, value)
}

/** An http-request record with every field httpRecord fills. */
function requestRecord(): AuditRecord {
  return httpRecord(
    env,
    { actor: { id: 'u1', roles: ['clinician'] }, purpose: 'treatment' },
    {
      method: 'post',
      route: '/patients/:id/chart',
      path: '/patients/123-45-6789/chart',
      pathParams: ['123-45-6789'],
      queryKeys: ['page', 'sort'],
      statusCode: 503,
      durationNs: 1234567,
      requestBytes: 12,
      responseBytes: 34,
      userAgent: 'Mozilla/5.0 "quoted"',
      clientIp: '10.0.0.1',
      requestId: 'req-1',
      headers: { Accept: 'text/html', 'X-Note': 'é 中 😀 "q" \\' },
      error: new TypeError('boom'),
      handler: { controller: 'Patients', name: 'chart' },
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
    },
  )
}

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
      fc.oneof(detail, tree),
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

  it('writes what JSON.stringify writes (or throws) with objects of any shape in http, url, db, ...', () => {
    fc.assert(
      fc.property(
        records,
        fc.array(fc.tuple(fc.constantFrom(...SLOT_PATHS), tree), { minLength: 1, maxLength: 4 }),
        (record, trees) => {
          for (const [path, value] of trees) setAt(record, path, value)
          // Twice: the second call may use what the first remembered (checked strings, key texts).
          expectSame(record)
          expectSame(record)
        },
      ),
      { numRuns: RUNS * 5 },
    )
  })

  it('writes an http-request record, and a db-query record, as JSON.stringify does', () => {
    const http = requestRecord()
    const text = serializeRecord(http)
    expect(text).toBe(JSON.stringify(http))
    // The parts written by objectText, as they are meant to come out.
    expect(text).toContain(
      '"http":{"request":{"bytes":12,"headers":{"accept":"text/html","x-note":"é 中 😀 \\"q\\" \\\\"},' +
        '"id":"req-1","method":"POST"},"response":{"bytes":34,"status_code":503},' +
        '"route":"/patients/:id/chart"}',
    )
    expect(text).toContain('"source":{"ip":"10.0.0.1"},"span":{"id":"b7ad6b7169203331"},')
    expect(text).toContain('"url":{"path":"/patients/[REDACTED:resource]/chart","query":"page=&sort="}')
    expect(text).toContain(
      '"audit":{"purpose":"treatment","handler":{"controller":"Patients","name":"chart"}}',
    )
    const db = dbRecord(env, undefined, {
      system: 'postgresql',
      namespace: 'app',
      serverAddress: 'db.local',
      serverPort: 5432,
      operation: 'SELECT',
      collection: 'patients',
      text: 'SELECT * FROM patients WHERE id = $1',
      rows: 3,
      durationNs: 1e6,
      fingerprint: 'abc',
      slow: true,
    })
    expect(serializeRecord(db)).toBe(JSON.stringify(db))
    expect(serializeRecord(db)).toContain(
      '"db":{"collection":{"name":"patients"},"namespace":"app","operation":{"name":"SELECT"},' +
        '"query":{"summary":"SELECT patients","text":"SELECT * FROM patients WHERE id = $1"},' +
        '"response":{"returned_rows":3},"system":{"name":"postgresql"}}',
    )
  })

  it('writes what the builders never put in http, url, client, ... as JSON.stringify does', () => {
    const cases: ((r: AuditRecord) => void)[] = [
      (r) => {
        const http = r.http as { request: Record<string, unknown>; response: Record<string, unknown> }
        http.response.bytes = -0
        http.response.status_code = Number.NaN
        http.request.bytes = 1e21
        http.request.at = [-0, Number.POSITIVE_INFINITY, 5e-324, 2 ** 53 + 2]
      },
      (r) => {
        ;(r.url as Record<string, unknown>).query = ['a', undefined, () => 1, Symbol('s'), null, 'b']
        const holes: unknown[] = []
        holes[2] = 'after two holes'
        ;(r.url as Record<string, unknown>).fragment = holes
        ;(r.url as Record<string, unknown>).original = 'tab\there "quoted" \\ \ud800 😀 \u2028'
      },
      (r) => {
        ;(r.client as Record<string, unknown>).geo = { location: { lat: -0, lon: Number.NEGATIVE_INFINITY } }
        ;(r.client as Record<string, unknown>).nat = { ip: undefined, port: () => 1, [Symbol('s')]: 1 }
        ;(r.client as Record<string, unknown>)['2'] = 'integer keys first'
      },
      (r) => {
        r.server = Object.assign(Object.create(null), { address: 'a', port: 1 })
        r.db = { nested: nest(['a', 'b', 'c', 'd', 'e', 'f'], { deep: [1, { x: 'y' }] }) }
      },
      (r) => {
        r.error = { message: 'm', stack_trace: ['at x', 'at y'], cause: { message: 'c', code: 7 } }
        ;(r.user_agent as Record<string, unknown>).device = { name: 'é中😀' }
      },
      (r) => {
        r.trace = new (class Trace {
          id = 'x'
        })() as never
        r.span = Object.create({ inherited: 'yes' }, { id: { value: 's', enumerable: true } })
      },
      (r) => {
        const http = r.http as { request: Record<string, unknown> }
        http.request.size = 10n
      },
      (r) => {
        ;(r.http as Record<string, unknown>).response = new Map()
        ;(r.url as Record<string, unknown>).parsed = new Date(0)
      },
      (r) => {
        Object.defineProperty(r.http, 'route', { get: () => '/from/a/getter', enumerable: true })
        Object.defineProperty(r.url, 'path', { value: '/hidden', enumerable: false })
      },
    ]
    for (const change of cases) {
      for (let i = 0; i < 2; i++) {
        const record = requestRecord()
        change(record)
        expectSame(record)
      }
      expectSame(requestRecord())
    }
  })

  it('calls each getter once, as JSON.stringify does, when nothing makes it start over', () => {
    const withCounters = () => {
      const r = requestRecord()
      r['@timestamp'] = '2024-01-01T00:00:00.000Z'
      r.event.id = 'one id for both'
      const calls = { n: 0 }
      const request = (r.http as { request: object }).request
      Object.defineProperty(request, 'method', { get: () => `GET${++calls.n}`, enumerable: true })
      const deep = nest(['a', 'b', 'c', 'd', 'e'], {}) as Record<string, unknown>
      Object.defineProperty(r.url, 'n', { get: () => ++calls.n, enumerable: true })
      r.db = deep
      return { r, calls }
    }
    const mine = withCounters()
    const theirs = withCounters()
    expect(serializeRecord(mine.r)).toBe(JSON.stringify(theirs.r))
    expect(mine.calls.n).toBe(2)
    expect(theirs.calls.n).toBe(2)
  })

  it('follows JSON.stringify on toJSON at every depth, cycles and shared objects', () => {
    for (let depth = 0; depth <= 8; depth++) {
      const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].slice(0, depth)
      for (const slot of ['http', 'url', 'client', 'db'] as const) {
        const r = requestRecord()
        r[slot] = nest(keys, { toJSON: (k: string) => `toJSON under "${k}"` }) as never
        expectSame(r)
        const list = requestRecord()
        list[slot] = nest(keys, Object.assign(['x'], { toJSON: (k: string) => `list under "${k}"` })) as never
        expectSame(list)
        const big = requestRecord()
        big[slot] = nest(keys, { n: 1n }) as never
        expectSame(big)
      }
      // A cycle at this depth: JSON.stringify throws, so must serializeRecord.
      const r = requestRecord()
      const bottom = { up: undefined as unknown }
      r.http = nest(keys, bottom) as never
      bottom.up = r.http
      expect(() => JSON.stringify(r)).toThrow()
      expect(() => serializeRecord(r)).toThrow()
    }
    // The same object twice is no cycle.
    const r = requestRecord()
    const shared = { id: 'shared', deep: nest(['a', 'b', 'c', 'd', 'e'], 'bottom') }
    r.client = shared
    r.source = shared
    r.url = { one: shared, two: { shared } }
    expectSame(r)
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

  it("reuses a statement's db text only while every value in it is the same", () => {
    type Db = {
      collection?: { name?: unknown; extra?: unknown }
      namespace?: unknown
      operation?: { name?: unknown }
      query?: { summary?: unknown; text?: unknown }
    }
    const rec = () =>
      dbRecord(env, undefined, {
        system: 'postgresql',
        namespace: 'app',
        operation: 'SELECT',
        collection: 'patients',
        summary: 'SELECT patients',
        text: 'SELECT * FROM patients WHERE id = $1',
        rows: 1,
      })
    // Each value of the statement's part changed in place after its text was remembered (as the
    // replacement of linked ids does), and the unchanged statement again after that.
    const changes: ((db: Db, check: () => void) => void)[] = [
      (db) => (db.query!.text = 'SELECT * FROM patients WHERE ward = $1'),
      (db) => (db.query!.summary = 'SELECT wards'),
      (db) => (db.query!.summary = undefined),
      (db) => (db.query = { text: db.query!.text }),
      (db) => (db.namespace = 'other'),
      (db) => (db.namespace = 'a "quoted" name'),
      (db) => (db.namespace = 42),
      (db) => (db.collection!.name = 'wards'),
      (db) => (db.collection = undefined),
      (db) => (db.collection = { name: 'patients', extra: 1 }),
      (db) => (db.operation!.name = 'UPDATE'),
      (db) => (db.operation = { name: undefined }),
      // The same values in another shape: no collection, then one without a name.
      (db, check) => {
        db.collection = undefined
        check()
        db.collection = { name: undefined }
      },
    ]
    for (const change of changes) {
      const r = rec()
      expectSame(r)
      expectSame(r)
      change(r.db as Db, () => expectSame(r))
      expectSame(r)
      expectSame(rec())
    }
  })

  it("reuses the last db server's text only while its address and port are the same", () => {
    const rec = () =>
      dbRecord(env, undefined, { system: 'postgresql', serverAddress: 'db.local', serverPort: 5432, rows: 1 })
    // Each value changed in place after the text was remembered, then the unchanged server again.
    const changes: ((server: Record<string, unknown>) => void)[] = [
      (s) => (s.port = 5433),
      (s) => (s.port = undefined),
      (s) => (s.port = Number.NaN),
      (s) => (s.port = -0),
      (s) => (s.port = '5432'),
      (s) => (s.address = 'db.other'),
      (s) => (s.address = 'a "quoted"\n address'),
      (s) => (s.address = undefined),
      (s) => (s.address = { host: 'db.local' }),
      (s) => Object.defineProperty(s, 'port', { enumerable: true, get: () => 6543 }),
      (s) => (s.extra = 1),
      (s) => delete s.port,
    ]
    for (const change of changes) {
      const r = rec()
      expectSame(r)
      expectSame(r)
      change(r.server as Record<string, unknown>)
      expectSame(r)
      expectSame(r)
      expectSame(rec())
    }
    const r = rec()
    r.server = Object.assign(Object.create(null), { address: 'db.local', port: 5432 })
    expectSame(r)
    expectSame(rec())
  })

  it('writes db-query records as JSON.stringify does while statements repeat and change (property)', () => {
    const input = fc.record({
      serverAddress: fc.constantFrom('db.local', 'db.other', undefined, 'a"b'),
      serverPort: fc.constantFrom(5432, 5433, undefined),
      namespace: fc.constantFrom('app', 'other', undefined, 'a"b'),
      operation: fc.constantFrom('SELECT', 'UPDATE', undefined),
      collection: fc.constantFrom('patients', 'wards', undefined),
      summary: fc.constantFrom('SELECT patients', 'é 中', undefined),
      text: fc.constantFrom('SELECT 1', 'SELECT * FROM patients WHERE id = $1', 'x\u2028y', undefined),
      rows: fc.constantFrom(1, 0, undefined),
      statusCode: fc.constantFrom('23505', undefined),
    })
    fc.assert(
      fc.property(fc.array(input, { minLength: 1, maxLength: 30 }), (inputs) => {
        for (const i of inputs) expectSame(dbRecord(env, undefined, i))
      }),
      { numRuns: RUNS },
    )
  })

  it("says a record is in sorted order only when it is, and the text is then JSON.stringify's (property)", () => {
    fc.assert(
      fc.property(records, (record) => {
        // Generated details and roles may hold anything: then there is no answer, never a wrong one.
        expectSortedOnlyIfSo(record)
      }),
      { numRuns: RUNS },
    )
  })

  it('says nothing of a record with an object out of order, a dotted key or an impersonated user', () => {
    const a = requestRecord()
    a.url = { query: 'a=', path: '/' }
    expect(sorted(a)).toBeUndefined()
    const b = requestRecord()
    ;(b.http as Record<string, unknown>)['x.y'] = 1
    expect(sorted(b)).toBeUndefined()
    const c = requestRecord()
    ;(c.user as Record<string, unknown>).effective = { id: 'other' }
    expect(sorted(c)).toBeUndefined()
    expect(serializeRecord(c)).toBe(JSON.stringify(c))
    // audit is put in order by the integrity chain (its keys come from several places); the rest of
    // an http-request record is built in order.
    const d = requestRecord()
    expect(sorted(d)).toBeUndefined()
    const { handler, purpose } = d.audit as Record<string, unknown>
    d.audit = { handler, purpose }
    expect(sorted(d)).toBe(JSON.stringify(d))
  })

  it("split(): the record's text with audit sorted and audit.integrity in its place, its value left out at offsets.integrity (property)", () => {
    const serializer = createRecordSerializer()
    let answered = 0
    fc.assert(
      fc.property(records, (record) => {
        const text = serializer.split(record)
        if (text === undefined) return
        answered++
        const cut = serializer.offsets.integrity
        const audit = record.audit as Record<string, unknown>
        const keys = sortKeys([...Object.keys(audit), 'integrity'])
        const copy: Record<string, unknown> = {}
        for (const k of keys) copy[k] = k === 'integrity' ? 'HOLE' : audit[k]
        expect(`${text.slice(0, cut)}"HOLE"${text.slice(cut)}`).toBe(
          JSON.stringify({ ...record, audit: copy }),
        )
        // The ECS keys' offsets hold in the split text too.
        expect(text.startsWith(',"ecs.version":', serializer.offsets.ecs - 1)).toBe(true)
        expect(text.startsWith(',"log.level":', serializer.offsets.level - 1)).toBe(true)
        // split() leaves sorted() and serialize() as they were.
        expectSame(record)
      }),
      { numRuns: RUNS },
    )
    // Builder records get answers (their audit in any order: split sorts it); generated details in
    // any order get none, as with sorted().
    expect(answered).toBeGreaterThan(RUNS / 40)
    const http = requestRecord()
    expect(sorted(http)).toBeUndefined()
    expect(serializer.split(http)).toBeDefined()
  })

  it('split() says nothing of an audit holding its own integrity or an integer-like key', () => {
    const serializer = createRecordSerializer()
    const a = requestRecord()
    ;(a.audit as Record<string, unknown>).integrity = { v: 2 }
    expect(serializer.split(a)).toBeUndefined()
    const b = requestRecord()
    ;(b.audit as Record<string, unknown>)['7'] = 'x'
    expect(serializer.split(b)).toBeUndefined()
    const c = requestRecord()
    ;(c.audit as Record<string, unknown>)['a.b'] = 'x'
    expect(serializer.split(c)).toBeUndefined()
    expect(serializer.split(requestRecord())).toBeDefined()
  })

  it('two serializers do not share what they remember', () => {
    const a = createRecordSerializer()
    const b = createRecordSerializer()
    const r = requestRecord()
    expect(a.serialize(r)).toBe(JSON.stringify(r))
    // b has seen nothing of r; a changed in place must not come out of a's memory of it.
    ;(r.user as Record<string, unknown>).name = 'changed "name"'
    expect(b.serialize(r)).toBe(JSON.stringify(r))
    expect(a.serialize(r)).toBe(JSON.stringify(r))
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
