/**
 * A record prepared on one thread and sealed on another (through the wire encoding) must give exactly
 * the line that sealing it in place gives, for any record shape, and that line must verify.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { httpRecord } from '../events/http'
import { buildEnv } from '../events/record'
import { createRecordSerializer } from '../events/serialize'
import { resolveOptions } from '../options'
import { compilePolicy } from '../redact/index'
import type { AuditContext, HttpRequestRecord } from '../types'
import {
  createPreparer,
  decodePrepared,
  encodePrepared,
  hasShipperOwnedEvent,
  type Prepared,
  prepareRecord,
  SLOT,
  templateOf,
} from './assemble'
import { SHIPPER_OWNED } from './canonical'
import { createChain, newStreamId } from './chain'
import { verifyLines } from './verify'

const limit = { maxLineBytes: 16383 }

const value = fc.letrec((tie) => ({
  leaf: fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), tie('node'), { maxKeys: 4 }),
  ),
})).node

/** Logger-shaped records (sorted, dotted ECS keys) and arbitrary ones. */
const record = fc.oneof(
  fc.record({
    '@timestamp': fc.constant('2026-11-29T10:00:00.000Z'),
    audit: fc.dictionary(fc.constantFrom('details', 'purpose', 'resource'), value, { maxKeys: 3 }),
    'ecs.version': fc.constant('8.17.0'),
    event: fc.record({ action: fc.string(), id: fc.uuid() }),
    'log.level': fc.constantFrom('info', 'warn'),
    message: fc.string({ unit: 'binary' }),
  }),
  fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), value, { maxKeys: 6 }),
)

describe('prepareRecord + encodePrepared/decodePrepared + sealPrepared', () => {
  it('gives the same line as seal(), and it verifies (property)', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const streamId = newStreamId()
        const options = { service: { name: 's', instance: 'i' }, streamId, checkpointIntervalSeconds: 0 }
        const here = createChain(options)
        const there = createChain(options)
        const a: string[] = []
        const b: string[] = []
        for (const r of records) {
          a.push(here.seal(structuredClone(r)))
          b.push(there.sealPrepared(decodePrepared(encodePrepared(prepareRecord(structuredClone(r), limit)))))
        }
        expect(b).toEqual(a)
        const report = verifyLines(b)
        const stream = report.streams.find((s) => s.stream === streamId)!
        expect(stream.intact).toEqual([[0, records.length - 1]])
      }),
      { numRuns: 300 },
    )
  })
})

