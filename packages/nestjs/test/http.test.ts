import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BoundaryAuditModule } from '../src/index'
import {
  byAction,
  captureOptions,
  pseudonymOf,
  slowHandler,
  startApp,
  type TestApp,
  until,
  untilHttpEvents,
} from './app'

describe('http-request events on the Express platform', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    t = await startApp(
      BoundaryAuditModule.forRoot(
        captureOptions(lines, {
          ignore: ['/health', (req) => req.headers['x-synthetic-probe'] === '1'],
          headers: ['x-tenant'],
          actions: { 'POST /patients/:id/notes': 'patient-note-create' },
        }),
      ),
      lines,
    )
  })
  afterAll(async () => {
    await t?.close()
  })

  let n = 0
  /** Sends a request with a fresh request id and returns the response and its one http-request event. */
  async function call(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    const id = `req-${++n}`
    const res = await fetch(`${t.url}${path}`, { ...init, headers: { ...init.headers, 'x-request-id': id } })
    await res.arrayBuffer()
    await untilHttpEvents(lines, 1, (r) => r === id)
    const events = t.events().filter((e) => e.event?.category?.includes('web') && e.http?.request?.id === id)
    expect(events, `exactly one http-request event for ${path}`).toHaveLength(1)
    return { res, event: events[0]! }
  }
  const clinician = { authorization: 'Bearer dr-house:clinician' }

  it('writes one event with controller, handler, route, status, actor and request id', async () => {
    const { res, event } = await call('/patients/42', { headers: { ...clinician, 'x-tenant': 'north' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe(`req-${n}`)
    expect(event.event).toMatchObject({
      action: 'http-request',
      category: ['web'],
      type: ['access'],
      outcome: 'success',
    })
    expect(event.audit.handler).toEqual({ controller: 'PatientsController', name: 'findOne' })
    expect(event.http).toMatchObject({
      route: '/patients/:id',
      request: { method: 'GET' },
      response: { status_code: 200 },
    })
    expect(event.http.request.headers).toMatchObject({ 'x-tenant': 'north' })
    expect(event.http.request.headers.authorization).toBeUndefined()
    expect(event.user).toEqual({ id: 'dr-house', roles: ['clinician'], domain: 'https://idp.test' })
    expect(event.client.ip).toBe('127.0.0.1')
    expect(event.event.duration).toBeGreaterThan(0)
    // Route parameters are pseudonymised in the path, the same way as resource ids.
    expect(event.url.path).toBe(`/patients/${pseudonymOf('42')}`)
    expect(event.url.path).toMatch(/^\/patients\/ps_[0-9a-f]{6}_[0-9a-f]{24}$/)
  })

  it('audits a 401 from an APP_GUARD of the root module as failure, with the handler names', async () => {
    // The app's guard runs before any controller guard; the module moves its own to the front.
    const { res, event } = await call('/patients/42')
    expect(res.status).toBe(401)
    expect(event.event.outcome).toBe('failure')
    expect(event.http.response.status_code).toBe(401)
    expect(event.audit.handler).toEqual({ controller: 'PatientsController', name: 'findOne' })
    expect(event.http.route).toBe('/patients/:id')
    expect(event.user).toBeUndefined()
    expect(event['log.level']).toBe('warn')
  })

  it('audits a 403 from a method guard as failure, with the actor and handler names', async () => {
    const { res, event } = await call('/patients/42', {
      method: 'DELETE',
      headers: { authorization: 'Bearer clerk:billing' },
    })
    expect(res.status).toBe(403)
    expect(event.event.outcome).toBe('failure')
    expect(event.audit.handler).toEqual({ controller: 'PatientsController', name: 'remove' })
    expect(event.user.id).toBe('clerk')
  })

  it('audits a pipe rejection (400) with the error type', async () => {
    const { res, event } = await call('/patients/42/notes', {
      method: 'POST',
      headers: { ...clinician, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'no text field' }),
    })
    expect(res.status).toBe(400)
    expect(event.event.outcome).toBe('failure')
    expect(event.audit.handler).toEqual({ controller: 'PatientsController', name: 'addNote' })
    expect(event.error.type).toBe('BadRequestException')
  })

  it('audits a thrown HttpException with its status and type', async () => {
    const { res, event } = await call('/patients/42/missing', { headers: clinician })
    expect(res.status).toBe(404)
    expect(event.event.outcome).toBe('failure')
    expect(event.event.type).toEqual(['access'])
    expect(event.error.type).toBe('NotFoundException')
    expect(event.audit.handler.name).toBe('missing')
  })

  it('audits a plain Error as a 500 error event', async () => {
    const { res, event } = await call('/patients/42/crash', { headers: clinician })
    expect(res.status).toBe(500)
    expect(event.event).toMatchObject({ outcome: 'failure', type: ['error'] })
    expect(event['log.level']).toBe('error')
    expect(event.error.type).toBe('Error')
    expect(event.audit.handler).toEqual({ controller: 'PatientsController', name: 'crash' })
  })

  it('audits a request for an unknown route (404, no handler)', async () => {
    const { res, event } = await call('/nowhere/at/all', { headers: clinician })
    expect(res.status).toBe(404)
    expect(event.event.outcome).toBe('failure')
    expect(event.audit?.handler).toBeUndefined()
    expect(event.url.path).toBe('/nowhere/at/all')
  })

  it('audits a body the parser rejects, before any middleware or guard runs', async () => {
    const { res, event } = await call('/patients/42/notes', {
      method: 'POST',
      headers: { ...clinician, 'content-type': 'application/json' },
      body: '{"text": "unterminated',
    })
    expect(res.status).toBe(400)
    expect(event.event.outcome).toBe('failure')
    expect(event.http.request.method).toBe('POST')
    expect(event.url.path).toBe('/patients/42/notes')
  })

  it('records query keys, never values', async () => {
    const { event } = await call('/public/x?page=2&sort=name', { headers: clinician })
    expect(event.url.query).toBe('page=&sort=')
    expect(event.audit.handler).toEqual({ controller: 'HealthController', name: 'code' })
  })

  it('writes nothing for ignored paths and requests an ignore function matches', async () => {
    const before = lines.length
    expect((await fetch(`${t.url}/health`)).status).toBe(200)
    expect((await fetch(`${t.url}/public/1`, { headers: { 'x-synthetic-probe': '1' } })).status).toBe(200)
    // A recorded request after them: once its event is in, theirs would have been too.
    const { event } = await call('/public/2', { headers: clinician })
    expect(lines.length).toBe(before + 1)
    expect(lines.at(-1)).toContain(event.event.id)
  })

  it('names the event after the route with the actions option', async () => {
    const { res, event } = await call('/patients/42/notes', {
      method: 'POST',
      headers: { ...clinician, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'ok' }),
    })
    expect(res.status).toBe(201)
    expect(event.event.action).toBe('patient-note-create')
    expect(event.http.request.bytes).toBe(JSON.stringify({ text: 'ok' }).length)
  })

  it('writes exactly one event when the client aborts', async () => {
    const id = 'abort-1'
    const ac = new AbortController()
    const pending = fetch(`${t.url}/patients/42/slow`, {
      headers: { ...clinician, 'x-request-id': id },
      signal: ac.signal,
    }).catch(() => undefined)
    const entered = slowHandler.entered
    const returned = slowHandler.returned
    await until(() => slowHandler.entered > entered, 'the slow handler to start')
    ac.abort()
    await pending
    await until(() => slowHandler.returned > returned, 'the slow handler to return')
    // A later recorded request: once its event is in, a second event for the aborted one would be too.
    await call('/public/3', { headers: clinician })
    const events = byAction(t.events(), 'http-request').filter((e) => e.http?.request?.id === id)
    expect(events).toHaveLength(1)
    expect(events[0]!.event.outcome).toBe('unknown')
    expect(events[0]!.audit.handler.name).toBe('slow')
  })
})
