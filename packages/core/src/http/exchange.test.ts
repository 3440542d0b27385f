import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createAuditLogger } from '../logger'
import { currentHttpExchange, httpExchangeOf, respondUnavailable, startHttpExchange } from './exchange'
import { compileHttpAuditOptions } from './options'

function capture() {
  const lines: string[] = []
  const audit = createAuditLogger({
    service: { name: 'exchange-test' },
    integrity: { enabled: false },
    destination: { write: (l: string) => lines.push(l) },
  })
  return { audit, events: () => lines.map((l) => JSON.parse(l)) }
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    close: () => {
      server.closeAllConnections()
      return new Promise((r) => server.close(r))
    },
  }
}

async function waitFor<T>(fn: () => T | false | undefined): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = fn()
    if (v) return v
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('timed out')
}

describe('startHttpExchange on a plain Node server (what a framework adapter does)', () => {
  it('writes one event with what the adapter set: route, handler, error, action; context inside run()', async () => {
    const { audit, events } = capture()
    const config = compileHttpAuditOptions({ actions: { 'GET /patients/:id': 'patient-record-read' } })
    const srv = await serve((req, res) => {
      const ex = startHttpExchange(audit, config, req, res)
      expect(httpExchangeOf(req)).toBe(ex)
      ex.run(() => {
        ex.setRoute('/patients/:id')
        ex.setHandler({ controller: 'PatientsController', name: 'findOne' })
        audit.event({ action: 'inside', category: 'api', type: 'info' })
        setTimeout(() => {
          ;(req as any).user = { sub: 'dr-who', groups: ['physicians'] }
          ex.setError(new RangeError('first'))
          ex.setError(new Error('second is ignored'))
          res.statusCode = 409
          res.end('conflict')
        }, 2)
      })
    })
    try {
      const res = await fetch(`${srv.url}/patients/7?x=1`, { headers: { 'x-request-id': 'abc-123' } })
      expect(res.headers.get('x-request-id')).toBe('abc-123')
      await res.text()
      const [inner, e] = await waitFor(() => events().length === 2 && events())
      expect(inner.http.request.id).toBe('abc-123')
      expect(e.event.action).toBe('patient-record-read')
      expect(e.event.outcome).toBe('failure')
      expect(e.http.route).toBe('/patients/:id')
      expect(e.http.response).toEqual({ status_code: 409, bytes: 8 })
      expect(e.error.type).toBe('RangeError')
      expect(e.audit.handler).toEqual({ controller: 'PatientsController', name: 'findOne' })
      expect(e.user).toEqual({ id: 'dr-who', roles: ['physicians'] })
      expect(e.url).toEqual({ path: '/patients/7', query: 'x=' })
      expect(e.source.ip).toBe('127.0.0.1')
    } finally {
      await srv.close()
    }
  })

  it('currentHttpExchange finds the exchange from inside run(), also in a nested runWithContext and later ticks', async () => {
    const { audit } = capture()
    const config = compileHttpAuditOptions({})
    const seen: unknown[] = []
    const srv = await serve((req, res) => {
      seen.push(currentHttpExchange())
      const ex = startHttpExchange(audit, config, req, res)
      ex.run(() => {
        seen.push(currentHttpExchange() === ex)
        audit.runWithContext({ actor: { id: 'job' } }, () => {
          setTimeout(() => {
            seen.push(currentHttpExchange() === ex)
            res.end('ok')
          }, 1)
        })
      })
    })
    try {
      await (await fetch(`${srv.url}/x`)).text()
      expect(seen).toEqual([undefined, true, true])
      expect(audit.runWithContext({}, () => currentHttpExchange())).toBeUndefined()
    } finally {
      await srv.close()
    }
  })

  it('fires exactly once on client abort, with outcome unknown and no status', async () => {
    const { audit, events } = capture()
    const config = compileHttpAuditOptions({})
    let closed!: () => void
    const gone = new Promise<void>((r) => {
      closed = r
    })
    const srv = await serve((req, res) => {
      startHttpExchange(audit, config, req, res).run(() => {
        res.on('close', () => closed())
        res.write('partial')
      })
    })
    try {
      const ac = new AbortController()
      const res = await fetch(srv.url, { signal: ac.signal })
      const reader = res.body!.getReader()
      await reader.read()
      ac.abort()
      await gone
      const [e] = await waitFor(() => events().length === 1 && events())
      await new Promise((r) => setTimeout(r, 50))
      expect(events()).toHaveLength(1)
      expect(e.event.outcome).toBe('unknown')
      expect(e.event.reason).toMatch(/^aborted/)
      // headers were already sent, so the status is known; the body bytes are what was written
      expect(e.http.response).toEqual({ status_code: 200, bytes: 7 })
    } finally {
      await srv.close()
    }
  })

  it('respondUnavailable answers 503 and the event says why', async () => {
    const { audit, events } = capture()
    const config = compileHttpAuditOptions({ failClosed: true })
    const srv = await serve((req, res) => {
      const ex = startHttpExchange(audit, config, req, res)
      ex.markRefused()
      respondUnavailable(res)
    })
    try {
      const res = await fetch(srv.url)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('5')
      const [e] = await waitFor(() => events().length === 1 && events())
      expect(e.event.reason).toMatch(/failClosed/)
      expect(e.http.response.status_code).toBe(503)
    } finally {
      await srv.close()
    }
  })

  it('never throws into the host when the logger throws', async () => {
    const { audit } = capture()
    const broken = {
      ...audit,
      httpRequest() {
        throw new Error('logger bug')
      },
    }
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    process.on('uncaughtException', onError)
    const srv = await serve((req, res) => {
      startHttpExchange(broken, compileHttpAuditOptions({}), req, res).run(() => res.end('ok'))
    })
    try {
      expect(await (await fetch(srv.url)).text()).toBe('ok')
      await new Promise((r) => setTimeout(r, 50))
      expect(errors).toEqual([])
    } finally {
      process.off('uncaughtException', onError)
      await srv.close()
    }
  })
})
