import { Console } from 'node:console'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { createAuditLogger } from '../index'
import { AppDestination } from './app-destination'

function sink() {
  const lines: string[] = []
  return { lines, dest: new AppDestination({ line: (l) => lines.push(l), flush: async () => {} }) }
}

describe('AppDestination', () => {
  it('passes on whole lines only, whatever the pieces (text, bytes, a character split across writes)', () => {
    const { lines, dest } = sink()
    dest.write('a1\na2')
    expect(lines).toEqual(['a1'])
    dest.write('-more\n\nb')
    expect(lines).toEqual(['a1', 'a2-more', ''])
    const bytes = Buffer.from('é€\n', 'utf8')
    dest.write(bytes.subarray(0, 1))
    dest.write(bytes.subarray(1, 3))
    dest.write(new Uint8Array(bytes.subarray(3)))
    expect(lines.at(-1)).toBe('bé€')
    dest.write('last')
    dest.end()
    expect(lines.at(-1)).toBe('last')
    expect(dest.write('refused\n')).toBe(false)
    expect(dest.writable).toBe(false)
  })

  it('a line that never ends is passed on at 1 MiB rather than held without bound', () => {
    const { lines, dest } = sink()
    for (let i = 0; i < 17; i++) dest.write('x'.repeat(64 * 1024))
    expect(lines).toHaveLength(1)
    expect(lines[0]!.length).toBe(1024 * 1024)
  })
})

describe('audit.destination() with pino', () => {
  it('app lines and audit records come out of one writer, in the order they were logged, also after close', async () => {
    const out: string[] = []
    const audit = createAuditLogger({
      service: { name: 'svc' },
      destination: { write: (line: string) => out.push(line) },
      integrity: { checkpointIntervalSeconds: 0 },
    })
    expect(audit.destination()).toBe(audit.destination())
    const app = pino({ base: null }, audit.destination())
    for (let i = 0; i < 3; i++) {
      audit.event({ action: 'tick', category: 'process', type: 'info', details: { i } })
      app.info({ i }, 'app line')
    }
    await new Promise<void>((resolve) => app.flush(() => resolve()))
    await audit.close()
    app.info('after close')
    const kinds = out.map((l) => {
      const o = JSON.parse(l)
      return o.msg
        ? `${o.msg}${o.i ?? ''}`
        : o.event.action === 'tick'
          ? `tick${o.audit.details.i}`
          : o.event.action
    })
    expect(kinds).toEqual([
      'audit-stream-start',
      'tick0',
      'app line0',
      'tick1',
      'app line1',
      'tick2',
      'app line2',
      'audit-stream-end',
      'after close',
    ])
    expect(out.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1)).toBe(true)
    expect(audit.stats()).toMatchObject({ accepted: 3, written: 3, appLinesDropped: 0 })
  })

  it.each(['worker', 'inline'] as const)(
    'lines logged while the logger closes (%s sealing) are written right after the closing record',
    async (thread) => {
      const dir = mkdtempSync(join(tmpdir(), 'ba-app-dest-'))
      const file = join(dir, 'out.ndjson')
      const audit = createAuditLogger({
        service: { name: 'svc' },
        destination: file,
        integrity: { checkpointIntervalSeconds: 0, thread },
      })
      expect(audit.stats().sealing).toBe(thread)
      const app = pino({ base: null }, audit.destination())
      audit.event({ action: 'tick', category: 'process', type: 'info' })
      app.info('before close')
      const closing = audit.close()
      // A turn later: the writer has been told to end (the sealing thread takes nothing new).
      await new Promise((resolve) => setImmediate(resolve))
      app.info('while closing')
      await closing
      app.info('after close')
      const kinds = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const o = JSON.parse(l)
          return o.msg ?? o.event.action
        })
      expect(kinds).toEqual([
        'audit-stream-start',
        'tick',
        'before close',
        'audit-stream-end',
        'while closing',
        'after close',
      ])
      expect(audit.stats().appLinesDropped).toBe(0)
      rmSync(dir, { recursive: true, force: true })
    },
  )

  it('a Console of your own writes through it too (console.log to the shared stdout, one writer)', async () => {
    const out: string[] = []
    const audit = createAuditLogger({
      service: { name: 'svc' },
      destination: { write: (line: string) => out.push(line) },
      integrity: { enabled: false },
    })
    const appConsole = new Console({
      // Console's types ask for a full WritableStream; it calls write() only.
      stdout: audit.destination() as unknown as NodeJS.WritableStream,
      stderr: process.stderr,
    })
    appConsole.log('two\nlines')
    audit.event({ action: 'tick', category: 'process', type: 'info' })
    await audit.close()
    expect(out[0]).toBe('two\n')
    expect(out[1]).toBe('lines\n')
    expect(JSON.parse(out[2]!).event.action).toBe('tick')
  })

  it('app lines beyond the buffer bound are dropped and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ba-app-dest-'))
    const audit = createAuditLogger({
      service: { name: 'svc' },
      destination: join(dir, 'out.ndjson'),
      maxBufferBytes: 1024 * 1024,
      integrity: { checkpointIntervalSeconds: 0, thread: 'inline' },
    })
    const app = pino({ base: null }, audit.destination())
    // One synchronous burst: nothing is written until the event loop turns.
    for (let i = 0; i < 20; i++) app.info('x'.repeat(100 * 1024))
    expect(audit.stats().appLinesDropped).toBeGreaterThan(0)
    expect(audit.stats().appLinesDropped).toBeLessThan(20)
    await audit.close()
    const written = readFileSync(join(dir, 'out.ndjson'), 'utf8').trim().split('\n')
    // genesis, the lines that fitted, closing
    expect(written).toHaveLength(2 + 20 - audit.stats().appLinesDropped)
    rmSync(dir, { recursive: true, force: true })
  })
})
