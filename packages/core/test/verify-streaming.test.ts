/**
 * Issue 15 item 1: verify streams. A large single stream (the old verifier overflowed its stack at
 * 200,000 records), shuffled input walked through the spill directory, late copies, and the
 * streaming entry point over a real file.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { fastTrail } from '../bench/fast-trail'
import { createVerifier, verifyLines, verifyStream } from '../src/integrity/verify'
import { keys, makeTrail, manyEvents } from './trail'

const privateKey = keys.privateKeyPem
const dir = mkdtempSync(join(tmpdir(), 'ba-verify-stream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Deterministic shuffle (the tests must not depend on luck). */
function shuffle<T>(items: T[], seed: number): T[] {
  const a = [...items]
  let x = seed
  for (let i = a.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648
    const j = x % (i + 1)
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

describe('a stream of a few hundred thousand records', () => {
  const N = 250_000
  const file = join(dir, 'large.ndjson')

  it('verifies intact from a file, with no failure that depends on its size', async () => {
    // Written in pieces of 4,096 lines: one 180 MB string (join) took as long as the verification.
    const fd = openSync(file, 'w')
    let piece: string[] = []
    for (const line of fastTrail({ records: N, publicKey: keys.publicKeyPem })) {
      piece.push(line)
      if (piece.length === 4096) {
        writeSync(fd, `${piece.join('\n')}\n`)
        piece = []
      }
    }
    writeSync(fd, piece.length ? `${piece.join('\n')}\n` : '')
    closeSync(fd)
    const r = await verifyStream(createReadStream(file), { privateKey })
    expect(r.summary).toBe(`intact: 1 stream(s), ${N + 2} records, every MAC checked`)
    expect(r.exitCode).toBe(0)
    expect(r.streams[0]!.intact).toEqual([[0, N + 1]])
  }, 180_000)

  it('format 1 (a key per record) still verifies at this size', () => {
    const lines = [...fastTrail({ records: 60_000, publicKey: keys.publicKeyPem, version: 1 })]
    lines.splice(40_000, 1)
    const r = verifyLines(lines, { privateKey })
    expect(r.findings.map((f) => [f.kind, f.seq ?? f.from])).toEqual([['deleted', 40_000]])
  }, 60_000)

  it('a deleted and an altered record in it are named', () => {
    const lines = [...fastTrail({ records: 60_000, publicKey: keys.publicKeyPem })]
    lines.splice(40_000, 1)
    lines[50_000] = lines[50_000]!.replace('clinician-', 'clinicien-')
    const r = verifyLines(lines, { privateKey })
    // Format 2, epochs of 87 records from seq 1: the records of each batch before the break are
    // reached by no authentic MAC any more.
    expect(r.findings.map((f) => [f.kind, f.seq ?? f.from, f.to])).toEqual([
      ['unproven', 39_934, 39_999],
      ['unproven', 49_939, 50_000],
      ['modified', 50_001, undefined],
      ['deleted', 40_000, 40_000],
    ])
  }, 60_000)
})

describe('input out of order', () => {
  const trail = makeTrail(manyEvents(3000), { start: Date.parse('2026-11-01T08:00:00Z'), step: 50 })
  const other = makeTrail(manyEvents(500), {
    start: Date.parse('2026-11-01T08:00:00Z'),
    step: 300,
    instance: 'pod-2',
  })

  it('shuffled: the same streams and records, spilled through a temporary directory that is removed', () => {
    const spill = mkdtempSync(join(dir, 'spill-'))
    const lines = shuffle([...trail.lines, ...other.lines], 7)
    const v = createVerifier({ privateKey, ignoreOrder: true, tempDir: spill, spillBudgetBytes: 256 * 1024 })
    let spilled = false
    for (const l of lines) {
      v.push(l)
      spilled ||= readdirSync(spill).length > 0
    }
    expect(spilled).toBe(true)
    const r = v.end()
    expect(r.findings).toEqual([])
    expect(r.exitCode).toBe(0)
    expect(r.streams.map((s) => s.records).sort((a, b) => a - b)).toEqual([
      other.lines.length,
      trail.lines.length,
    ])
    expect(readdirSync(spill)).toEqual([])
  })

  it('shuffled, and without --ignore-order: reordered, nothing else', () => {
    const r = verifyLines(shuffle(trail.lines, 3), { privateKey })
    expect(r.findings.map((f) => f.kind)).toEqual(['reordered'])
  })

  it('copies delivered long after the original (at-least-once) are duplicates, not findings', () => {
    const lines = [...trail.lines, ...trail.lines.slice(100, 2500)]
    const r = verifyLines(lines, { privateKey })
    expect(r.findings).toEqual([])
    expect(r.streams[0]!.duplicates).toBe(2400)
  })

  it('a record that arrives far too late fills its place, and is named as reordered', () => {
    const lines = [...trail.lines]
    const [moved] = lines.splice(200, 1)
    lines.push(moved!)
    const r = verifyLines(lines, { privateKey })
    expect(r.findings.map((f) => f.kind)).toEqual(['reordered'])
    expect(r.findings[0]!.message).toMatch(/seq 200\b/)
    expect(r.streams[0]!.intact).toEqual([[0, trail.lines.length - 1]])
  })

  it("property: any shuffle, with or without spilling, gives the sorted input's findings", () => {
    const base = [...other.lines]
    base.splice(40, 3)
    base[100] = base[100]!.replace('clinician-', 'clinicien-')
    const expected = verifyLines(base, { privateKey, ignoreOrder: true }).findings.map((f) => [
      f.kind,
      f.seq,
      f.from,
    ])
    fc.assert(
      fc.property(fc.nat(), fc.boolean(), (seed, dup) => {
        const lines = shuffle(dup ? [...base, ...base.slice(0, 50)] : base, seed)
        const r = verifyLines(lines, { privateKey, ignoreOrder: true })
        expect(r.findings.map((f) => [f.kind, f.seq, f.from])).toEqual(expected)
      }),
      { numRuns: 30 },
    )
  })
})
