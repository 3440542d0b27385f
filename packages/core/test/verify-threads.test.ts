/**
 * The verifier on worker threads (src/verify/parallel/): whatever the input, its report is the
 * one-thread verifier's, byte for byte; a worker thread that dies makes verification fail (never a
 * result built on what was not read).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyWorkerFile } from '../src/verify/parallel/pool'
import { eventPieces, readSegment } from '../src/verify/parallel/read-segment'
import { createThreadedVerifier } from '../src/verify/parallel/threaded'
import { createEvidenceReport, evidenceReport } from '../src/verify/report/evidence'
import { createVerifier, verifyStream } from '../src/verify/verifier'
import { keys, makeTrail, manyEvents } from './trail'

const privateKey = keys.privateKeyPem
const T0 = Date.parse('2026-11-01T08:00:00Z')
const dir = mkdtempSync(join(tmpdir(), 'ba-verify-threads-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// The built worker script (npx turbo run build): without it the threaded path is not tested at all.
const workerFile = verifyWorkerFile()

const first = makeTrail(manyEvents(300), { start: T0, instance: 'pod-1' })
const second = makeTrail(manyEvents(400), { start: T0 + 60_000, instance: 'pod-2', step: 70 })
// Not ASCII: the MAC inputs travel as UTF-8 and are decoded as such.
const third = makeTrail(
  Array.from({ length: 120 }, (_, i) => ({
    actor: `Zoë Ångström ${i % 3} 🩺`,
    patient: `ps_${'0'.repeat(23)}${i % 9}`,
  })),
  { start: T0 + 90_000, instance: 'pod-3', step: 30 },
)

/** Both streams interleaved by time, one record altered and one deleted in the second. */
function tamperedExport(): string[] {
  const b = [...second.lines]
  b[100] = b[100]!.replace(/"ps_0+(\w)/, '"ps_1$1')
  b.splice(200, 1)
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < first.lines.length || j < b.length) {
    if (j >= b.length || (i < first.lines.length && i * 1.3 < j)) out.push(first.lines[i++]!)
    else out.push(b[j++]!)
  }
  out.splice(500, 0, ...third.lines)
  return out
}

async function* source(text: string): AsyncGenerator<Buffer> {
  yield Buffer.from(text)
}

function oneThread(text: string) {
  const v = createVerifier({ privateKey })
  v.write(text)
  return v.end()
}

/** The threaded verifier from the first byte, the input cut into small segments, fed in uneven chunks. */
async function threaded(text: string, segmentBytes = 4096) {
  const v = createThreadedVerifier(
    { privateKey, threads: 2, threadsAfterBytes: 0, workerFile },
    {},
    { segmentBytes },
  )
  const bytes = Buffer.from(text)
  for (let at = 0, n = 1; at < bytes.length; n = (n * 7 + 3) % 9000) {
    await v.write(bytes.subarray(at, at + n + 1))
    at += n + 1
  }
  return { report: await v.end(), segments: v.segments }
}

const JUNK = [
  '{',
  '[',
  '{"cut": "a killed process',
  '}}}',
  '\u0000\u0001\u00ff binary',
  '',
  'plain text banner',
  '2026-11-01T08:00:00.000000000Z stdout P {"partial": ',
  '{"log":"{\\"@timestamp\\":\\"2026","stream":"stdout"}',
]