describe('prepareRecord of the records the builders make', () => {
  const env = buildEnv(
    compilePolicy(undefined, {}),
    resolveOptions({ service: { name: 's', version: '1' }, destination: false, otel: { enabled: true } }),
  )
  // What adapters pass, and what a JavaScript caller or context may hold instead.
  const odd = fc.oneof(fc.string(), fc.constantFrom('10.0.0.1', 'req-1'), fc.anything({ withBigInt: true }))
  const headerName = fc.oneof(
    fc.constantFrom('accept', 'host', 'Accept', 'x.trace', '9', '10'),
    fc.string({ maxLength: 6 }),
  )
  const context = fc.option(
    fc.record(
      {
        requestId: odd,
        clientIp: odd,
        userAgent: fc.string(),
        traceId: odd,
        spanId: odd,
        purpose: fc.string(),
      },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  )
  const input = fc.record(
    {
      method: fc.constantFrom('GET', 'post'),
      path: fc.constantFrom('/hello', '/patients/123-45-6789'),
      route: fc.constantFrom('/hello', '/patients/:id'),
      statusCode: fc.constantFrom(200, 404, 503),
      durationNs: fc.double(),
      responseBytes: fc.integer(),
      requestId: odd,
      clientIp: odd,
      userAgent: fc.string(),
      traceId: odd,
      spanId: odd,
      headers: fc.dictionary(headerName, fc.string(), { maxKeys: 4 }),
      queryKeys: fc.array(fc.string(), { maxLength: 3 }),
      actor: fc.record(
        {
          id: fc.string(),
          roles: fc.array(fc.string(), { maxLength: 2 }),
          effective: fc.record({ id: fc.string() }),
        },
        { requiredKeys: ['id'] },
      ),
      error: fc.constantFrom(new TypeError('boom'), 'text', 42),
      handler: fc.record({ controller: fc.string(), name: fc.string() }),
    },
    { requiredKeys: ['method', 'path'] },
  )

  it('an http-request record from any input takes a path that seals to a line that verifies (property)', () => {
    fc.assert(
      fc.property(context, fc.array(input, { minLength: 1, maxLength: 4 }), (ctx, inputs) => {
        const streamId = newStreamId()
        const chain = createChain({
          service: { name: 's', instance: 'i' },
          streamId,
          checkpointIntervalSeconds: 0,
        })
        const prepare = createPreparer(limit)
        const lines = inputs.map((fields) =>
          chain.sealPrepared(
            decodePrepared(
              encodePrepared(
                prepare(httpRecord(env, ctx as AuditContext | undefined, fields as HttpRequestRecord)),
              ),
            ),
          ),
        )
        const report = verifyLines(lines)
        expect(report.streams.find((s) => s.stream === streamId)!.intact).toEqual([[0, lines.length - 1]])
      }),
      { numRuns: 300 },
    )
  })

  it('an http-request record as the adapters send it takes the sorted path; changed afterwards, it does not', () => {
    const make = () =>
      httpRecord(env, undefined, {
        method: 'GET',
        path: '/hello',
        route: '/hello',
        statusCode: 200,
        requestId: 'req-1',
        clientIp: '127.0.0.1',
        headers: { accept: '*/*', host: '127.0.0.1:4000' },
      })
    expect(prepareRecord(make(), limit).sorted).toBeDefined()
    // Unsorted after it was built: nothing is taken at the builder's word, so this takes the
    // general path, and still seals to a line that verifies.
    const changed = make()
    changed.url = { query: 'a=', path: '/' }
    const prepared = prepareRecord(changed, limit)
    expect(prepared.sorted).toBeUndefined()
    const chain = createChain({ service: { name: 's', instance: 'i' }, checkpointIntervalSeconds: 0 })
    const line = chain.sealPrepared(prepared)
    expect(JSON.parse(line).url).toEqual({ path: '/', query: 'a=' })
    expect(verifyLines([line]).streams[0]!.intact).toEqual([[0, 0]])
  })

  it("a record that holds the integrity stand-in's text elsewhere takes the general path", () => {
    // The sorted path finds where audit.integrity goes by its stand-in (random per process, so only
    // a test can plant it); a copy in a value before it (audit.details sorts before integrity) must
    // not be taken for it.
    const chain = createChain({ service: { name: 's', instance: 'i' }, checkpointIntervalSeconds: 0 })
    const record = () => ({
      '@timestamp': '2026-11-29T10:00:00.000Z',
      audit: { details: { integrity: SLOT }, purpose: SLOT },
      'ecs.version': '8.17.0',
      event: { action: 'a' },
      'log.level': 'info',
    })
    expect(prepareRecord(record(), limit).sorted).toBeUndefined()
    const line = chain.seal(record())
    expect(JSON.parse(line).audit.details).toEqual({ integrity: SLOT })
    expect(JSON.parse(line).audit.purpose).toBe(SLOT)
    expect(verifyLines([line]).streams[0]!.intact).toEqual([[0, 0]])
    // Without the copies, the same record takes the sorted path.
    const plain = { ...record(), audit: { details: { integrity: 'x' } } }
    expect(prepareRecord(plain, limit).sorted).toBeDefined()
  })

  it("takes the key offsets the logger's serialiser gives, and the same template results when they are wrong or absent", () => {
    const serializer = createRecordSerializer()
    const prepare = createPreparer({
      ...limit,
      serializeSorted: serializer.sorted as (r: Record<string, unknown>) => string | undefined,
      sortedOffsets: serializer.offsets,
    })
    const make = (level: number) =>
      httpRecord(env, undefined, {
        method: 'GET',
        path: '/hello',
        route: '/hello',
        statusCode: level,
        requestId: 'req-1',
        clientIp: '127.0.0.1',
        headers: { accept: '*/*', host: '127.0.0.1:4000' },
        reason: 'ecs.version and log.level in a reason',
      } as never)
    for (const status of [200, 404, 503]) {
      const prepared = prepare(make(status))
      const at = prepared.sorted?.at
      expect(at).toBeDefined()
      const tail = prepared.sorted!.tail
      expect(tail.startsWith('"ecs.version":', at!.ecs)).toBe(true)
      expect(tail.startsWith('"log.level":', at!.level)).toBe(true)
      const searched: Prepared = { ...prepared, sorted: { head: prepared.sorted!.head, tail } }
      const expected = templateOf(searched)
      expect(templateOf(prepared)).toEqual(expected)
      expect(templateOf(decodePrepared(encodePrepared(prepared)))).toEqual(expected)
      expect(decodePrepared(encodePrepared(prepared)).sorted!.at).toEqual(at)
      expect(decodePrepared(encodePrepared(searched)).sorted!.at).toBeUndefined()
      // Offsets that do not point at the keys are not believed.
      for (const wrong of [
        { ecs: at!.ecs + 1, level: at!.level },
        { ecs: at!.ecs, level: at!.level - 3 },
        { ecs: 0, level: 0 },
        { ecs: at!.level, level: at!.ecs },
      ]) {
        expect(templateOf({ ...prepared, sorted: { head: prepared.sorted!.head, tail, at: wrong } })).toEqual(
          expected,
        )
      }
    }
  })

  it("the logger's split serialiser prepares exactly what the stand-in path prepares", () => {
    const serializer = createRecordSerializer()
    const sortedText = serializer.sorted as (r: Record<string, unknown>) => string | undefined
    const withSplit = createPreparer({
      ...limit,
      serializeSorted: sortedText,
      serializeSplit: serializer.split as (r: Record<string, unknown>) => string | undefined,
      sortedOffsets: serializer.offsets,
    })
    const standIn = createPreparer({
      ...limit,
      serializeSorted: sortedText,
      sortedOffsets: serializer.offsets,
    })
    for (const status of [200, 404, 503]) {
      const record = httpRecord(env, { actor: { id: 'u1', roles: ['clinician'] }, purpose: 'treatment' }, {
        method: 'GET',
        path: '/hello',
        route: '/hello',
        statusCode: status,
        requestId: 'req-1',
        clientIp: '127.0.0.1',
        headers: { accept: '*/*', host: '127.0.0.1:4000' },
        reason: 'ecs.version and log.level in a reason',
      } as never) as unknown as Record<string, unknown>
      const split = withSplit(structuredClone(record))
      expect(split.sorted).toBeDefined()
      expect(split).toEqual(standIn(structuredClone(record)))
      // The split path leaves the record's audit as it was (no stand-in planted in it).
      const kept = structuredClone(record)
      withSplit(kept)
      expect(kept).toEqual(record)
    }
  })

  it('hasShipperOwnedEvent reads exactly the names SHIPPER_OWNED gives event', () => {
    for (const name of SHIPPER_OWNED.event!)
      expect(hasShipperOwnedEvent({ action: 'a', [name]: 'x' })).toBe(true)
    expect(
      hasShipperOwnedEvent({ action: 'a', kind: 'event', outcome: 'success', id: 'i', type: ['access'] }),
    ).toBe(false)
    const names = ['ingested', 'dataset', 'agent_id_status', 'original', 'module']
    expect([...SHIPPER_OWNED.event!].sort()).toEqual(names.sort())
  })

  it('a stand-in found first under another key, or found twice, sends the record down the general path', () => {
    const base = {
      '@timestamp': '2026-11-29T10:00:00.000Z',
      audit: { purpose: 'x' },
      'ecs.version': '8.17.0',
      event: { action: 'a' },
      'log.level': 'info',
      message: 'm',
    }
    expect(prepareRecord(structuredClone(base), limit).sorted).toBeDefined()
    for (const record of [
      { ...base, '@timestamp': SLOT },
      { ...base, message: SLOT },
      { ...base, message: `"integrity":"${SLOT}"` },
    ]) {
      expect(prepareRecord(structuredClone(record), limit).sorted).toBeUndefined()
      const chain = createChain({ service: { name: 's', instance: 'i' }, checkpointIntervalSeconds: 0 })
      const line = chain.seal(structuredClone(record))
      expect(JSON.parse(line).message).toBe(record.message)
      expect(verifyLines([line]).streams[0]!.intact).toEqual([[0, 0]])
    }
  })
})
