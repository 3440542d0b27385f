/**
 * Apps whose own logger shares stdout with the audit lines (issue 14): with
 * `pino(options, audit.destination())` there is one writer on the pipe, so a slow reader never sees
 * a torn line, audit or app. A real child process writes 20,000 audit events and 20,000 pino lines
 * (some longer than PIPE_BUF) to a real pipe (a FIFO, as containerd gives, and a socket pair, as
 * spawn and Docker give) whose reader keeps pausing. Every line must parse, every app line must be
 * there once and in its place after the audit event logged before it, and `verify` must find the
 * trail intact and closed.
 */
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyText } from '../src/index'
import { builtFixture } from './built'

const fixture = builtFixture('shared-stdout-app.mjs')
const EVENTS = 20_000
const dir = mkdtempSync(join(tmpdir(), 'ba-shared-stdout-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the app with stdout on a FIFO or a socket pair; the reader pauses 20-60 ms every 256 KiB. */
function run(via: 'fifo' | 'socket', env: Record<string, string>): Promise<{ out: string; err: string }> {
  return new Promise((resolve, reject) => {
    let stdout: 'pipe' | number = 'pipe'
    let fifoReader: Socket | undefined
    if (via === 'fifo') {
      const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`)
      execFileSync('mkfifo', [path])
      const rfd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
      stdout = openSync(path, constants.O_WRONLY)
      fifoReader = new Socket({ fd: rfd, readable: true, writable: false })
    }
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, EVENTS: String(EVENTS), ...env },
      stdio: ['ignore', stdout, 'pipe'],
    })
    if (typeof stdout === 'number') closeSync(stdout)
    const reader = fifoReader ?? child.stdout!
    const chunks: Buffer[] = []
    let sincePause = 0
    reader.on('data', (d: Buffer) => {
      chunks.push(d)
      sincePause += d.length
      if (sincePause >= 256 * 1024) {
        sincePause = 0
        reader.pause()
        setTimeout(() => reader.resume(), 20 + Math.random() * 40)
      }
    })
    let err = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    let exited = false
    let ended = false
    const finish = () => {
      if (exited && ended) resolve({ out: Buffer.concat(chunks).toString('utf8'), err })
    }
    child.on('error', reject)
    child.on('exit', () => {
      exited = true
      finish()
    })
    reader.on('close', () => {
      ended = true
      finish()
    })
  })
}

describe.each([
  ['fifo', 'worker'],
  ['socket', 'worker'],
  ['fifo', 'inline'],
] as const)('pino through audit.destination(), stdout on a %s, %s sealing', (via, sealing) => {
  it('no torn line under a pausing reader; app lines in order, after the event logged before each; trail intact', async () => {
    // A deadline long enough for a loaded machine: a deadline passed drops lines (counted), and this
    // test is about torn lines and order, not about the deadline (exit.test.ts is).
    const { out, err } = await run(via, {
      APP_LOG: 'shared',
      SEALING: sealing,
      BOUNDARY_AUDIT_SHUTDOWN_TIMEOUT_MS: '60000',
    })
    expect(err).toContain(`"sealing":"${sealing}"`)
    expect(out.endsWith('\n')).toBe(true)
    const lines = out.slice(0, -1).split('\n')
    const torn: string[] = []
    const tickAt = new Map<number, number>()
    const appAt = new Map<number, number>()
    lines.forEach((line, index) => {
      let o: any
      try {
        o = JSON.parse(line)
      } catch {
        torn.push(line.slice(0, 120))
        return
      }
      if (o.msg === 'app line') {
        expect(appAt.has(o.n)).toBe(false)
        appAt.set(o.n, index)
      } else if (o.event?.action === 'tick') tickAt.set(o.audit.details.i, index)
    })
    expect(torn).toEqual([])
    expect(tickAt.size).toBe(EVENTS)
    expect(appAt.size).toBe(EVENTS)
    for (let i = 0; i < EVENTS; i++) {
      expect(appAt.get(i)! > tickAt.get(i)!).toBe(true)
      if (i > 0) expect(appAt.get(i)! > appAt.get(i - 1)!).toBe(true)
    }
    // The app's line after close() is written too, after the closing record.
    const last = JSON.parse(lines.at(-1)!)
    expect(last.msg).toBe('after close')
    expect(JSON.parse(lines.at(-2)!).event.action).toBe('audit-stream-end')
    const report = verifyText(out)
    expect(report.findings).toEqual([])
    expect(report.streams[0]!.closed).toBe(true)
    expect(report.exitCode).toBe(0)
    const stats = JSON.parse(err.trim().split('\n').at(-1)!).stats
    expect(stats).toMatchObject({ accepted: EVENTS, written: EVENTS, dropped: 0, appLinesDropped: 0 })
  }, 120_000)
})
