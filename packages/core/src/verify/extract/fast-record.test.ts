/**
 * fastRecord must give what the general path gives (JSON.parse, find-records, toEntry with
 * macInputOf and factsOf) for every line it does not decline: the same entries (stream, seq, MAC
 * input digest, links, facts, ...) and the same counts. Checked over the SDK's own lines, records
 * generated in its shape with adversarial content (odd keys, dotted keys, escapes, surrogates,
 * numbers in every form, duplicate and unsorted keys, shipper-owned members), and those lines
 * mutated at random. A counter makes sure the fast path is taken often enough to be tested.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fieldsValueV2, macInputOf, namesOfFieldsV2, ROOTS_V2 } from '../../integrity/canonical'
import { toEntry } from '../entry'
import { factsOf } from '../report/facts'
import { createExtractor } from './extractor'
import { fastRecord } from './fast-record'

/** Lines as the SDK writes them (an access event, an HTTP request, one with a seal, one acting for another). */
const SEEDS = [
  '{"@timestamp":"2026-12-06T20:35:55.877Z","audit":{"integrity":{"epoch":1,"fields":"84ca3","from":1,"mac":"IS7fInMyvx3Bm7OCeJQD5yqTEgSpGvguFoXngJusEu8","prev":"a-ewnAqcX7rF2TvD-Tmuiz","seq":1,"stream":"k_b8czTeU1fL8r34lgYifg","v":2},"resource":{"id":"ps_4e1a7c_000000000000000000000001","type":"patient"},"session":"s-1"},"ecs.version":"8.17.0","event":{"action":"patient-record-read","category":["database"],"id":"92d7f9ae-8666-451f-a6c6-b627fb1938a4","kind":"event","outcome":"success","type":["access"]},"log.level":"info","message":"patient-record-read patient success","service":{"name":"patient-api","node":{"name":"vm"}},"user":{"id":"dr-1","roles":["clinician"]}}',
  '{"@timestamp":"2026-11-01T00:00:00.002Z","audit":{"integrity":{"fields":"84da7","prev":"ShCOFKmjdPC9UjiDXHsuBY","seq":2,"stream":"ASg2fXXXBQ9IK2RVm6Y19A","v":2},"purpose":"treatment","resource":{"id":"ps_4e1a7c_000000000000000000000002","type":"patient"}},"client":{"ip":"10.2.0.0"},"ecs.version":"8.17.0","event":{"action":"patient-record-read","category":["database"],"id":"00000001-0000-4000-a000-000000000000","kind":"event","outcome":"success","type":["access"]},"http":{"request":{"id":"00000002-0000-4000-a000-000000000000"}},"log.level":"info","message":"patient-record-read patient success","service":{"name":"patient-api","node":{"name":"pod-1"},"version":"1.0.0"},"user":{"id":"clinician-0","roles":["clinician"]}}',
  '{"@timestamp":"2026-11-01T00:00:01.000Z","audit":{"integrity":{"fields":"1f4db7","prev":"ShCOFKmjdPC9UjiDXHsuBY","seq":7,"stream":"ASg2fXXXBQ9IK2RVm6Y19A","v":2}},"ecs.version":"8.17.0","event":{"action":"http-request","category":["web"],"duration":1200000,"kind":"event","outcome":"success","type":["access"]},"http":{"request":{"id":"r-7","method":"GET"},"response":{"status_code":200}},"log.level":"info","message":"GET /patients/ps_4e1a7c_00000000000000000000000a 200","service":{"name":"patient-api"},"source":{"ip":"10.0.0.9"},"url":{"path":"/patients/ps_4e1a7c_00000000000000000000000a"},"user":{"effective":{"id":"dr-2"},"id":"nurse-1","roles":["nurse"]}}',
]

interface Read {
  entries: string[]
  stats: unknown
}

/** What the worker thread makes of the lines (read-segment.ts): the entries with the report's facts, and the counts. */
function read(lines: readonly string[], fast: boolean): Read {
  const entries: string[] = []
  const x = createExtractor((found) => entries.push(JSON.stringify(toEntry(found, factsOf))), {
    fast,
    onUnreadable: (line) => entries.push(`unreadable ${line}`),
  })
  for (const line of lines) x.push(line)
  x.end()
  return { entries, stats: x.stats }
}

let taken = 0

/** The property: the fast path agrees with the general one; when it reads the line, JSON.parse does too. */
function agrees(line: string): void {
  const r = fastRecord(line.trim())
  if (r !== undefined) {
    taken++
    const parsed = JSON.parse(line) as Record<string, unknown>
    const names = namesOfFieldsV2((r.integrity as { fields: unknown }).fields)!
    expect(r.macInput).toBe(macInputOf(parsed, names, 2))
  }
  expect(read([line], true)).toEqual(read([line], false))
}

