import { describe, expect, it } from 'vitest'
import { auditErrorHandler, auditMiddleware } from '../src/index'
import { capture, expectNoPhi, listen, PHI, sleep, versions, waitFor } from './helpers'

class ChartLockedError extends Error {
  status = 423
  constructor(message: string) {
    super(message)
    this.name = 'ChartLockedError'
  }
}

/** The same app with and without the middleware, to prove the response is unchanged. */
function errorApp(express: any, audit: any, withAudit: boolean, seen: unknown[], rejects: boolean) {
  const app = express()
  app.set('env', 'production') // finalhandler then sends no stack trace, so bodies compare exactly
  if (withAudit) app.use(auditMiddleware(audit))
  app.get('/throw', () => {
    throw new TypeError(`cannot read chart of ${PHI.ssn}`)
  })
  app.get('/next', (_req: any, _res: any, next: any) => {
    setTimeout(() => next(new ChartLockedError(`chart ${PHI.mrn} is locked by ${PHI.email}`)), 1)
  })
  app.get('/async', async (_req: any, _res: any, next: any) => {
    try {
      await sleep(1)
      throw new RangeError(`bad dob ${PHI.dob}`)
    } catch (err) {
      next(err)
    }
  })
  if (rejects) {
    // Express 5 forwards a rejected promise to the error path itself.
    app.get('/reject', async () => {
      await sleep(1)
      throw new URIError(`bad link for ${PHI.phone}`)
    })
  }
  const api = express.Router()
  api.get('/deep/:id', () => {
    throw new Error('deep failure')
  })
  app.use('/api', api)
  app.get('/handled', (_req: any, _res: any, next: any) => next(new ChartLockedError('locked')))
  app.use((err: any, req: any, res: any, next: any) => {
    seen.push(err)
    if (req.path === '/handled') {
      res.status(err.status).json({ error: 'locked' })
      return
    }
    next(err)
  })
  return app
}

