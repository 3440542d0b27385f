import { describe, expect, it } from 'vitest'
import { auditMiddleware } from '../src/index'
import { capture, expectNoPhi, listen, PHI, versions, waitFor } from './helpers'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe.each(versions)('%s: one http-request event per request', (_name, express) => {
  it('writes method, route template, redacted path, status, duration, bytes, user agent, client ip, request id', async () => {
    const { audit, http, lines } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.use(express.json())
    app.post('/patients/:id', (req, res) => {
      res.status(201).json({ ok: true, got: Object.keys(req.body) })
    })
    const srv = await listen(app)
    try {
      const body = JSON.stringify({ ssn: PHI.ssn, name: PHI.name })
      const res = await fetch(`${srv.url}/patients/${PHI.ssn}?ssn=${PHI.ssn}&dob=${PHI.dob}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'audit-test/1.0' },
        body,
      })
      const text = await res.text()
      expect(res.status).toBe(201)
      const [e] = await waitFor(() => http().length === 1 && http())
      expect(e.event).toMatchObject({
        kind: 'event',
        action: 'http-request',
        category: ['web'],
        type: ['access'],
        outcome: 'success',
      })
      expect(e.http.request.method).toBe('POST')
      expect(e.http.route).toBe('/patients/:id')
      expect(e.url.path).not.toContain(PHI.ssn)
      expect(e.url.path.startsWith('/patients/')).toBe(true)
      expect(e.url.query).toBe('ssn=&dob=')
      expect(e.http.response.status_code).toBe(201)
      expect(e.event.duration).toBeGreaterThan(0)
      expect(e.http.request.bytes).toBe(Buffer.byteLength(body))
      expect(e.http.response.bytes).toBe(Buffer.byteLength(text))
      expect(e.user_agent.original).toBe('audit-test/1.0')
      expect(e.source.ip).toBe('127.0.0.1')
      expect(e.client.ip).toBe('127.0.0.1')
      expect(e.http.request.id).toMatch(UUID)
      expect(res.headers.get('x-request-id')).toBe(e.http.request.id)
      expect(e.http.request.headers['content-type']).toBe('application/json')
      expectNoPhi(lines)
    } finally {
      await srv.close()
    }
  })

  it('builds route templates through nested routers mounted under parameters, and never leaks their values', async () => {
    const { audit, http, lines } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    const api = express.Router()
    const notes = express.Router({ mergeParams: true })
    notes.get('/:noteId', (_req, res) => {
      res.send('note')
    })
    api.use('/patients/:pid/notes', notes)
    api.get('/things', (_req, res) => {
      res.send('things')
    })
    app.use('/api', api)
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/api/patients/${PHI.mrn}/notes/${encodeURIComponent(PHI.email)}`)).text()
      await (await fetch(`${srv.url}/api/things`)).text()
      await (await fetch(`${srv.url}/api/nowhere/${PHI.ssn}`)).text()
      const events = await waitFor(() => http().length === 3 && http())
      const byStatus = events.map((e: any) => [e.http.response.status_code, e.http.route])
      expect(byStatus).toContainEqual([200, '/api/patients/:pid/notes/:noteId'])
      expect(byStatus).toContainEqual([200, '/api/things'])
      const missing = events.find((e: any) => e.http.response.status_code === 404)
      expect(missing.http.route).toBeUndefined()
      expect(missing.event.outcome).toBe('failure')
      expectNoPhi(lines)
    } finally {
      await srv.close()
    }
  })

  it('pseudonymises route parameter values in the path, matching the access event resource id', async () => {
    const { audit, events } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    const wards = express.Router({ mergeParams: true })
    wards.get('/patients/:id', (req, res) => {
      audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: req.params.id } })
      res.send('ok')
    })
    app.use('/wards/:ward', wards)
    const srv = await listen(app)
    try {
      // opaque ids that no detector recognises
      await (await fetch(`${srv.url}/wards/W7x/patients/P777123`)).text()
      const [access, request] = await waitFor(() => events().length === 2 && events())
      expect(request.http.route).toBe('/wards/:ward/patients/:id')
      const segments = request.url.path.split('/')
      expect(segments[1]).toBe('wards')
      expect(segments[3]).toBe('patients')
      expect(request.url.path).not.toContain('P777123')
      expect(request.url.path).not.toContain('W7x')
      expect(segments[4]).toBe(access.audit.resource.id)
    } finally {
      await srv.close()
    }
  })

  it('never writes credentials, cookies, bodies, query values or unlisted headers; logs listed headers', async () => {
    const { audit, lines, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit, { headers: ['x-tenant'] }))
    app.use(express.json())
    app.use(express.urlencoded({ extended: false }))
    app.all('/echo', (req, res) => {
      res.json({ received: req.body })
    })
    const srv = await listen(app)
    try {
      const secret = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig'
      await (
        await fetch(
          `${srv.url}/echo?name=${encodeURIComponent(PHI.name)}&phone=${encodeURIComponent(PHI.phone)}`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${secret}`,
              cookie: `sid=${secret}; patient=${PHI.ssn}`,
              'x-api-key': secret,
              'x-patient-name': PHI.name,
              'x-patient-email': PHI.email,
              'x-tenant': 'north-clinic',
              'content-type': 'application/json',
            },
            body: JSON.stringify(PHI),
          },
        )
      ).text()
      await (
        await fetch(`${srv.url}/echo`, {
          method: 'PUT',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(PHI).toString(),
        })
      ).text()
      const events = await waitFor(() => http().length === 2 && http())
      expect(events[0].http.request.headers).toEqual({
        accept: '*/*',
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(JSON.stringify(PHI))),
        host: srv.url.slice('http://'.length),
        'x-tenant': 'north-clinic',
      })
      expect(events[0].url.query).toBe('name=&phone=')
      expectNoPhi(lines, [secret, 'sid=', 'Bearer'])
    } finally {
      await srv.close()
    }
  })

  it('uses a sane incoming x-request-id and echoes it; replaces an unsafe one', async () => {
    const { audit, http, lines } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.get('/', (_req, res) => {
      audit.event({ action: 'inner', category: 'api', type: 'info' })
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      const good = await fetch(srv.url, { headers: { 'x-request-id': 'gw-7f3a.91:b_2' } })
      expect(good.headers.get('x-request-id')).toBe('gw-7f3a.91:b_2')
      const bad = await fetch(srv.url, { headers: { 'x-request-id': `id ${PHI.email}` } })
      const badId = bad.headers.get('x-request-id')
      expect(badId).toMatch(UUID)
      const long = await fetch(srv.url, { headers: { 'x-request-id': 'a'.repeat(129) } })
      expect(long.headers.get('x-request-id')).toMatch(UUID)
      const events = await waitFor(() => http().length === 3 && http())
      expect(events.map((e: any) => e.http.request.id)).toEqual([
        'gw-7f3a.91:b_2',
        badId,
        long.headers.get('x-request-id'),
      ])
      // the nested event carries the same request id
      const inner = lines.map((l) => JSON.parse(l)).filter((e) => e.event.action === 'inner')
      expect(inner.map((e) => e.http?.request?.id)).toEqual([
        'gw-7f3a.91:b_2',
        badId,
        long.headers.get('x-request-id'),
      ])
      expectNoPhi(lines, ['a'.repeat(129)])
    } finally {
      await srv.close()
    }
  })

  it('honours a valid W3C traceparent (no OpenTelemetry span active) for the request and nested events', async () => {
    const { audit, events } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.get('/', async (_req, res) => {
      await new Promise((r) => setTimeout(r, 2))
      audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: PHI.mrn } })
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      const trace = '4bf92f3577b34da6a3ce929d0e0e4736'
      const parent = '00f067aa0ba902b7'
      await (await fetch(srv.url, { headers: { traceparent: `00-${trace}-${parent}-01` } })).text()
      await waitFor(() => events().length === 2)
      await (await fetch(srv.url, { headers: { traceparent: `00-${'0'.repeat(32)}-${parent}-01` } })).text()
      const all = await waitFor(() => events().length === 4 && events())
      const [read1, http1, read2, http2] = all
      expect([read1, http1, read2, http2].map((e) => e.event.action)).toEqual([
        'patient-record-read',
        'http-request',
        'patient-record-read',
        'http-request',
      ])
      expect(http1.trace.id).toBe(trace)
      expect(http1.span.id).toBe(parent)
      expect(read1.trace.id).toBe(trace)
      expect(read1.http.request.id).toBe(http1.http.request.id)
      expect(http2.trace).toBeUndefined()
      expect(read2.trace).toBeUndefined()
    } finally {
      await srv.close()
    }
  })

  it("reports the client ip as Express computes it under the app's trust proxy setting", async () => {
    const { audit, http } = capture()
    const trusting = express()
    trusting.set('trust proxy', 'loopback')
    trusting.use(auditMiddleware(audit))
    trusting.get('/', (_req, res) => {
      res.send('ok')
    })
    const plain = express()
    plain.use(auditMiddleware(audit))
    plain.get('/', (_req, res) => {
      res.send('ok')
    })
    const a = await listen(trusting)
    const b = await listen(plain)
    try {
      await (await fetch(a.url, { headers: { 'x-forwarded-for': '203.0.113.7' } })).text()
      await waitFor(() => http().length === 1)
      await (await fetch(b.url, { headers: { 'x-forwarded-for': '203.0.113.7' } })).text()
      const [e1, e2] = await waitFor(() => http().length === 2 && http())
      expect(e1.source.ip).toBe('203.0.113.7')
      expect(e2.source.ip).toBe('127.0.0.1')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('counts streamed response bytes and chunked request bytes, and reports zero body bytes for HEAD', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.post('/upload', (req, res) => {
      let n = 0
      req.on('data', (c: Buffer) => {
        n += c.length
      })
      req.on('end', () => {
        res.write('a'.repeat(1000))
        res.write(Buffer.alloc(500))
        res.end(`received ${n}`)
      })
    })
    app.get('/head', (_req, res) => {
      res.send('x'.repeat(50))
    })
    const srv = await listen(app)
    try {
      const chunks = [Buffer.alloc(3000, 1), Buffer.alloc(4000, 2)]
      const stream = new ReadableStream({
        start(controller) {
          for (const c of chunks) controller.enqueue(c)
          controller.close()
        },
      })
      const res = await fetch(`${srv.url}/upload`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit)
      const text = await res.text()
      expect(text.endsWith('received 7000')).toBe(true)
      await waitFor(() => http().length === 1)
      const head = await fetch(`${srv.url}/head`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      const [upload, headEvent] = await waitFor(() => http().length === 2 && http())
      expect(upload.http.request.bytes).toBe(7000)
      expect(upload.http.response.bytes).toBe(Buffer.byteLength(text))
      expect(headEvent.http.response.bytes).toBe(0)
    } finally {
      await srv.close()
    }
  })

  it('counts response bytes once with wrappers of res.write/end around it, and inside sub-apps', async () => {
    const { audit, http } = capture()
    const app = express()
    // a compression-style wrapper registered before the audit middleware
    app.use((_req, res, next) => {
      const end = res.end
      res.end = function (this: any, ...args: any[]) {
        return (end as any).apply(this, args)
      } as any
      next()
    })
    app.use(auditMiddleware(audit))
    const sub = express()
    sub.get('/s', (_req, res) => {
      res.write('12345')
      res.end('678')
    })
    app.use('/sub', sub)
    app.get('/main', (_req, res) => {
      res.send('x'.repeat(42))
    })
    const srv = await listen(app)
    try {
      expect(await (await fetch(`${srv.url}/main`)).text()).toHaveLength(42)
      await waitFor(() => http().length === 1)
      expect(await (await fetch(`${srv.url}/sub/s`)).text()).toBe('12345678')
      const [main, inSub] = await waitFor(() => http().length === 2 && http())
      expect(main.http.response.bytes).toBe(42)
      expect(inSub.http.response.bytes).toBe(8)
      expect(inSub.http.route).toBe('/sub/s')
    } finally {
      await srv.close()
    }
  })

  it('per-route action names replace http-request', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(
      auditMiddleware(audit, {
        actions: { 'GET /patients/:id': 'patient-record-read', '/patients/:id': 'patient-record-change' },
      }),
    )
    app.get('/patients/:id', (_req, res) => {
      res.send('read')
    })
    app.put('/patients/:id', (_req, res) => {
      res.send('changed')
    })
    app.get('/other', (_req, res) => {
      res.send('x')
    })
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/patients/1`)).text()
      await waitFor(() => http().length === 1)
      await (await fetch(`${srv.url}/patients/1`, { method: 'PUT' })).text()
      await waitFor(() => http().length === 2)
      await (await fetch(`${srv.url}/other`)).text()
      const events = await waitFor(() => http().length === 3 && http())
      expect(events.map((e: any) => e.event.action)).toEqual([
        'patient-record-read',
        'patient-record-change',
        'http-request',
      ])
    } finally {
      await srv.close()
    }
  })

  it('tracks a request once even when the middleware is mounted twice', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    const router = express.Router()
    router.use(auditMiddleware(audit))
    router.get('/x', (_req, res) => {
      res.send('x')
    })
    app.use('/r', router)
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/r/x`)).text()
      await waitFor(() => http().length === 1)
      await new Promise((r) => setTimeout(r, 50))
      expect(http()).toHaveLength(1)
      expect(http()[0].http.route).toBe('/r/x')
    } finally {
      await srv.close()
    }
  })
})