// Content meant to trip a byte-level reader.
const KEYS = [
  'a',
  'b',
  'id',
  'ip',
  'name',
  'type',
  'path',
  'version',
  'level',
  'file',
  'ingested',
  'dataset',
  'mac',
  'epoch',
  'from',
  'loss',
  'key',
  'alg',
  'previous',
  'log',
  'constructor',
  'toString',
  '__proto__',
  '__x',
  '',
  'a.b',
  'x.y.z',
  '.a',
  'a.',
  'a..b',
  'é',
  '\u2028',
  'A',
  '_',
  '0',
  '10',
  '9',
]
const STRINGS = [
  'x',
  '',
  'a"b',
  'a\\b',
  '\u0001',
  '\n',
  'é',
  '\u2028',
  '\ud800',
  '\udc00x',
  '😀',
  '/',
  'ps_4e1a7c_00000000000000000000000a',
  '/patients/ps_4e1a7c_00000000000000000000000a',
  '2026-11-01T00:00:00Z',
  'http-request',
  'a'.repeat(600),
]
/** Values of every kind; and values the fast path reads (clean), so that it is taken often enough. */
const wildScalar = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.string({ maxLength: 6, unit: 'binary' }),
  fc.constantFrom(0, -0, 1, -1, 7, 1e15, 1e15 - 1, 123456789012345, 2 ** 53, 1e21, 0.5, -2.5e-7, 1e-7),
  fc.double(),
)
const cleanScalar = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'x',
      '',
      'é',
      '😀',
      'ps_4e1a7c_00000000000000000000000a',
      '/patients/ps_4e1a7c_00000000000000000000000a',
      'http-request',
    ),
    weight: 5,
  },
  { arbitrary: fc.integer({ min: -1000, max: 1000 }), weight: 6 },
  fc.boolean(),
  fc.constant(null),
  // Numbers as a writer other than JSON.stringify may print them (JSON.parse reads them all).
  fc
    .constantFrom(
      '-0',
      '-0.0',
      '1.0',
      '1e2',
      '1E2',
      '0.1',
      '123456789012345',
      '-123456789012345',
      '1234567890123456',
      '9007199254740993',
      '12345678901234567890',
      '100000000000000000000',
      '1000000000000000000000',
    )
    .map((text) => new Raw(text)),
)
const cleanKey = fc.constantFrom(...KEYS.filter((k) => !k.includes('.') && !k.startsWith('__')))
const wildKey = fc.oneof(cleanKey, fc.constantFrom(...KEYS), fc.string({ maxLength: 4, unit: 'binary' }))

function valuesOf(scalar: fc.Arbitrary<unknown>, key: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3 }),
    ),
  })).v
}

