import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { auditClientErrors, auditMiddleware } from '../src/index'
import { capture, expectNoPhi, listen, PHI, versions, waitFor } from './helpers'

/** Sends raw bytes and returns the status line the server answered with. */
function raw(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (d) => {
      answer += d
    })
    socket.on('error', () => resolve(answer.split('\r\n')[0] ?? ''))
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''))
    socket.on('connect', () => socket.write(bytes))
    setTimeout(() => reject(new Error('no answer')), 5000).unref()
  })
}

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

describe.each(versions)('requests rejected by Node before routing (%s)', (_, express) => {
  it('431 for oversized headers: one failure event, Node’s own answer, nothing of the request logged', async () => {
    const { audit, lines, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.get('/', (_req, res) => {
      res.send('ok')
    })
    const s = await listen(app)
    closers.push(s.close)
    auditClientErrors(s.server, audit)
    const big = `x-note: ${PHI.ssn} ${PHI.email} ${'a'.repeat(20_000)}`
    const status = await raw(s.url, `GET /patients/${PHI.ssn} HTTP/1.1\r\nHost: x\r\n${big}\r\n\r\n`)
    expect(status).toBe('HTTP/1.1 431 Request Header Fields Too Large')
    const [event] = await waitFor(() => http().length === 1 && http())
    expect(event.event).toMatchObject({ action: 'http-request', outcome: 'failure' })
    expect(event.http.response.status_code).toBe(431)
    expect(event.event.reason).toContain('HPE_HEADER_OVERFLOW')
    expect(event.source.ip).toBe('127.0.0.1')
    expectNoPhi(lines)
  })

  it('400 for a malformed request line; a normal request is still audited once by the middleware', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.get('/ok', (_req, res) => {
      res.send('ok')
    })
    const s = await listen(app)
    closers.push(s.close)
    const remove = auditClientErrors(s.server, audit)
    expect(await raw(s.url, 'NOT A REQUEST\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request')
    await fetch(`${s.url}/ok`)
    const events = await waitFor(() => http().length === 2 && http())
    expect(events.map((e: any) => e.http.response.status_code).sort()).toEqual([200, 400])
    // Removed: Node's default handling is back and nothing more is recorded.
    remove()
    expect(await raw(s.url, 'NOT A REQUEST\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request')
    await new Promise((r) => setTimeout(r, 50))
    expect(http()).toHaveLength(2)
  })
})

it('says what to pass when called wrongly', () => {
  const { audit } = capture()
  expect(() => auditClientErrors(undefined as never, audit)).toThrow(/needs the http.Server/)
  expect(() => auditClientErrors({ on() {} } as never, undefined as never)).toThrow(/needs a logger/)
})
