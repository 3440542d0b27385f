// The patient-records API. Everything audit-related is the few lines a user adds from the READMEs:
// `auditMiddleware` first, the pool wrapped, and `audit.login / logout / access` where the
// application knows what happened (who logged in, which patient's record was read or changed).
import { auditMiddleware } from '@boundary-audit/express'
import express from 'express'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const EDITABLE = { phone: 'phone', email: 'email', address: 'address' }

/**
 * @param {object} deps
 * @param {import('@boundary-audit/core').AuditLogger} deps.audit
 * @param {import('pg').Pool} deps.pool  already wrapped with `wrapPool`
 * @param {Awaited<ReturnType<typeof import('./identity.mjs').createIdentityProvider>>} deps.idp
 */
export function createApp({ audit, pool, idp }) {
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', 'loopback') // behind an ingress, name its addresses here

  // First, so every request (including the ones rejected below) gets its http-request event and
  // everything after it runs inside the audit context (request id, trace id, actor).
  app.use(auditMiddleware(audit, { ignore: ['/healthz'] }))
  // Body parsing per route, like the token check below: a malformed body is then refused after
  // Express has matched the route, so even that 400 is logged with the template, not the raw path.
  const json = express.json({ limit: '16kb' })

  app.get('/healthz', (_req, res) => res.json({ ok: true }))

  // The identity provider's metadata, as Dex serves it (here under /dex for the local issuer).
  app.get('/dex/.well-known/openid-configuration', (_req, res) => res.json(idp.discovery()))
  app.get('/dex/keys', (_req, res) => res.json(idp.jwks()))

  app.post('/auth/login', json, async (req, res, next) => {
    try {
      const { username, password } = req.body ?? {}
      const account = idp.authenticate(username, password)
      if (!account) {
        // The typed-in username is only ever written as a keyed pseudonym (brute-force analysis).
        audit.login({
          outcome: 'failure',
          reason: 'invalid-credentials',
          method: 'password',
          attemptedIdentifier: typeof username === 'string' ? username : undefined,
        })
        return res.status(401).json({ error: 'invalid username or password' })
      }
      const { token, sid, expiresIn } = await idp.issue(account)
      const claims = await idp.verify(token)
      req.user = claims // so this request's own http-request event names the new actor too
      audit.login({ actor: actorOf(claims), outcome: 'success', method: 'password', session: sid })
      res.json({ access_token: token, token_type: 'Bearer', expires_in: expiresIn })
    } catch (err) {
      next(err)
    }
  })

  // Token check per route rather than one app.use() in front of all of them: Express then knows the
  // route (and its :id) even for a request it refuses with 401, so the audit event carries the route
  // template and a pseudonymised id instead of the raw path. (What no route matches, a 404, is
  // logged with its raw path, through the value detectors.)
  const authenticated = async (req, res, next) => {
    const header = req.get('authorization') ?? ''
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(header)
    if (!match) return res.status(401).json({ error: 'missing bearer token' })
    try {
      req.user = await idp.verify(match[1]) // auditMiddleware reads req.user: sub, groups, iss
      next()
    } catch {
      res.status(401).json({ error: 'invalid or expired token' })
    }
  }

  app.post('/auth/logout', authenticated, (req, res) => {
    idp.revoke(req.user.sid)
    audit.logout({ reason: 'user-initiated', session: req.user.sid })
    res.status(204).end()
  })

  app.get('/patients', authenticated, async (req, res, next) => {
    try {
      const family = typeof req.query.family_name === 'string' ? req.query.family_name : undefined
      const dob = typeof req.query.dob === 'string' ? req.query.dob : undefined
      if (!family) return res.status(400).json({ error: 'family_name is required' })
      const { rows } = await pool.query(
        `select id, given_name, family_name, dob::text as dob from patients
          where family_name ilike $1 and ($2::date is null or dob = $2::date)
          order by family_name, given_name limit 50`,
        [family, dob ?? null],
      )
      audit.access({
        action: 'patient-record-search',
        resource: { type: 'patient' },
        purpose: purposeOf(req),
        details: { returned: rows.length },
      })
      // Who saw which patient in a result list is a disclosure too: one event per patient shown.
      for (const row of rows) {
        audit.access({
          action: 'patient-record-list',
          resource: { type: 'patient', id: row.id },
          purpose: purposeOf(req),
        })
      }
      res.json(rows.map(toSummary))
    } catch (err) {
      next(err)
    }
  })

  app.get('/patients/mrn/:mrn', authenticated, async (req, res, next) => {
    try {
      const { rows } = await pool.query('select * from patients where mrn = $1', [req.params.mrn])
      return sendRecord(req, res, rows[0], req.params.mrn)
    } catch (err) {
      next(err)
    }
  })

  app.get('/patients/:id', authenticated, async (req, res, next) => {
    try {
      if (!UUID.test(req.params.id)) return res.status(400).json({ error: 'id must be a UUID' })
      const { rows } = await pool.query('select * from patients where id = $1', [req.params.id])
      return sendRecord(req, res, rows[0], req.params.id)
    } catch (err) {
      next(err)
    }
  })

  app.patch('/patients/:id', authenticated, json, async (req, res, next) => {
    try {
      if (!UUID.test(req.params.id)) return res.status(400).json({ error: 'id must be a UUID' })
      const resource = { type: 'patient', id: req.params.id }
      if (!hasGroup(req, 'clinicians')) {
        audit.access({ action: 'patient-record-update', resource, outcome: 'failure', reason: 'forbidden' })
        return res.status(403).json({ error: 'only clinicians may change a record' })
      }
      const changes = Object.entries(req.body ?? {}).filter(
        ([k, v]) => Object.hasOwn(EDITABLE, k) && typeof v === 'string',
      )
      if (changes.length === 0)
        return res.status(400).json({ error: 'nothing to change (phone, email, address)' })
      const sets = changes.map(([k], i) => `${EDITABLE[k]} = $${i + 2}`).join(', ')
      const { rows } = await pool.query(
        `update patients set ${sets}, updated_at = now() where id = $1 returning id`,
        [req.params.id, ...changes.map(([, v]) => v)],
      )
      if (rows.length === 0) {
        audit.access({ action: 'patient-record-update', resource, outcome: 'failure', reason: 'not-found' })
        return res.status(404).json({ error: 'no such patient' })
      }
      // Names of the changed fields, never their values.
      audit.access({
        action: 'patient-record-update',
        resource,
        purpose: purposeOf(req),
        details: { fields: changes.map(([k]) => k) },
      })
      res.status(204).end()
    } catch (err) {
      next(err)
    }
  })

  app.use((_req, res) => res.status(404).json({ error: 'not found' }))
  // Express 5 sends async errors here; the audit middleware has already seen them.
  app.use((err, _req, res, _next) => {
    // body-parser's 400 / 413 stay client errors; anything else is ours.
    const status = Number.isInteger(err?.status) && err.status >= 400 && err.status < 500 ? err.status : 500
    res.status(status).json({ error: status === 500 ? 'internal error' : 'bad request' })
  })

  function sendRecord(req, res, row, requestedId) {
    if (!hasGroup(req, 'clinicians')) {
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: row?.id ?? requestedId },
        outcome: 'failure',
        reason: 'forbidden',
      })
      return res.status(403).json({ error: 'only clinicians may read a full record' })
    }
    if (!row) {
      audit.access({
        action: 'patient-record-read',
        resource: { type: 'patient', id: requestedId },
        outcome: 'failure',
        reason: 'not-found',
      })
      return res.status(404).json({ error: 'no such patient' })
    }
    audit.access({
      action: 'patient-record-read',
      resource: { type: 'patient', id: row.id },
      purpose: purposeOf(req),
    })
    return res.json(toRecord(row))
  }

  return app
}

/** The actor of an ID token, Dex-shaped claims: sub -> id, groups -> roles, iss -> domain. */
function actorOf(claims) {
  return {
    id: claims.sub,
    roles: claims.groups,
    domain: claims.iss,
    name: claims.preferred_username,
    type: 'user',
  }
}

function hasGroup(req, group) {
  return Array.isArray(req.user?.groups) && req.user.groups.includes(group)
}

// HIPAA purpose of use (treatment, payment, operations ...), sent by the client per request.
function purposeOf(req) {
  const value = req.get('x-purpose-of-use')
  return value && /^[a-z-]{1,32}$/.test(value) ? value : 'treatment'
}

function toSummary(row) {
  return { id: row.id, givenName: row.given_name, familyName: row.family_name, dob: row.dob }
}

function toRecord(row) {
  return {
    id: row.id,
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    dob: row.dob,
    ssn: row.ssn,
    email: row.email,
    phone: row.phone,
    address: row.address,
    updatedAt: row.updated_at,
  }
}
