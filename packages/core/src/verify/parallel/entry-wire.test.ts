/**
 * The wire form of an entry (worker -> main thread) gives the entry back: every member, NaN times,
 * format-2 links left out when the input starts with them, format-1 inputs sent apart.
 */
import { describe, expect, it } from 'vitest'
import { fastTrail } from '../../../bench/fast-trail'
import { generateVerifierKeyPair } from '../../integrity/keys'
import { type Entry, toEntry } from '../entry'
import { createExtractor } from '../extract/extractor'
import { factsWithAccessOf } from '../report/facts'
import { type FactTable, fromWire, TABLE_MAX, toWire } from './entry-wire'

const keys = generateVerifierKeyPair()

function entriesOf(version: 1 | 2): Entry[] {
  const out: Entry[] = []
  const x = createExtractor((f) => out.push(toEntry(f, factsWithAccessOf)))
  for (const line of fastTrail({ records: 200, publicKey: keys.publicKeyPem, version, epochRecords: 7 }))
    x.push(line)
  x.end()
  return out
}

/** Through JSON, as the worker sends it. */
function roundTrip(e: Entry, input: string | undefined): Entry {
  return fromWire(JSON.parse(JSON.stringify(toWire(e, input))) as unknown[])
}

describe('entry wire form', () => {
  it('format 2: every entry comes back as it was, epoch ends and chain records too', () => {
    const entries = entriesOf(2)
    expect(entries.some((e) => e.v2?.epoch !== undefined)).toBe(true)
    expect(entries.some((e) => e.genesis !== undefined)).toBe(true)
    for (const e of entries) expect(roundTrip(e, e.input)).toEqual(e)
    // The link rides in the input: shorter than sending both.
    const middle = entries[3]!
    expect(middle.v2?.epoch).toBeUndefined()
    expect(JSON.stringify(toWire(middle, middle.input))).not.toContain(middle.v2!.link + '"')
  })

  it("a segment's repeated fact values are sent once, then by number, and come back the same", () => {
    const entries = entriesOf(2)
    const sent: FactTable = []
    const wires = entries.map((e) => JSON.stringify(toWire(e, e.input, false, sent)))
    const got: FactTable = []
    const back = wires.map((w) => fromWire(JSON.parse(w) as unknown[], got))
    for (let i = 0; i < entries.length; i++) expect(back[i]).toEqual(entries[i])
    // The actor, action, resource type and IP of a later access record ride as numbers.
    const later = entries.findLastIndex((e) => (e.facts as { actor?: string }).actor !== undefined)
    const factsOnWire = (w: unknown[]) => w[18] as unknown[]
    // facts: [time, action, actor, effective, session, ip, resourceType, ...]
    const tabled = factsOnWire(JSON.parse(wires[later]!) as unknown[])
    expect([1, 2, 6].map((i) => typeof tabled[i])).toEqual(['number', 'number', 'number'])
    // So does the stream.
    expect(typeof (JSON.parse(wires[later]!) as unknown[])[0]).toBe('number')
    const plain = factsOnWire(toWire(entries[later]!, entries[later]!.input))
    expect(plain[2]).toBe((entries[later]!.facts as { actor: string }).actor)
    // Every record's facts on the main thread have one shape (every member, undefined if absent).
    const shapes = new Set(back.map((e) => Object.keys(e.facts as object).join()))
    expect(shapes.size).toBe(1)
    // A time of the facts other than the entry's survives the wire too.
    const odd = { ...entries[1]!, facts: { ...(entries[1]!.facts as object), time: 7 } }
    expect(fromWire(JSON.parse(JSON.stringify(toWire(odd, odd.input))) as unknown[])).toEqual(odd)
    const nan = { ...entries[1]!, facts: { ...(entries[1]!.facts as object), time: Number.NaN } }
    expect(fromWire(JSON.parse(JSON.stringify(toWire(nan, nan.input))) as unknown[])).toEqual(nan)
  })

  it('more distinct values than a table holds: the later ones are sent as they are', () => {
    const entries = entriesOf(2).map((e, i) => ({
      ...e,
      facts: { ...(e.facts as object), actor: `actor-${i % (TABLE_MAX + 9)}`, session: `s-${i % 3}` },
    }))
    const sent: FactTable = []
    const wires = entries.map((e) => JSON.stringify(toWire(e, e.input, false, sent)))
    expect(sent).toHaveLength(TABLE_MAX)
    const got: FactTable = []
    for (let i = 0; i < entries.length; i++)
      expect(fromWire(JSON.parse(wires[i]!) as unknown[], got)).toEqual(entries[i])
  })

  it('format 1: the input is sent apart (undefined on arrival), the rest comes back', () => {
    for (const e of entriesOf(1)) {
      const back = roundTrip(e, undefined)
      expect(back.input).toBeUndefined()
      expect({ ...back, input: e.input }).toEqual(e)
    }
  })

  it('every optional member, unreadable times (NaN) and a link that is not the input start', () => {
    const e: Entry = {
      stream: 's',
      seq: 9,
      mac: 'M',
      input: '2.3.4.digestdigestdigestdigest',
      time: Number.NaN,
      line: 12,
      position: 11,
      indexed: true,
      prev: 'p',
      v2: { link: 'L'.repeat(22), epoch: 3, from: 4 },
      mark: 'checkpoint',
      interval: 60,
      service: 'svc',
      instance: 'pod',
      genesis: { alg: 'hmac-sha256', key: { k: 1 }, previous: 'x' },
      loss: { dropped: 2, total: 5, reason: 'r' },
      facts: { time: Number.NaN, actor: 'a', pseudonyms: ['ps_1'], alert: true, access: { actor: 'a' } },
      macValid: false,
    }
    expect(roundTrip(e, e.input)).toEqual(e)
    const bare: Entry = {
      stream: 's',
      seq: 0,
      mac: '',
      input: 'i',
      time: 5,
      line: 1,
      position: 0,
      indexed: false,
    }
    expect(roundTrip(bare, bare.input)).toEqual(bare)
    expect(toWire(bare, bare.input)).toHaveLength(8)
  })
})
