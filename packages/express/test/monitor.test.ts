// Privacy monitor enforcement through the Express middleware, on real HTTP servers; the replicas'
// test shares counts and enforcement through the real Redis at 127.0.0.1:6379.

import { afterAll, describe, expect, it } from 'vitest'
import { testRedis } from '../../../scripts/redis.mjs'
import { auditMiddleware } from '../src/index'
import { capture, listen, versions, waitFor } from './helpers'

/** Auth registered after the audit middleware (the common order): the actor is known only at the route. */
function app(express: any, audit: any) {
  const a = express()
  a.use(auditMiddleware(audit, { ignore: ['/healthz'] }))
  a.use((req: any, _res: any, next: any) => {
    const user = req.headers['x-test-user']
    if (user) req.user = { id: user, roles: ['clerk'] }
    next()
  })
  a.get('/healthz', (_req: any, res: any) => res.send('ok'))
  // Audited but open during a scram: a readiness probe, and a route the operator lists as non-PHI.
  a.get('/readyz', (_req: any, res: any) => res.send('ready'))
  a.get('/appointments/slots', (_req: any, res: any) => res.json([]))
  a.get('/patients/:id', (req: any, res: any) => {
    audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: req.params.id } })
    res.json({ id: 'x' })
  })
  return a
}

describe.each(versions)('%s: privacy monitor enforcement', (_name, express) => {
  it('a bulk read trips breadth, the actor is blocked (403) while others go on; the operator lifts it', async () => {
    const { audit, events } = capture({
      monitor: { breadth: { threshold: 3, windowSeconds: 600 }, enforcement: { block: ['breadth'] } },
    })
    const srv = await listen(app(express, audit))
    const get = (path: string, user: string) =>
      fetch(`${srv.url}${path}`, { headers: { 'x-test-user': user } })
    try {
      for (let i = 0; i < 4; i++) expect((await get(`/patients/MRN-0000000${i}`, 'bulk')).status).toBe(200)
      await waitFor(() => audit.monitor.isBlocked('bulk'))
      const refused = await get('/patients/MRN-00000009', 'bulk')
      expect(refused.status).toBe(403)
      expect((await get('/patients/MRN-00000009', 'other')).status).toBe(200)
      const e = await waitFor(() => events().find((x) => x.http?.response?.status_code === 403))
      expect(e.user.id).toBe('bulk')
      expect(e.event.reason).toMatch(/blocked by the privacy monitor/)
      // The refused request read nothing: no access event for MRN-00000009 by bulk.
      const reads = events().filter((x) => x.event.action === 'patient-record-read' && x.user.id === 'bulk')
      expect(reads).toHaveLength(4)
      const actions = events().map((x) => x.event.action)
      expect(actions.indexOf('access-anomaly')).toBeLessThan(actions.indexOf('monitor-actor-blocked'))

      audit.monitor.unblock('bulk', { reason: 'reviewed with the privacy officer' })
      expect((await get('/patients/MRN-00000009', 'bulk')).status).toBe(200)
      const unblocked = events().find((x) => x.event.action === 'monitor-actor-unblocked')
      expect(unblocked.audit.monitor).toMatchObject({ actor: 'bulk', by: 'operator', state: 'unblocked' })
    } finally {
      await srv.close()
      await audit.close()
    }
  })

  it('scram refuses PHI routes with 503 until unscram; health, readiness and listed open routes pass; both changes are audited', async () => {
    const { audit, events } = capture({ monitor: { breadth: false } })
    const srv = await listen(app(express, audit))
    try {
      audit.monitor.scram({ reason: 'Falco: shell in container' })
      const res = await fetch(`${srv.url}/patients/MRN-00000001`, { headers: { 'x-test-user': 'u1' } })
      expect(res.status).toBe(503)
      expect((await fetch(`${srv.url}/healthz`)).status).toBe(200)
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200)
      // Not known to be free of PHI: refused by default.
      expect((await fetch(`${srv.url}/appointments/slots`)).status).toBe(503)
      audit.monitor.unscram()
      expect(
        (await fetch(`${srv.url}/patients/MRN-00000001`, { headers: { 'x-test-user': 'u1' } })).status,
      ).toBe(200)
      const states = events()
        .filter((x) => x.event.action?.startsWith('monitor-scram'))
        .map((x) => [x.event.action, x.audit.monitor.by])
      expect(states).toEqual([
        ['monitor-scram-started', 'operator'],
        ['monitor-scram-ended', 'operator'],
      ])
      const refused = events().find((x) => x.http?.response?.status_code === 503)
      expect(refused.event.reason).toMatch(/scrammed/)
    } finally {
      await srv.close()
      await audit.close()
    }
  })

  it('authentication inside the route (app.get(path, auth, handler)) is enough: the handler is refused', async () => {
    const { audit } = capture({ monitor: { breadth: false } })
    const a = express()
    a.use(auditMiddleware(audit))
    const auth = (req: any, _res: any, next: any) => {
      req.user = { id: req.headers['x-test-user'] }
      next()
    }
    let reached = 0
    a.get('/patients/:id', auth, (_req: any, res: any) => {
      reached++
      res.send('record')
    })
    const srv = await listen(a)
    try {
      audit.monitor.block('eve')
      expect((await fetch(`${srv.url}/patients/1`, { headers: { 'x-test-user': 'eve' } })).status).toBe(403)
      expect(reached).toBe(0)
      expect((await fetch(`${srv.url}/patients/1`, { headers: { 'x-test-user': 'bob' } })).status).toBe(200)
      expect(reached).toBe(1)
    } finally {
      await srv.close()
      await audit.close()
    }
  })

  it('an actor known at the start (trusted identity headers) is refused before any route; a block runs out', async () => {
    const { audit, events } = capture({ monitor: { breadth: false } })
    const a = express()
    a.use(auditMiddleware(audit, { trustedIdentityHeaders: 'x-forwarded-user' }))
    a.use((_req: any, res: any) => res.send('reached'))
    const srv = await listen(a)
    try {
      audit.monitor.block('mallory', { seconds: 0.3, reason: 'test' })
      const h = { 'x-forwarded-user': 'mallory' }
      expect((await fetch(srv.url, { headers: h })).status).toBe(403)
      await waitFor(() => !audit.monitor.isBlocked('mallory'), 5000)
      expect((await fetch(srv.url, { headers: h })).status).toBe(200)
      await waitFor(() => events().some((x) => x.event.action === 'monitor-actor-unblocked'))
      const expiry = events().find((x) => x.event.action === 'monitor-actor-unblocked')
      expect(expiry.audit.monitor.by).toBe('expiry')
    } finally {
      await srv.close()
      await audit.close()
    }
  })

  it('operator lists PHI routes: other routes keep working in a scram', async () => {
    const { audit } = capture({ monitor: { breadth: false, enforcement: { phiRoutes: ['/patients/*'] } } })
    const srv = await listen(app(express, audit))
    try {
      audit.monitor.scram()
      expect((await fetch(`${srv.url}/patients/MRN-00000001`)).status).toBe(503)
      expect((await fetch(`${srv.url}/appointments/slots`)).status).toBe(200)
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200)
    } finally {
      await srv.close()
      await audit.close()
    }
  })
})