describe.each(versions)('%s: errors', (name, express) => {
  const rejects = name === 'express 5'
  it('records error.type and a sanitised message, without swallowing the error or changing the response', async () => {
    const { audit, http, lines } = capture()
    const seenWith: unknown[] = []
    const seenWithout: unknown[] = []
    const a = await listen(errorApp(express, audit, true, seenWith, rejects))
    const b = await listen(errorApp(express, audit, false, seenWithout, rejects))
    try {
      const paths = ['/throw', '/next', '/async', '/api/deep/7', '/handled', ...(rejects ? ['/reject'] : [])]
      for (const [i, path] of paths.entries()) {
        const withAudit = await fetch(a.url + path)
        const without = await fetch(b.url + path)
        const [bodyWith, bodyWithout] = [await withAudit.text(), await without.text()]
        expect(withAudit.status, path).toBe(without.status)
        expect(bodyWith, path).toBe(bodyWithout)
        expect(withAudit.headers.get('content-type')).toBe(without.headers.get('content-type'))
        await waitFor(() => http().length === i + 1)
      }
      // the app's own error handler saw the very same errors
      expect(seenWith.map((e: any) => e.constructor.name)).toEqual(
        seenWithout.map((e: any) => e.constructor.name),
      )

      const events = http()
      const summary = events.map((e: any) => [
        e.http.response.status_code,
        e.event.outcome,
        e.error?.type,
        e.http.route,
      ])
      expect(summary).toEqual([
        [500, 'failure', 'TypeError', '/throw'],
        [423, 'failure', 'ChartLockedError', '/next'],
        [500, 'failure', 'RangeError', '/async'],
        [500, 'failure', 'Error', '/api/deep/:id'],
        [423, 'failure', 'ChartLockedError', '/handled'],
        ...(rejects ? [[500, 'failure', 'URIError', '/reject']] : []),
      ])
      expect(events[0].event.type).toEqual(['error'])
      expect(events[0].error.message).toContain('cannot read chart of')
      expect(events[3].error.message).toBe('deep failure')
      expectNoPhi(lines)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('auditErrorHandler() records errors and passes them on unchanged', async () => {
    const { audit, http } = capture()
    const app = express()
    app.set('env', 'production')
    app.use(auditMiddleware(audit))
    app.get('/x', (_req, _res, next) => next(new SyntaxError('bad input')))
    app.use(auditErrorHandler())
    const seen: unknown[] = []
    app.use((err: unknown, _req: any, res: any, _next: any) => {
      seen.push(err)
      res.status(400).send('bad')
    })
    const srv = await listen(app)
    try {
      const res = await fetch(`${srv.url}/x`)
      expect(res.status).toBe(400)
      expect(await res.text()).toBe('bad')
      const [e] = await waitFor(() => http().length === 1 && http())
      expect(e.error.type).toBe('SyntaxError')
      expect(seen).toHaveLength(1)
    } finally {
      await srv.close()
    }
  })
})

describe.each(versions)('%s: aborts, ignore rules, failClosed', (_name, express) => {
  it('a client abort gives exactly one event, outcome unknown, reason aborted', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    let started!: () => void
    const handlerStarted = new Promise<void>((r) => {
      started = r
    })
    let closed!: () => void
    const clientGone = new Promise<void>((r) => {
      closed = r
    })
    app.get('/slow', (_req, res) => {
      res.on('close', () => closed())
      started()
      // responds after the client has gone, as slow handlers do
      clientGone.then(() => setTimeout(() => res.send('too late'), 10))
    })
    const srv = await listen(app)
    try {
      const ac = new AbortController()
      const pending = fetch(`${srv.url}/slow`, { signal: ac.signal }).catch((e) => e)
      await handlerStarted
      ac.abort()
      expect(await pending).toBeInstanceOf(Error)
      const [e] = await waitFor(() => http().length === 1 && http())
      await sleep(100)
      expect(http()).toHaveLength(1)
      expect(e.event.outcome).toBe('unknown')
      expect(e.event.reason).toMatch(/aborted/)
      expect(e.http.route).toBe('/slow')
      expect(e.http.response?.status_code).toBeUndefined()
    } finally {
      await srv.close()
    }
  })

  it('ignore rules skip health checks by path, prefix, regex and predicate', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(
      auditMiddleware(audit, {
        ignore: [
          '/healthz',
          '/metrics*',
          /^\/static\//,
          (req) => req.headers['user-agent'] === 'kube-probe/1.29',
        ],
      }),
    )
    app.use((_req, res) => {
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      for (const path of ['/healthz', '/metrics/prom', '/static/app.js', '/healthz?x=1'])
        await (await fetch(srv.url + path)).text()
      await (await fetch(`${srv.url}/ready`, { headers: { 'user-agent': 'kube-probe/1.29' } })).text()
      await (await fetch(`${srv.url}/patients`)).text()
      const events = await waitFor(() => http().length === 1 && http())
      await sleep(50)
      expect(http()).toHaveLength(1)
      expect(events[0].url.path).toBe('/patients')
    } finally {
      await srv.close()
    }
  })

  it('failClosed answers 503 without running the handler while the sink is broken, and recovers', async () => {
    let broken = false
    const lines: string[] = []
    const { createAuditLogger } = await import('@boundary-audit/core')
    const audit = createAuditLogger({
      integrity: { enabled: false },
      destination: {
        write(line: string) {
          if (broken) throw new Error('disk full')
          lines.push(line)
        },
      },
    })
    let handled = 0
    const app = express()
    app.use(auditMiddleware(audit, { failClosed: true }))
    app.get('/', (_req, res) => {
      handled++
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      expect((await fetch(srv.url)).status).toBe(200)
      broken = true
      // this request's own event fails to write: the sink is now unhealthy
      expect((await fetch(srv.url)).status).toBe(200)
      await waitFor(() => !audit.stats().healthy)
      const refused = await fetch(srv.url)
      expect(refused.status).toBe(503)
      expect(await refused.text()).toBe('Service Unavailable')
      expect(handled).toBe(2)
      broken = false
      // still refused (nothing has written since), but this refusal's own event goes through ...
      expect((await fetch(srv.url)).status).toBe(503)
      await waitFor(() => audit.stats().healthy)
      // ... so the sink reads healthy again and requests run
      expect((await fetch(srv.url)).status).toBe(200)
      expect(handled).toBe(3)
      const refusedEvent = lines.map((l) => JSON.parse(l)).find((e) => e.http?.response?.status_code === 503)
      expect(refusedEvent.event.reason).toMatch(/failClosed/)
    } finally {
      await srv.close()
    }
  })

  it('after close() every setting but failClosed: false answers 503 (Retry-After); failClosed: false still serves', async () => {
    const { audit, events } = capture()
    const apps = ([{ failClosed: true }, {}, { failClosed: false }] as const).map((options) => {
      const app = express()
      app.use(auditMiddleware(audit, options))
      app.get('/', (_req, res) => {
        res.send('ok')
      })
      return app
    })
    const servers = await Promise.all(apps.map((app) => listen(app)))
    try {
      for (const s of servers) expect((await fetch(s.url)).status).toBe(200)
      expect(events()).toHaveLength(3)
      await audit.close()
      const after = await Promise.all(servers.map((s) => fetch(s.url)))
      expect(after.map((r) => r.status)).toEqual([503, 503, 200])
      expect(after[1]!.headers.get('retry-after')).toBe('5')
      // Nothing more could be recorded: the refusals write no event (no handler ran).
      expect(events()).toHaveLength(3)
    } finally {
      for (const s of servers) await s.close()
    }
  })
})

describe('option validation at creation', () => {
  it('rejects a missing logger and bad options with messages that say what to change', () => {
    const { audit } = capture()
    expect(() => auditMiddleware(undefined as never)).toThrow(/needs the logger from createAuditLogger\(\)/)
    expect(() => auditMiddleware({ failClosed: true } as never)).toThrow(/needs the logger/)
    expect(() => auditMiddleware(audit, { failClosed: 1 as never })).toThrow(
      /failClosed must be true or false/,
    )
    expect(() => auditMiddleware(audit, { headers: ['Authorization'] })).toThrow(
      /'Authorization' carries credentials/,
    )
    expect(() => auditMiddleware(audit, { ignore: 'healthz' })).toThrow(/must start with '\/'/)
    expect(() => auditMiddleware(audit, { trustedIdentityHeaders: 'yes' as never })).toThrow(
      /trustedIdentityHeaders/,
    )
    expect(() => auditMiddleware(audit, { actor: {} as never })).toThrow(/actor must be a function/)
    expect(() => auditMiddleware(audit, { ignroe: [] } as never)).toThrow(/unknown option 'ignroe'/)
  })
})