describe('worker threads read what the main thread would read', () => {
  it('has a built worker script to test', () => {
    expect(workerFile).toBeDefined()
  })

  it('a tampered export of two interleaved streams: the same report, read on the threads', async () => {
    const text = `${tamperedExport().join('\n')}\n`
    const want = oneThread(text)
    expect(want.findings.map((f) => f.kind).sort()).toEqual(['deleted', 'modified'])
    const got = await threaded(text)
    expect(got.segments.adopted).toBeGreaterThan(20)
    expect(got.segments.readHere).toBe(0)
    expect(JSON.stringify(got.report)).toBe(JSON.stringify(want))
  }, 60_000)

  it('segments whose entries come back in several pieces (EVENTS_PIECE): the same report', async () => {
    const text = `${tamperedExport().join('\n')}\n`
    const want = oneThread(text)
    // Whole segments of 256 KiB: each one's entries are parsed on the main thread in pieces.
    const head = Buffer.from(text).subarray(0, 256 * 1024)
    const r = readSegment({ id: 0, bytes: new Uint8Array(head.subarray(0, head.lastIndexOf(10) + 1)) })
    expect(r.idle).toBe(true)
    const pieces = [...eventPieces(r)]
    expect(pieces.length).toBeGreaterThan(2)
    expect(pieces.flat().length).toBe(r.records)
    const got = await threaded(text, 256 * 1024)
    expect(got.segments.adopted).toBeGreaterThan(1)
    expect(JSON.stringify(got.report)).toBe(JSON.stringify(want))
  }, 60_000)

  it('junk, partial CRI lines, Docker partials and a multi-line search response across segment boundaries', async () => {
    const lines = tamperedExport()
    const out: string[] = []
    const pretty = JSON.stringify(
      { hits: { hits: first.lines.slice(5, 40).map((l) => ({ _source: JSON.parse(l) })) } },
      null,
      2,
    )
    lines.forEach((l, i) => {
      if (i % 97 === 13) out.push(JUNK[i % JUNK.length]!)
      if (i === 300) out.push(pretty)
      if (i % 50 === 7) {
        // The record as a CRI log line cut into two partial lines.
        out.push(`2026-11-01T08:00:00.000000000Z stdout P ${l.slice(0, 100)}`)
        out.push(`2026-11-01T08:00:00.000000000Z stdout F ${l.slice(100)}`)
      } else if (i % 50 === 9) {
        // Docker json-file's 16 KiB split, made small.
        out.push(JSON.stringify({ log: l.slice(0, 80), stream: 'stdout' }))
        out.push(JSON.stringify({ log: `${l.slice(80)}\n`, stream: 'stdout' }))
      } else out.push(l)
    })
    const text = `${out.join('\n')}\n{"cut at the end`
    const want = oneThread(text)
    expect(want.exitCode).toBe(1)
    expect(want.input.unreadable).toBeGreaterThan(3)
    const got = await threaded(text)
    // Some segments end inside a document or a partial line: those the main thread reads again.
    expect(got.segments.adopted).toBeGreaterThan(10)
    expect(got.segments.readHere).toBeGreaterThan(0)
    expect(JSON.stringify(got.report)).toBe(JSON.stringify(want))
  }, 60_000)

  it('property: junk anywhere, any segment size: the threaded report is the one-thread report', async () => {
    const base = tamperedExport()
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length), fc.constantFrom(...JUNK)), { maxLength: 6 }),
        fc.integer({ min: 512, max: 64 * 1024 }),
        async (junk, segmentBytes) => {
          const lines = [...base]
          for (const [at, j] of [...junk].sort((a, b) => b[0] - a[0])) lines.splice(at, 0, j)
          const text = `${lines.join('\n')}\n`
          const got = await threaded(text, segmentBytes)
          expect(JSON.stringify(got.report)).toBe(JSON.stringify(oneThread(text)))
          expect(got.report.exitCode).toBe(1)
        },
      ),
      { numRuns: 12 },
    )
  }, 120_000)

  it('shuffled input: the same report (records go through the late store)', async () => {
    const lines = tamperedExport()
    let x = 7
    for (let i = lines.length - 1; i > 0; i--) {
      x = (x * 1103515245 + 12345) % 2147483648
      const j = x % (i + 1)
      ;[lines[i], lines[j]] = [lines[j]!, lines[i]!]
    }
    const text = `${lines.join('\n')}\n`
    const got = await threaded(text)
    expect(got.segments.adopted).toBeGreaterThan(20)
    expect(JSON.stringify(got.report)).toBe(JSON.stringify(oneThread(text)))
  }, 60_000)

  it('the evidence report: the same counts and findings', async () => {
    const text = `${tamperedExport().join('\n')}\n`
    const options = { privateKey, actors: ['clinician-3'], threads: 2, threadsAfterBytes: 0, workerFile }
    const single = createEvidenceReport(options)
    single.write(text)
    const want = single.end()
    expect(want.complete).toBe(false)
    expect(want.records).toBeGreaterThan(50)
    const got = await evidenceReport(source(text), options)
    expect(JSON.stringify(got)).toBe(JSON.stringify(want))
  }, 60_000)
})

describe('a worker thread that dies', () => {
  const text = `${tamperedExport().join('\n')}\n`

  /** A worker script that works for `n` segments, then exits (as a thread killed by the OOM killer would). */
  function dyingWorker(n: number): string {
    const file = join(dir, `dies-after-${n}.cjs`)
    writeFileSync(
      file,
      `const { parentPort } = require('node:worker_threads')
let seen = 0
parentPort.on('message', (m) => { if (!('stream' in m) && ++seen > ${n}) process.exit(7) })
require(${JSON.stringify(workerFile)})
`,
    )
    return file
  }

  it('at once: verification fails, no report', async () => {
    await expect(
      verifyStream(source(text), {
        privateKey,
        threads: 2,
        threadsAfterBytes: 0,
        workerFile: dyingWorker(0),
      }),
    ).rejects.toThrow(/verifier thread exited \(code 7\)/)
  })

  it('half way through: verification fails, no report', async () => {
    const v = createThreadedVerifier(
      { privateKey, threads: 2, threadsAfterBytes: 0, workerFile: dyingWorker(5) },
      {},
      { segmentBytes: 4096 },
    )
    const run = async () => {
      for (let at = 0; at < text.length; at += 3000) await v.write(text.slice(at, at + 3000))
      return v.end()
    }
    await expect(run()).rejects.toThrow(/verifier thread exited \(code 7\)/)
    await v.abort()
  })

  it('the report fails the same way', async () => {
    await expect(
      evidenceReport(source(text), {
        privateKey,
        threads: 1,
        threadsAfterBytes: 0,
        workerFile: dyingWorker(0),
      }),
    ).rejects.toThrow(/verifier thread exited/)
  })
})