/** Members of a record in the SDK's shape, with any of them replaced or added to. */
function recordOf(
  scalar: fc.Arbitrary<unknown>,
  key: fc.Arbitrary<string>,
  wild: boolean,
): fc.Arbitrary<string> {
  const value = valuesOf(scalar, key)
  // Members that make the fast path decline, in the wild records only.
  const some = (names: string[]) => fc.constantFrom(...names.filter((n) => wild || !DECLINED.includes(n)))
  return fc
    .record(
      {
        '@timestamp': fc.oneof(fc.constant('2026-11-01T00:00:00.000Z'), scalar),
        integrity: wild
          ? fc.record(
              {
                fields: fc.oneof(
                  { arbitrary: fc.constant('auto'), weight: 6 },
                  fc.constantFrom('84da7', '1f4db7', '0', 'zz', '84DA7'),
                  fc.array(fc.constantFrom('84da7', 'labels'), { maxLength: 2 }),
                ),
                stream: fc.oneof({ arbitrary: fc.constant('ASg2fXXXBQ9IK2RVm6Y19A'), weight: 6 }, scalar),
                seq: fc.oneof({ arbitrary: fc.nat(1000), weight: 6 }, scalar),
                v: fc.oneof({ arbitrary: fc.constant(2), weight: 6 }, fc.constant(1), scalar),
                prev: fc.oneof(fc.constant('ShCOFKmjdPC9UjiDXHsuBY'), scalar),
                mac: fc.oneof(
                  { arbitrary: fc.constant('IS7fInMyvx3Bm7OCeJQD5yqTEgSpGvguFoXngJusEu8'), weight: 6 },
                  scalar,
                ),
                epoch: fc.oneof({ arbitrary: fc.nat(50), weight: 6 }, scalar),
                from: fc.oneof({ arbitrary: fc.nat(50), weight: 6 }, scalar),
                mark: fc.constantFrom('start', 'end', 'checkpoint'),
                interval: fc.oneof(fc.constant(60), scalar),
                alg: fc.oneof(fc.constant('hmac-sha256'), value),
                key: fc.oneof({ arbitrary: scalar, weight: 4 }, value),
                previous: fc.oneof({ arbitrary: scalar, weight: 4 }, value),
                extra: value,
              },
              { requiredKeys: ['stream', 'seq', 'v', 'fields'] },
            )
          : fc.record(
              {
                fields: fc.constant('auto'),
                stream: fc.constant('ASg2fXXXBQ9IK2RVm6Y19A'),
                // seq 0: a genesis, whose alg, key and previous the entry carries.
                seq: fc.oneof(fc.constant(0), fc.nat(1000)),
                v: fc.constant(2),
                prev: fc.constant('ShCOFKmjdPC9UjiDXHsuBY'),
                mac: fc.constant('IS7fInMyvx3Bm7OCeJQD5yqTEgSpGvguFoXngJusEu8'),
                epoch: fc.nat(50),
                from: fc.nat(50),
                mark: fc.constantFrom('start', 'end', 'checkpoint'),
                interval: fc.oneof(fc.constant(60), scalar),
                alg: fc.oneof({ arbitrary: scalar, weight: 3 }, value),
                key: fc.oneof({ arbitrary: scalar, weight: 3 }, value),
                previous: fc.oneof({ arbitrary: scalar, weight: 3 }, value),
                extra: value,
              },
              { requiredKeys: ['stream', 'seq', 'v', 'fields'] },
            ),
        audit: fc.dictionary(some(['resource', 'session', 'purpose', 'loss', 'a.b', 'x', 'y', 'z']), value, {
          maxKeys: 3,
        }),
        // Rare: a loss makes the fast path decline.
        loss: fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 8 },
          fc.record(
            {
              dropped: fc.oneof(fc.nat(9), scalar),
              total: fc.nat(99),
              reason: fc.constantFrom('queue-full', 'x'),
            },
            { requiredKeys: [] },
          ),
        ),
        resource: fc.record(
          { id: scalar, type: fc.oneof(fc.constant('patient'), scalar) },
          { requiredKeys: [] },
        ),
        event: fc.dictionary(
          some([
            'action',
            'kind',
            'id',
            'ingested',
            'dataset',
            'original',
            'agent_id_status',
            'module',
            'a.b',
          ]),
          value,
          { maxKeys: 4 },
        ),
        // Written as objects (already expanded, as a shipper may): what shippers own in them is left out.
        ecs: fc.dictionary(fc.constantFrom('version', 'a', 'b'), value, { maxKeys: 2 }),
        log: fc.dictionary(fc.constantFrom('level', 'file', 'offset', 'flags', 'x'), value, { maxKeys: 3 }),
        user: fc.dictionary(some(['id', 'effective', 'roles', 'effective.id']), value, {
          maxKeys: 3,
        }),
        top: fc.dictionary(
          some([
            ...ROOTS_V2,
            'ecs.version',
            'log.level',
            'log.file.path',
            'ecs.a',
            'user.id',
            'audit.x',
            'kubernetes',
            'kubernetes.pod',
            'log',
            '_source',
            'hits',
            'a.b.c',
          ]),
          value,
          { maxKeys: 5 },
        ),
        sorted: wild ? fc.boolean() : fc.constant(true),
        dottedTop: fc.boolean(),
      },
      { requiredKeys: ['integrity', 'sorted', 'dottedTop', 'loss'] },
    )
    .map((g) => {
      const top: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(g.top ?? {})) top[k] = v
      if (g['@timestamp'] !== undefined) top['@timestamp'] = g['@timestamp']
      if (g.event !== undefined) top.event = g.event
      if (g.user !== undefined) top.user = g.user
      if (g.dottedTop) {
        top['ecs.version'] = '8.17.0'
        top['log.level'] = 'info'
      } else {
        if (g.ecs !== undefined) top.ecs = g.ecs
        if (g.log !== undefined) top.log = g.log
      }
      const audit: Record<string, unknown> = { ...g.audit }
      if (g.loss !== undefined) audit.loss = g.loss
      if (g.resource !== undefined) audit.resource = g.resource
      audit.integrity = { ...g.integrity }
      if (g.integrity.fields === 'auto') {
        const names = Object.keys(top).map((k) => k.split('.')[0]!)
        ;(audit.integrity as Record<string, unknown>).fields = JSON.parse(
          fieldsValueV2([...new Set([...names, 'audit'].filter((n) => ROOTS_V2.includes(n)))]),
        )
      }
      top.audit = audit
      return write(top, g.sorted)
    })
}

/** Members of these names make the fast path decline (or the general path find no record). */
const DECLINED = [
  'loss',
  'a.b',
  'effective.id',
  'user.id',
  'audit.x',
  'kubernetes.pod',
  'log.file.path',
  'ecs.a',
  'log',
  '_source',
  'hits',
]

