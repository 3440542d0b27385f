/** The logger with its chain on the sealing thread (the default for stdout, fds and files). */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLogger, generateVerifierKeyPair, verifyText } from '../src/index'

const dir = mkdtempSync(join(tmpdir(), 'ba-sealing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const pair = generateVerifierKeyPair()

/** A logger with a keyed chain writing to `file`, sealing on its thread (the default for files). */
function keyedLogger(file: string) {
  const audit = createAuditLogger({
    service: { name: 'svc', instance: 'pod-1' },
    destination: file,
    integrity: { verifierKey: pair.publicKeyPem, checkpointIntervalSeconds: 0 },
  })
  expect(audit.stats().sealing).toBe('worker')
  return audit
}

describe('sealing thread (integrity.thread)', () => {
  it('worker by default for a file: keyed chain verifies, authenticated, closed, nothing planted leaks', async () => {
    const file = join(dir, 'keyed.ndjson')
    const audit = keyedLogger(file)
    for (let i = 0; i < 1000; i++) {
      audit.access({
        action: 'patient-record-read',
        outcome: 'success',
        actor: { id: `u${i % 7}` },
        resource: { type: 'patient', id: 'MRN 4455667' },
        details: { i, note: 'SSN 123-45-6789' },
      })
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await audit.close()
    const text = readFileSync(file, 'utf8')
    expect(text).not.toContain('123-45-6789')
    expect(text).not.toContain('4455667')
    const lines = text.split('\n').filter(Boolean)
    expect(lines).toHaveLength(1002) // genesis, 1000 events, closing
    const report = verifyText(text, { privateKey: pair.privateKeyPem })
    expect(report.exitCode).toBe(0)
    const stream = report.streams[0]!
    expect(stream.stream).toBe(audit.streamId)
    expect(stream.authenticated).toBe(true)
    expect(stream.closed).toBe(true)
    expect(stream.intact).toEqual([[0, 1001]])
    // Events, not lines: the genesis and closing records are the chain's own.
    expect(audit.stats()).toMatchObject({ accepted: 1000, written: 1000, dropped: 0, errors: 0 })
  })

  it('multi-byte text comes out as written (UTF-8 lines larger than the batch buffer first guessed)', async () => {
    const file = join(dir, 'utf8.ndjson')
    const audit = keyedLogger(file)
    // Three UTF-8 bytes per character, and a four-byte one: one turn's batch needs more bytes than
    // twice its characters, so the sealing thread's buffer has to grow mid-batch.
    const note = `Grüße 🩺 ${'日本語'.repeat(600)}` // under the 2048-character cap per string
    for (let i = 0; i < 40; i++) {
      audit.access({
        action: 'chart-note-read',
        outcome: 'success',
        actor: { id: 'u1' },
        resource: { type: 'chart-note', id: 'note-1' },
        details: { i, note, again: note },
      })
    }
    await audit.close()
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n').filter(Boolean)
    expect(lines).toHaveLength(42)
    const notes = lines.slice(1, 41).map((l) => JSON.parse(l).audit.details)
    expect(notes.map((d) => d.i)).toEqual(Array.from({ length: 40 }, (_, i) => i))
    for (const d of notes) expect([d.note, d.again]).toEqual([note, note])
    const report = verifyText(text, { privateKey: pair.privateKeyPem })
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 41]])
  })

  it('Latin-1 text (one byte a character in a JS string, two in UTF-8) comes out as UTF-8, beside ASCII-only batches', async () => {
    // The thread writes a batch known to be ASCII as latin1, without measuring it: 'é' must still
    // leave as the two bytes C3 A9, not the one byte E9 a latin1 write of it would give.
    const file = join(dir, 'latin1.ndjson')
    const audit = keyedLogger(file)
    const event = (i: number, note: string) =>
      audit.access({
        action: 'chart-note-read',
        outcome: 'success',
        actor: { id: 'u1' },
        resource: { type: 'chart-note', id: 'note-1' },
        details: { i, note },
      })
    for (let i = 0; i < 300; i++) event(i, 'plain ascii note')
    await audit.flush()
    for (let i = 300; i < 600; i++) event(i, i % 2 === 0 ? 'café crème, Grüße' : 'plain ascii note')
    await audit.flush()
    for (let i = 600; i < 900; i++) event(i, 'plain ascii note')
    await audit.close()
    const bytes = readFileSync(file)
    expect(bytes.includes(Buffer.from('café crème, Grüße', 'utf8'))).toBe(true)
    expect(bytes.includes(Buffer.from('café', 'latin1'))).toBe(false)
    const text = bytes.toString('utf8')
    const lines = text.split('\n').filter(Boolean)
    expect(lines).toHaveLength(902)
    const details = lines.slice(1, 901).map((l) => JSON.parse(l).audit.details)
    expect(details.map((d) => d.i)).toEqual(Array.from({ length: 900 }, (_, i) => i))
    expect(details[300].note).toBe('café crème, Grüße')
    const report = verifyText(text, { privateKey: pair.privateKeyPem })
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 901]])
  })

  it.each([
    ['sealing thread', { checkpointIntervalSeconds: 0 }],
    ['inline', { checkpointIntervalSeconds: 0, thread: 'inline' as const }],
    ['chain off', { enabled: false }],
  ])(
    '%s: a lone event reaches the file within moments, with no flush() (hand-overs are batched by time)',
    async (_name, integrity) => {
      const file = join(dir, `lone-${_name.replace(' ', '-')}.ndjson`)
      const audit = createAuditLogger({ service: { name: 'svc' }, destination: file, integrity })
      audit.login({ outcome: 'success', actor: { id: 'u1' } })
      // Well past the 50 ms batching delay; the process stays busy (this test), so no exit hook helps.
      const deadline = Date.now() + 2000
      let lines: string[] = []
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []
        if (lines.some((l) => JSON.parse(l).event.action === 'user-login')) break
      }
      expect(lines.some((l) => JSON.parse(l).event.action === 'user-login')).toBe(true)
      await audit.close()
    },
  )

  it("'inline' seals on the calling thread; the lines verify the same way", async () => {
    const file = join(dir, 'inline.ndjson')
    const audit = createAuditLogger({
      service: { name: 'svc' },
      destination: file,
      integrity: { thread: 'inline', checkpointIntervalSeconds: 0, verifierKey: pair.publicKeyPem },
    })
    expect(audit.stats().sealing).toBe('inline')
    for (let i = 0; i < 50; i++) audit.login({ outcome: 'success', actor: { id: 'u' } })
    await audit.close()
    const report = verifyText(readFileSync(file, 'utf8'), { privateKey: pair.privateKeyPem })
    expect(report.exitCode).toBe(0)
    expect(report.streams[0]!.intact).toEqual([[0, 51]])
  })

  it('inline where a worker cannot serve: an object destination, sync writes, integrity off', () => {
    const object = createAuditLogger({
      destination: { write() {} },
      integrity: { checkpointIntervalSeconds: 0 },
    })
    expect(object.stats().sealing).toBe('inline')
    const sync = createAuditLogger({
      destination: join(dir, 'sync.ndjson'),
      sync: true,
      integrity: { checkpointIntervalSeconds: 0 },
    })
    expect(sync.stats().sealing).toBe('inline')
    const off = createAuditLogger({ destination: { write() {} }, integrity: { enabled: false } })
    expect(off.stats().sealing).toBe('off')
    for (const a of [object, sync, off]) void a.close()
  })

  it('a bad integrity.thread fails at creation and says what to change', () => {
    expect(() =>
      createAuditLogger({ destination: { write() {} }, integrity: { thread: 'main' as 'inline' } }),
    ).toThrow(/integrity\.thread must be 'worker' or 'inline'; got "main"/)
  })
})
