import { describe, expect, it } from 'vitest'
import { auditMiddleware, defaultActor } from '../src/index'
import { capture, expectNoPhi, listen, PHI, sleep, versions, waitFor } from './helpers'

describe.each(versions)('%s: actor identity', (_name, express) => {
  it('resolves the actor when the event is written: auth middleware registered after the audit middleware', async () => {
    const { audit, events } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.use((req, _res, next) => {
      audit.event({ action: 'before-auth', category: 'api', type: 'info' })
      // Passport sets req.user after deserialising the session.
      setTimeout(() => {
        ;(req as any).user = { id: 'u-1001', username: 'nurse.joy', roles: ['nurse'] }
        next()
      }, 1)
    })
    app.get('/chart', (_req, res) => {
      audit.event({ action: 'after-auth', category: 'api', type: 'info' })
      res.send('chart')
    })
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/chart`)).text()
      const all = await waitFor(() => events().length === 3 && events())
      const byAction = Object.fromEntries(all.map((e: any) => [e.event.action, e]))
      expect(byAction['before-auth'].user).toBeUndefined()
      expect(byAction['after-auth'].user).toEqual({ id: 'u-1001', name: 'nurse.joy', roles: ['nurse'] })
      expect(byAction['http-request'].user).toEqual({ id: 'u-1001', name: 'nurse.joy', roles: ['nurse'] })
    } finally {
      await srv.close()
    }
  })

  it('understands express-jwt (req.auth) and express-oauth2-jwt-bearer (req.auth.payload) with Dex claims', async () => {
    const { audit, http } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.get('/jwt', (req, res) => {
      ;(req as any).auth = {
        sub: 'svc-42',
        iss: 'https://issuer.example',
        scope: 'read:patients write:notes',
      }
      res.send('ok')
    })
    app.get('/bearer', (req, res) => {
      ;(req as any).auth = {
        header: { alg: 'RS256' },
        token: 'eyJ.secret.token',
        payload: {
          iss: 'https://dex.example.com',
          sub: 'CiQwOGE4Njg0Yi1kYjg4',
          email: PHI.email,
          groups: ['clinicians', 'admins'],
          name: PHI.name,
        },
      }
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/jwt`)).text()
      await waitFor(() => http().length === 1)
      await (await fetch(`${srv.url}/bearer`)).text()
      const [jwt, bearer] = await waitFor(() => http().length === 2 && http())
      expect(jwt.user).toEqual({
        id: 'svc-42',
        domain: 'https://issuer.example',
        roles: ['read:patients', 'write:notes'],
      })
      expect(bearer.user).toEqual({
        id: 'CiQwOGE4Njg0Yi1kYjg4',
        domain: 'https://dex.example.com',
        roles: ['clinicians', 'admins'],
      })
      expect(JSON.stringify(bearer)).not.toContain('eyJ.secret.token')
    } finally {
      await srv.close()
    }
  })

  it('actor(req) overrides the default; audit.setActor() inside the request wins for events after it', async () => {
    const { audit, events } = capture()
    const app = express()
    app.use(
      auditMiddleware(audit, {
        actor: (req) => (req.session?.uid ? { id: `session:${req.session.uid}` } : defaultActor(req)),
      }),
    )
    app.use((req, _res, next) => {
      ;(req as any).session = req.headers['x-sid'] ? { uid: req.headers['x-sid'] } : undefined
      ;(req as any).user = { id: 'passport-user' }
      next()
    })
    app.get('/s', (_req, res) => {
      res.send('ok')
    })
    app.get('/impersonate', (_req, res) => {
      audit.setActor({ id: 'admin-1', effective: { id: 'u-77' } })
      audit.event({ action: 'inner', category: 'api', type: 'info' })
      res.send('ok')
    })
    const srv = await listen(app)
    try {
      await (await fetch(`${srv.url}/s`, { headers: { 'x-sid': 'abc' } })).text()
      await waitFor(() => events().length === 1)
      await (await fetch(`${srv.url}/s`)).text()
      await waitFor(() => events().length === 2)
      await (await fetch(`${srv.url}/impersonate`)).text()
      const all = await waitFor(() => events().length === 4 && events())
      expect(all[0].user.id).toBe('session:abc')
      expect(all[1].user.id).toBe('passport-user')
      expect(all[2].user).toMatchObject({ id: 'admin-1', effective: { id: 'u-77' } })
      expect(all[3].user).toMatchObject({ id: 'admin-1', effective: { id: 'u-77' } })
    } finally {
      await srv.close()
    }
  })

  it('reads identity headers of an auth proxy only when configured', async () => {
    const { audit, http } = capture()
    const spoofable = express()
    spoofable.use(auditMiddleware(audit))
    spoofable.get('/', (_req, res) => {
      res.send('ok')
    })
    const proxied = express()
    proxied.use(auditMiddleware(audit, { trustedIdentityHeaders: 'oauth2-proxy' }))
    proxied.get('/', (_req, res) => {
      res.send('ok')
    })
    const a = await listen(spoofable)
    const b = await listen(proxied)
    const headers = {
      'x-auth-request-user': 'dex|admin',
      'x-auth-request-groups': 'admins,auditors',
      'x-auth-request-email': PHI.email,
      'x-forwarded-user': 'root',
    }
    try {
      await (await fetch(a.url, { headers })).text()
      await waitFor(() => http().length === 1)
      await (await fetch(b.url, { headers })).text()
      const [spoofed, trusted] = await waitFor(() => http().length === 2 && http())
      expect(spoofed.user).toBeUndefined()
      expect(trusted.user).toEqual({ id: 'dex|admin', roles: ['admins', 'auditors'], type: 'user' })
      expectNoPhi([JSON.stringify([spoofed, trusted])])
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('200 concurrent requests with different actors: each event, and the nested event, carries its own actor and request id', async () => {
    const { audit, events } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.use(async (req, _res, next) => {
      await sleep(Math.random() * 20)
      ;(req as any).user = { sub: String(req.headers['x-user']), groups: [`g-${req.headers['x-user']}`] }
      next()
    })
    app.get('/patients/:id', async (req, res) => {
      await sleep(Math.random() * 20)
      audit.access({ action: 'patient-record-read', resource: { type: 'patient', id: req.params.id } })
      await sleep(Math.random() * 5)
      res.json({ user: req.headers['x-user'] })
    })
    const srv = await listen(app)
    try {
      const n = 200
      const responses = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const res = await fetch(`${srv.url}/patients/${1000 + i}`, { headers: { 'x-user': `user-${i}` } })
          await res.text()
          return { user: `user-${i}`, requestId: res.headers.get('x-request-id') }
        }),
      )
      const all = await waitFor(() => events().length === 2 * n && events())
      const ids = new Set(responses.map((r) => r.requestId))
      expect(ids.size).toBe(n)
      for (const { user, requestId } of responses) {
        const mine = all.filter((e: any) => e.http?.request?.id === requestId)
        expect(mine.map((e: any) => e.event.action).sort()).toEqual(['http-request', 'patient-record-read'])
        for (const e of mine) {
          expect(e.user.id).toBe(user)
          expect(e.user.roles).toEqual([`g-${user}`])
        }
      }
    } finally {
      await srv.close()
    }
  })

  it('login and logout inside a request carry source ip, user agent and request id; failed logins pseudonymise the identifier', async () => {
    const { audit, events, lines } = capture()
    const app = express()
    app.use(auditMiddleware(audit))
    app.use(express.json())
    app.post('/login', (req, res) => {
      const { username, password } = req.body
      if (password !== 'correct horse') {
        audit.login({
          outcome: 'failure',
          attemptedIdentifier: username,
          reason: 'bad password',
          method: 'password',
        })
        res.status(401).send('no')
        return
      }
      const actor = { id: 'u-5', name: 'nurse.joy' }
      audit.setActor(actor)
      audit.login({ actor, outcome: 'success', method: 'password' })
      res.send('welcome')
    })
    app.post('/logout', (_req, res) => {
      audit.logout({ actor: { id: 'u-5' }, reason: 'user request' })
      res.send('bye')
    })
    const srv = await listen(app)
    try {
      const headers = { 'content-type': 'application/json', 'user-agent': 'ClinicApp/2.1' }
      const fail = await fetch(`${srv.url}/login`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: PHI.email, password: 'hunter2' }),
      })
      expect(fail.status).toBe(401)
      await waitFor(() => events().length === 2)
      const ok = await fetch(`${srv.url}/login`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ username: 'nurse.joy', password: 'correct horse' }),
      })
      expect(ok.status).toBe(200)
      await waitFor(() => events().length === 4)
      const out = await fetch(`${srv.url}/logout`, { method: 'POST', headers })
      expect(out.status).toBe(200)
      const all = await waitFor(() => events().length === 6 && events())
      const logins = all.filter((e: any) => e.event.action === 'user-login')
      expect(logins.map((e: any) => e.event.outcome)).toEqual(['failure', 'success'])
      expect(logins[0].http.request.id).toBe(fail.headers.get('x-request-id'))
      expect(logins[1].http.request.id).toBe(ok.headers.get('x-request-id'))
      // the typed identifier is there, pseudonymised (stable, keyed), never in clear
      expect(typeof logins[0].user?.name).toBe('string')
      expect(logins[0].user.name).not.toContain('@')
      expect(logins[0].user.name).not.toContain('jane')
      const logout = all.find((e: any) => e.event.action === 'user-logout')
      expect(logout.http.request.id).toBe(out.headers.get('x-request-id'))
      for (const e of [...logins, logout]) {
        expect(e.source.ip).toBe('127.0.0.1')
        expect(e.user_agent.original).toBe('ClinicApp/2.1')
      }
      // the successful login's request event carries the actor set during it
      const okRequest = all.find(
        (e: any) => e.event.action === 'http-request' && e.http.request.id === ok.headers.get('x-request-id'),
      )
      expect(okRequest.user.id).toBe('u-5')
      expectNoPhi(lines, ['hunter2', 'correct horse'])
    } finally {
      await srv.close()
    }
  })
})
