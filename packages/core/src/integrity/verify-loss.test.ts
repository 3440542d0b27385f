/** `dropped` findings (CONTRACTS.md §1): loss records, and loss totals with no loss record behind them. */
import { describe, expect, it } from 'vitest'
import { lossRecord, withLossTotal } from '../writer/loss'
import { createChain } from './chain'
import { verifyText } from './verify'

function stream(build: (chain: ReturnType<typeof createChain>) => Record<string, unknown>[]): string {
  const chain = createChain({ service: { name: 'svc', instance: 'i' }, checkpointIntervalSeconds: 0 })
  const records = [chain.genesis(), ...build(chain)]
  return records.map((r) => chain.seal(r)).join('\n')
}

const event = (i: number) => ({
  '@timestamp': new Date().toISOString(),
  'log.level': 'info',
  message: `e${i}`,
  event: { kind: 'event', action: 'tick', category: ['process'], type: ['info'], outcome: 'success' },
})

describe('verify: dropped events', () => {
  it('a loss record yields a dropped finding with its seq, count and reason; exit 1, not intact', () => {
    const text = stream((chain) => [
      event(1),
      lossRecord(new Date().toISOString(), 7, 7, 'buffer-full', new Date().toISOString()),
      event(2),
      withLossTotal(chain.closing(), 7),
    ])
    const report = verifyText(text)
    expect(report.exitCode).toBe(1)
    expect(report.ok).toBe(false)
    const dropped = report.findings.filter((f) => f.kind === 'dropped')
    expect(dropped).toHaveLength(1)
    expect(dropped[0]).toMatchObject({ seq: 2, count: 7, reason: 'buffer-full', severity: 'gap' })
    expect(dropped[0]!.message).toBe('7 events dropped before seq 2 (buffer-full)')
    expect(report.streams[0]!.status).toBe('gaps')
    expect(report.streams[0]!.closed).toBe(true)
  })

  it('a total larger than the loss records seen is reported as unrecorded losses', () => {
    const text = stream((chain) => [
      event(1),
      lossRecord(new Date().toISOString(), 2, 2, 'destination-error', new Date().toISOString()),
      withLossTotal(chain.closing(), 5),
    ])
    const report = verifyText(text)
    expect(report.exitCode).toBe(1)
    expect(report.findings.filter((f) => f.kind === 'dropped').map((f) => f.message)).toEqual([
      '2 events dropped before seq 2 (destination-error)',
      '3 events dropped before seq 3 (unrecorded losses)',
    ])
  })

  it('no loss: no dropped finding (an unkeyed stream exits 0 with no key expected)', () => {
    const report = verifyText(stream((chain) => [event(1), withLossTotal(chain.closing(), 0)]))
    expect(report.findings).toEqual([])
    expect(report.exitCode).toBe(0)
  })
})
