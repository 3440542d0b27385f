/**
 * Issue 15 item 0: no input can hide records. Junk, a stray `{`, a cut JSON object, binary or an
 * over-long line never stop the lines after it from being read; unreadable lines between a
 * stream's records make that stream not intact.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { verifyLines, verifyStream } from '../src/integrity/verify'
import { keys, makeTrail, manyEvents } from './trail'

const privateKey = keys.privateKeyPem
const T0 = Date.parse('2026-11-01T08:00:00Z')
const first = makeTrail(manyEvents(40), { start: T0, instance: 'pod-1' })
const second = makeTrail(manyEvents(60), { start: T0 + 3600_000, instance: 'pod-2' })

/** The second stream with one record altered (a patient id changed). */
function tampered(): string[] {
  const lines = [...first.lines, ...second.lines]
  const i = first.lines.length + 20
  lines[i] = lines[i]!.replace(/"ps_0+(\w)/, '"ps_1$1')
  return lines
}

const kinds = (lines: string[]) => verifyLines(lines, { privateKey }).findings.map((f) => f.kind)

describe('a line that cannot be read does not hide the lines after it', () => {
  it('a stray `{` before a tampered stream: still MODIFIED, exit 1', () => {
    const lines = tampered()
    lines.splice(first.lines.length, 0, '{')
    const r = verifyLines(lines, { privateKey })
    expect(r.exitCode).toBe(1)
    expect(r.findings.map((f) => [f.kind, f.seq])).toEqual([['modified', 20]])
    expect(r.input.unreadableLines).toEqual([first.lines.length + 1])
  })

  it('the cut last line of a killed process before the next stream', () => {
    const lines = tampered()
    const cut = first.lines[first.lines.length - 1]!
    lines.splice(first.lines.length - 1, 1, cut.slice(0, cut.length >> 1))
    const r = verifyLines(lines, { privateKey })
    expect(r.exitCode).toBe(1)
    expect(r.findings.map((f) => f.kind)).toContain('modified')
  })

  it('an unreadable line between two records of a stream makes it not intact, naming the line', () => {
    const lines = [...first.lines]
    lines.splice(10, 0, '{"@timestamp":"2026-11-01T08:00:01.000Z","audit":{"integ')
    const r = verifyLines(lines, { privateKey })
    expect(r.exitCode).toBe(1)
    expect(r.findings).toMatchObject([{ kind: 'unreadable', count: 1, lines: [11] }])
  })

  it('plain text (no JSON in it) between records is other output, not a hiding place', () => {
    const lines = [...first.lines]
    lines.splice(10, 0, 'Server listening on :8080', '\u0000\u0001binary\u00ff')
    const r = verifyLines(lines, { privateKey })
    expect(r.exitCode).toBe(0)
    expect(r.input.unparsable).toBe(2)
    expect(r.input.unreadable).toBe(0)
  })

  it('a multi-line document that never closes is read again line by line', () => {
    const lines = ['{', '  "hits": {', ...tampered()]
    const r = verifyLines(lines, { privateKey })
    expect(r.exitCode).toBe(1)
    expect(r.streams).toHaveLength(2)
    expect(r.findings.map((f) => f.kind)).toEqual(['modified'])
  })

  it('a pretty-printed search response still reads as one document', () => {
    const hits = second.lines.map((l, i) => ({ _index: 'audit', _id: String(i), _source: JSON.parse(l) }))
    const text = JSON.stringify({ took: 3, hits: { total: { value: hits.length }, hits } }, null, 2)
    const r = verifyLines(['{', ...text.split('\n'), ...first.lines], { privateKey })
    expect(r.streams.map((s) => s.records).sort()).toEqual([first.lines.length, second.lines.length].sort())
    expect(r.input.unreadable).toBe(1)
  })

  it('an over-long line is skipped, and what follows is read (streaming input)', async () => {
    const huge = `{"x":"${'a'.repeat(70 * 1024 * 1024)}`
    async function* chunks() {
      yield `${first.lines.slice(0, 5).join('\n')}\n`
      for (let i = 0; i < huge.length; i += 1 << 20) yield huge.slice(i, i + (1 << 20))
      yield `\n${first.lines.slice(5).join('\n')}\n`
    }
    const r = await verifyStream(chunks(), { privateKey })
    expect(r.streams[0]!.records).toBe(first.lines.length)
    expect(r.findings).toMatchObject([{ kind: 'unreadable', lines: [6] }])
  }, 60_000)

  it('records wrapped in any JSON are still found', () => {
    const wrapped = first.lines.map((l) => `{"a":{"b":[{"c":${l}}]}}`)
    expect(kinds(wrapped)).toEqual([])
  })
})

const junkLine = fc.oneof(
  fc.constantFrom(
    '{',
    '[',
    '{"a":',
    '}',
    ']',
    '"',
    '{"log":"{',
    '{"hits":{"hits":[',
    '2026-11-01T08:00:00Z stdout P {',
  ),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.tuple(fc.integer({ min: 0, max: 199 }), fc.nat()).map(([i, n]) => {
    const all = [...first.lines, ...second.lines]
    const line = all[i % all.length]!
    return line.slice(0, n % line.length)
  }),
)

describe('property: junk inserted anywhere never turns exit 1 into exit 0', () => {
  const attacks: Array<[string, () => string[]]> = [
    ['modified', tampered],
    [
      'deleted',
      () => {
        const l = [...first.lines, ...second.lines]
        l.splice(first.lines.length + 30, 1)
        return l
      },
    ],
    ['tail cut', () => [...first.lines, ...second.lines.slice(0, -3)]],
  ]
  for (const [name, make] of attacks) {
    it(name, () => {
      const base = make()
      expect(verifyLines(base, { privateKey, until: T0 + 7200_000 }).exitCode).toBe(1)
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(
              fc.nat(),
              junkLine.map((j) => j.split('\n')),
            ),
            { minLength: 1, maxLength: 6 },
          ),
          (inserts) => {
            const lines = [...base]
            for (const [at, junk] of inserts) lines.splice(at % (lines.length + 1), 0, ...junk)
            expect(verifyLines(lines, { privateKey, until: T0 + 7200_000 }).exitCode).toBe(1)
          },
        ),
        { numRuns: 60 },
      )
    })
  }
})