const record = fc.oneof(
  { arbitrary: recordOf(cleanScalar, cleanKey, false), weight: 2 },
  recordOf(fc.oneof(cleanScalar, wildScalar), wildKey, true),
)

/** JSON text of a value with every object's keys sorted (as the SDK writes) or as they come. */
/** A number written as it is. */
class Raw {
  constructor(readonly text: string) {}
}

function write(v: unknown, sorted: boolean): string {
  if (v instanceof Raw) return v.text
  if (Array.isArray(v)) return `[${v.map((x) => write(x, sorted)).join(',')}]`
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v)
    if (sorted) keys.sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${write((v as Record<string, unknown>)[k], sorted)}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

/** Text edits: a character or token inserted, a range deleted, a member repeated or two swapped. */
const INSERTS = [
  ' ',
  '"',
  '\\',
  '.',
  ',',
  '{',
  '}',
  '[',
  ']',
  ':',
  '0',
  '-',
  'e',
  '.5',
  'E2',
  '\\u0041',
  '\\/',
  'é',
  '\ud83d',
  '\u0007',
  '\t',
  '"__proto__":1,',
  '"log":"{}",',
  '"a.b":1,',
  '"a":{"b":1},',
  '-0',
  '00',
]

function mutate(line: string, at: number, kind: number, pick: number, len: number): string {
  const p = at % (line.length + 1)
  switch (kind % 4) {
    case 0:
      return line.slice(0, p) + INSERTS[pick % INSERTS.length] + line.slice(p)
    case 1:
      return line.slice(0, p) + line.slice(p + 1 + (len % 8))
    case 2: {
      // A member written twice (the later one, as JSON.parse keeps it, altered).
      const start = line.indexOf(',"', p)
      if (start < 0) return line
      const end = line.indexOf(',"', start + 2)
      if (end < 0) return line
      const member = line.slice(start, end)
      return line.slice(0, end) + member.replace(/\d/, '9') + line.slice(end)
    }
    default: {
      // Two neighbouring members swapped.
      const a = line.indexOf(',"', p)
      if (a < 0) return line
      const b = line.indexOf(',"', a + 2)
      if (b < 0) return line
      const c = line.indexOf(',"', b + 2)
      if (c < 0) return line
      return line.slice(0, a) + line.slice(b, c) + line.slice(a, b) + line.slice(c)
    }
  }
}

describe('fastRecord reads what the general path reads', () => {
  it('the SDK lines are read by it, and the same', () => {
    for (const line of SEEDS) {
      expect(fastRecord(line)).toBeDefined()
      agrees(line)
    }
  })

  it('records in the SDK shape with adversarial content', () => {
    taken = 0
    let runs = 0
    fc.assert(
      fc.property(record, (line) => {
        runs++
        agrees(line)
      }),
      { numRuns: 4000 },
    )
    // Enough of them take the fast path for this to test it.
    expect(taken).toBeGreaterThan(runs / 40)
  })

  it('the SDK lines mutated', () => {
    taken = 0
    fc.assert(
      fc.property(
        fc.constantFrom(...SEEDS),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
        (seed, edits) => {
          let line = seed
          for (const [at, kind, pick, len] of edits) line = mutate(line, at, kind, pick, len)
          agrees(line)
        },
      ),
      { numRuns: 4000 },
    )
    expect(taken).toBeGreaterThan(100)
  })

  it('generated records mutated', () => {
    fc.assert(
      fc.property(record, fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), (line, [at, kind, pick, len]) =>
        agrees(mutate(line, at, kind, pick, len)),
      ),
      { numRuns: 2000 },
    )
  })

  it('declines what it cannot read exactly', () => {
    const [seed] = SEEDS as [string]
    const declined = [
      seed.replace('"seq":1', '"seq":1.0'),
      seed.replace('"seq":1', '"seq":1e0'),
      seed.replace('"dr-1"', '"dr\\u002d1"'),
      seed.replace('{"@timestamp"', '{ "@timestamp"'),
      seed.replace('"log.level":"info"', '"log.level":"info","log.level":"debug"'),
      `${seed}x`,
      seed.replace('"@timestamp"', '"__proto__":{},"@timestamp"'),
      seed.replace('"v":2', '"v":1'),
      seed.replace('"seq":1,', '"seq":-0,'),
      seed.replace('"seq":1,', '"seq":9007199254740993,'),
      seed.replace('"dr-1"', '"dr\u00011"'),
      seed.replace('"dr-1"', '"dr\ud8001"'),
    ]
    // Already expanded (as a shipper may write it): read, and the same.
    const expanded = seed.replace('"log.level":"info"', '"log":{"level":"info"}')
    expect(fastRecord(expanded)).toBeDefined()
    agrees(expanded)
    for (const line of declined) {
      expect(fastRecord(line)).toBeUndefined()
      agrees(line)
    }
  })
})
