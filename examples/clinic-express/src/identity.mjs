// A local, Dex-like identity provider: static workforce users, ES256-signed ID tokens, a JWKS.
// In production the tokens come from your IdP (Dex, Keycloak, Entra ID ...); the API only verifies
// them. Keeping the issuer in-process makes the example runnable with nothing but Node.js.
import { randomUUID, scryptSync, timingSafeEqual } from 'node:crypto'
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose'

/** Workforce accounts (not patients). Passwords are demo values; only their scrypt hashes are kept. */
export const WORKFORCE = [
  {
    userId: '08a8684b-db88-4b73-90a9-3cd1661f5466',
    username: 'gregory.house',
    email: 'gregory.house@clinic.example',
    groups: ['clinicians', 'diagnostics'],
    password: 'vicodin-and-lupus',
  },
  {
    userId: '5c1e7a8e-2f4b-4a39-9d0e-7b2f1c3d4e5f',
    username: 'lisa.cuddy',
    email: 'lisa.cuddy@clinic.example',
    groups: ['clinicians', 'administrators'],
    password: 'dean-of-medicine',
  },
  {
    userId: '9b7d3c2a-1e0f-4d8c-b6a5-4f3e2d1c0b9a',
    username: 'front.desk',
    email: 'front.desk@clinic.example',
    groups: ['front-desk'],
    password: 'appointments-only',
  },
]

const CONNECTOR = 'local'

/**
 * Dex's `sub` claim: base64url(protobuf { 1: user id, 2: connector id }), e.g. `CiQwOGE4...`.
 * Opaque and stable, which is what an audit trail wants as the actor id.
 */
export function dexSubject(userId, connectorId = CONNECTOR) {
  const user = Buffer.from(userId, 'utf8')
  const conn = Buffer.from(connectorId, 'utf8')
  return Buffer.concat([
    Buffer.from([0x0a, user.length]),
    user,
    Buffer.from([0x12, conn.length]),
    conn,
  ]).toString('base64url')
}

function hashPassword(password, salt) {
  return scryptSync(password, salt, 32)
}

/**
 * Creates the issuer: `authenticate(username, password)` checks the static password store,
 * `issue(account)` signs an ID token, `verify(token)` checks one (signature, issuer, audience,
 * expiry, revocation), `revoke(sid)` ends a session, `discovery()` and `jwks()` serve the metadata.
 */
export async function createIdentityProvider({ issuer, audience = 'clinic-api', ttlSeconds = 900 } = {}) {
  if (typeof issuer !== 'string' || !/^https?:\/\//.test(issuer)) {
    throw new TypeError(`clinic: issuer must be an http(s) URL; got ${JSON.stringify(issuer)}`)
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const kid = randomUUID()
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  const keySet = createLocalJWKSet({ keys: [publicJwk] })
  const revoked = new Set()

  const accounts = new Map(
    WORKFORCE.map((u) => {
      const salt = `${u.userId}:${CONNECTOR}`
      return [u.username, { ...u, password: undefined, salt, hash: hashPassword(u.password, salt) }]
    }),
  )

  return {
    issuer,
    audience,
    /** The account for a username and password, or undefined. Constant-time on the hash. */
    authenticate(username, password) {
      if (typeof username !== 'string' || typeof password !== 'string') return undefined
      const account = accounts.get(username)
      // Hash even for unknown users so that timing does not reveal which usernames exist.
      const hash = hashPassword(password, account?.salt ?? 'no-such-user')
      if (!account || !timingSafeEqual(hash, account.hash)) return undefined
      return account
    },
    async issue(account) {
      const sid = randomUUID()
      const token = await new SignJWT({
        email: account.email,
        email_verified: true,
        groups: account.groups,
        preferred_username: account.username,
        sid,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(dexSubject(account.userId))
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(privateKey)
      return { token, sid, expiresIn: ttlSeconds }
    },
    /** Verified claims, or throws (jose's errors say why). */
    async verify(token) {
      const { payload } = await jwtVerify(token, keySet, { issuer, audience, algorithms: ['ES256'] })
      if (typeof payload.sid === 'string' && revoked.has(payload.sid)) {
        const err = new Error('session ended')
        err.code = 'ERR_SESSION_REVOKED'
        throw err
      }
      return payload
    },
    revoke(sid) {
      if (typeof sid === 'string') revoked.add(sid)
    },
    discovery() {
      return {
        issuer,
        jwks_uri: `${issuer}/keys`,
        id_token_signing_alg_values_supported: ['ES256'],
        subject_types_supported: ['public'],
        response_types_supported: ['id_token'],
        claims_supported: [
          'iss',
          'sub',
          'aud',
          'exp',
          'iat',
          'email',
          'email_verified',
          'groups',
          'preferred_username',
        ],
      }
    },
    jwks() {
      return { keys: [publicJwk] }
    },
  }
}