describe.each(versions)('%s: privacy monitor on two replicas sharing Redis', (_name, express) => {
  const redis = testRedis()
  afterAll(() => redis.cleanup())

  it('a bulk read spread over both trips breadth once; the actor gets 403 from both; a scram on one refuses on both', async () => {
    const monitor = {
      breadth: { threshold: 3, windowSeconds: 600 },
      enforcement: { block: ['breadth'] },
      redis: { url: redis.url, keyPrefix: redis.prefix },
    }
    const one = capture({ monitor })
    const two = capture({ monitor })
    const a = await listen(app(express, one.audit))
    const b = await listen(app(express, two.audit))
    const get = (srv: { url: string }, path: string, user: string) =>
      fetch(`${srv.url}${path}`, { headers: { 'x-test-user': user } }).then((r) => r.status)
    try {
      await waitFor(
        () => one.audit.monitor.stats().store === 'redis' && two.audit.monitor.stats().store === 'redis',
      )
      // Two individuals on each replica: neither alone is over 3, together they are.
      expect(await get(a, '/patients/MRN-00000001', 'roamer')).toBe(200)
      expect(await get(b, '/patients/MRN-00000002', 'roamer')).toBe(200)
      expect(await get(a, '/patients/MRN-00000003', 'roamer')).toBe(200)
      expect(await get(b, '/patients/MRN-00000004', 'roamer')).toBe(200)
      await waitFor(() => one.audit.monitor.isBlocked('roamer') && two.audit.monitor.isBlocked('roamer'))
      expect(await get(a, '/patients/MRN-00000005', 'roamer')).toBe(403)
      expect(await get(b, '/patients/MRN-00000005', 'roamer')).toBe(403)
      expect(await get(a, '/patients/MRN-00000005', 'other')).toBe(200)
      const alerts = [...one.events(), ...two.events()].filter((e) => e.event.kind === 'alert')
      expect(alerts.map((e) => [e.rule.name, e.user.id, e.audit.monitor.count])).toEqual([
        ['breadth', 'roamer', 4],
      ])

      two.audit.monitor.scram({ reason: 'drill' })
      await waitFor(() => one.audit.monitor.scrammed)
      expect(await get(a, '/patients/MRN-00000006', 'other')).toBe(503)
      expect(await get(a, '/readyz', 'other')).toBe(200)
      one.audit.monitor.unscram()
      await waitFor(() => !two.audit.monitor.scrammed)
      expect(await get(b, '/patients/MRN-00000006', 'other')).toBe(200)
    } finally {
      await a.close()
      await b.close()
      await one.audit.close()
      await two.audit.close()
    }
  })
})
