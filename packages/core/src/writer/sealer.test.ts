/**
 * The sealer's chunks as the sealing thread hands them to its output: which are marked ASCII (the
 * output then writes them as latin1 without measuring them, fd-output.ts), and how many lines go
 * in one (one epoch, one write).
 */
import { describe, expect, it } from 'vitest'
import { prepareRecord } from '../integrity/assemble'
import { createChain } from '../integrity/chain'
import { encodeItem } from './items'
import type { Output } from './output'
import { THREAD_CHUNK_CHARS } from './seal-protocol'
import { CHUNK, createSealer, isAscii } from './sealer'

interface Write {
  text: string
  events: number
  ascii: boolean | undefined
}

/** An output that keeps what it is handed and always has room. */
function recordingOutput(): Output & { writes: Write[] } {
  const writes: Write[] = []
  return {
    writes,
    write: (text, events, ascii) => void writes.push({ text, events, ascii }),
    room: true,
    whenWritten: (done) => done(),
    flushSync: () => true,
    end: async () => {},
    failed: false,
    written: 0,
    lost: 0,
    idle: true,
    healthy: true,
  }
}

/** An encoded record item (as the logger's thread posts it), its message `note` and ~`pad` characters long. */
function item(i: number, note = 'plain', pad = 0): string {
  const record = {
    '@timestamp': '2026-12-06T20:00:00.000Z',
    'log.level': 'info',
    message: `${note} ${i}`,
    'ecs.version': '8.17.0',
    audit: { details: { i, pad: 'x'.repeat(pad) } },
  }
  return encodeItem({ kind: 'record', prepared: prepareRecord(record, { maxLineBytes: 16383 }) })
}

function sealer(chunkChars?: number) {
  const output = recordingOutput()
  const chain = createChain({ service: { name: 's', instance: 'i' }, checkpointIntervalSeconds: 0 })
  const s = createSealer({
    chain,
    service: { name: 's' },
    ecsVersion: '8.17.0',
    output,
    maxLineBytes: 16383,
    lazyGenesis: true,
    chunkChars,
  })
  return { s, output }
}

describe('sealer chunks marked ASCII', () => {
  it('marks a chunk only when every item in it came marked and no chain record is in it', () => {
    const { s, output } = sealer()
    // The first chunk carries the genesis (the chain's own record: service name, reasons): unmarked.
    s.push(item(0), true)
    s.pump()
    // Marked items only: marked.
    for (let i = 1; i <= 3; i++) s.push(item(i), true)
    s.pump()
    // One item not known to be ASCII (the thread found the batch was not): the chunk is unmarked.
    s.push(item(4), true)
    s.push(item(5, 'café'), false)
    s.pump()
    // Marked again once such an item is past.
    s.push(item(6), true)
    s.pump()
    // A checkpoint is the chain's own record: unmarked.
    s.push(item(7), true)
    s.push(encodeItem({ kind: 'checkpoint' }))
    s.pump()
    // An item pushed without saying: unmarked.
    s.push(item(8))
    s.pump()
    expect(output.writes.map((w) => w.ascii)).toEqual([false, true, false, true, false, false])
    expect(output.writes.map((w) => w.events)).toEqual([1, 3, 2, 1, 1, 1])
    for (const w of output.writes) if (w.ascii) expect(isAscii(w.text)).toBe(true)
    expect(output.writes[2]!.text).toContain('café 5')
  })
})

describe('sealer chunk size', () => {
  // ~900-character lines from ~720-character items: a 64 KiB batch of them makes ~80 KiB of lines.
  const batch = () => Array.from({ length: 80 }, (_, i) => item(i, 'plain', 600))

  it('by default a chunk ends at the first line past 64 Ki characters', () => {
    const { s, output } = sealer()
    s.push(item(0), true)
    s.pump()
    for (const text of batch()) s.push(text, true)
    s.pump()
    const chunks = output.writes.slice(1)
    expect(chunks.length).toBe(2)
    expect(chunks[0]!.text.length).toBeGreaterThanOrEqual(CHUNK)
    expect(chunks[0]!.events + chunks[1]!.events).toBe(80)
  })

  it("the sealing thread's chunkChars lets one batch of lines go as one chunk: one epoch, one write", () => {
    const { s, output } = sealer(THREAD_CHUNK_CHARS)
    s.push(item(0), true)
    s.pump()
    for (const text of batch()) s.push(text, true)
    s.pump()
    expect(output.writes.slice(1).map((w) => w.events)).toEqual([80])
    const lines = output.writes[1]!.text.split('\n').filter(Boolean)
    // Sealed as one epoch: only its last record carries the epoch's MAC.
    expect(lines.map((l) => JSON.parse(l).audit.integrity.mac !== undefined)).toEqual(
      lines.map((_, i) => i === lines.length - 1),
    )
  })
})
