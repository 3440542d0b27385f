/**
 * A record prepared on one thread and sealed on another (through the wire encoding) must give exactly
 * the line that sealing it in place gives, for any record shape, and that line must verify.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodePrepared, encodePrepared, prepareRecord } from './assemble'
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
