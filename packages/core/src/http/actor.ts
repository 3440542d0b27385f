import type { IncomingHttpHeaders } from 'node:http'
import type { Actor } from '../types'

/** Longest id, name, domain or role kept from a token, user object or header. */
const MAX_FIELD = 256
const MAX_ROLES = 64

/**
 * Headers set by an authenticating reverse proxy. They are trusted only when an option names them:
 * any client can send `X-Forwarded-User: admin` to a service that is reachable without the proxy.
 */
export interface IdentityHeaders {
  /** Header carrying the subject id, e.g. `x-auth-request-user`. */
  id: string
  /** Header carrying a login name, e.g. `x-auth-request-preferred-username`. */
  name?: string
  /** Header carrying comma-separated groups, e.g. `x-auth-request-groups`. */
  roles?: string
  /** Identity domain recorded for these actors (the proxy's IdP issuer URL). A fixed value, not a header. */
  domain?: string
}

/** Named header sets of common auth proxies. */
export const IDENTITY_HEADER_PRESETS: Readonly<Record<string, IdentityHeaders>> = Object.freeze({
  // oauth2-proxy with --set-xauthrequest (nginx auth_request) ...
  'oauth2-proxy': {
    id: 'x-auth-request-user',
    name: 'x-auth-request-preferred-username',
    roles: 'x-auth-request-groups',
  },
  // ... and with --pass-user-headers (oauth2-proxy as the reverse proxy), also used by other proxies.
  'x-forwarded-user': {
    id: 'x-forwarded-user',
    name: 'x-forwarded-preferred-username',
    roles: 'x-forwarded-groups',
  },
})

export type IdentityHeadersOption = IdentityHeaders | keyof typeof IDENTITY_HEADER_PRESETS

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** Validates the option and returns lowercase header names. Throws a TypeError saying what to change. */
export function compileIdentityHeaders(
  option: unknown,
  optionName = 'trustedIdentityHeaders',
): IdentityHeaders {
  if (typeof option === 'string') {
    const preset = IDENTITY_HEADER_PRESETS[option]
    if (!preset) {
      const names = Object.keys(IDENTITY_HEADER_PRESETS).join("', '")
      throw new TypeError(
        `boundary-audit: ${optionName} must be '${names}' or an object { id, name?, roles?, domain? }; got '${option}'`,
      )
    }
    return preset
  }
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new TypeError(
      `boundary-audit: ${optionName} must be a preset name or an object { id, name?, roles?, domain? }; got ${describe(option)}`,
    )
  }
  const o = option as Record<string, unknown>
  const out: IdentityHeaders = { id: headerName(o.id, `${optionName}.id`, true) as string }
  const name = headerName(o.name, `${optionName}.name`, false)
  if (name) out.name = name
  const roles = headerName(o.roles, `${optionName}.roles`, false)
  if (roles) out.roles = roles
  if (o.domain !== undefined) {
    if (typeof o.domain !== 'string' || o.domain.length === 0) {
      throw new TypeError(
        `boundary-audit: ${optionName}.domain must be a non-empty string; got ${describe(o.domain)}`,
      )
    }
    out.domain = o.domain
  }
  for (const key of Object.keys(o)) {
    if (!['id', 'name', 'roles', 'domain'].includes(key)) {
      throw new TypeError(
        `boundary-audit: ${optionName} has an unknown key '${key}'; use id, name, roles or domain`,
      )
    }
  }
  return out
}

function headerName(value: unknown, what: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined
  if (typeof value !== 'string' || !HEADER_NAME.test(value.trim().toLowerCase())) {
    throw new TypeError(
      `boundary-audit: ${what} must be a header name such as 'x-auth-request-user'; got ${describe(value)}`,
    )
  }
  return value.trim().toLowerCase()
}

/** The actor named by trusted proxy headers, or undefined when the id header is absent or empty. */
export function actorFromHeaders(headers: IncomingHttpHeaders, spec: IdentityHeaders): Actor | undefined {
  const id = clean(first(headers[spec.id]))
  if (!id) return undefined
  const actor: Actor = { id, type: 'user' }
  if (spec.name) {
    const name = clean(first(headers[spec.name]))
    if (name && name !== id) actor.name = name
  }
  if (spec.roles) {
    const raw = headers[spec.roles]
    const roles = toRoles(Array.isArray(raw) ? raw.join(',') : raw, ',')
    if (roles) actor.roles = roles
  }
  if (spec.domain) actor.domain = spec.domain
  return actor
}

// Claim names, most specific first. `email` comes last on purpose: it is used only when no
// opaque subject id exists, because e-mail addresses change and identify people outside the IdP.
const ID_CLAIMS = [
  'sub',
  'id',
  'user_id',
  'userId',
  'uid',
  'oid',
  'username',
  'preferred_username',
  'login',
  'email',
]
const NAME_CLAIMS = ['preferred_username', 'username', 'login', 'nickname']

/**
 * Maps token claims or a user object to an actor: `sub` (or `id`, ...) -> id, `iss` -> domain,
 * `roles`/`role`/`groups`/Keycloak `realm_access.roles` -> roles, or, when there are none,
 * `permissions`/`scope`/`scp`. Never takes `email` as the id when `sub` or another id exists.
 */
export function actorFromClaims(claims: unknown): Actor | undefined {
  if (claims === null || typeof claims !== 'object') return actorFromScalar(claims)
  const c = claims as Record<string, unknown>
  let id: string | undefined
  let idClaim: string | undefined
  for (const k of ID_CLAIMS) {
    id = scalar(c[k])
    if (id) {
      idClaim = k
      break
    }
  }
  if (!id) return undefined
  const actor: Actor = { id }
  for (const k of NAME_CLAIMS) {
    if (k === idClaim) continue
    const name = scalar(c[k])
    if (name && name !== id) {
      actor.name = name
      break
    }
  }
  const realm = c.realm_access as Record<string, unknown> | undefined
  let roles = merge(toRoles(c.roles), toRoles(c.role), toRoles(c.groups), realm && toRoles(realm.roles))
  if (!roles) roles = merge(toRoles(c.permissions), toRoles(c.scope, ' '), toRoles(c.scp, ' '))
  if (roles) actor.roles = roles
  const iss = scalar(c.iss)
  if (iss) actor.domain = iss
  return actor
}

function actorFromScalar(value: unknown): Actor | undefined {
  const id = scalar(value)
  return id ? { id } : undefined
}

/**
 * The actor from the common Express conventions, first match wins:
 * `req.user` (Passport, or any auth middleware that sets it), `req.auth.payload`
 * (express-oauth2-jwt-bearer), `req.auth` (express-jwt 7+), `req.oidc.user` (express-openid-connect).
 */
export function conventionalActor(req: unknown): Actor | undefined {
  // Own properties only: auth middleware assigns these on the request object itself, and a miss on
  // an Express request (whose prototype chain Express swaps per request) is a slow full-chain walk.
  const r = req as Record<string, any>
  const user = Object.hasOwn(r, 'user') ? r.user : undefined
  if (user != null) {
    const actor = actorFromClaims(user)
    if (actor) return actor
  }
  const auth = Object.hasOwn(r, 'auth') ? r.auth : undefined
  if (auth != null && typeof auth === 'object') {
    const payload = auth.payload
    const actor = actorFromClaims(payload != null && typeof payload === 'object' ? payload : auth)
    if (actor) return actor
  }
  const oidc = Object.hasOwn(r, 'oidc') ? r.oidc : undefined
  if (oidc != null && typeof oidc === 'object' && oidc.user != null) {
    return actorFromClaims(oidc.user)
  }
  return undefined
}

function first(value: string | readonly string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : (value as string | undefined)
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return clean(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (typeof value === 'bigint') return String(value)
  return undefined
}

// Strips control characters and caps the length: these values come from clients or tokens.
function clean(value: string | undefined): string | undefined {
  if (value === undefined) return undefined
  let v = value.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  if (v.length > MAX_FIELD) v = v.slice(0, MAX_FIELD)
  return v.length > 0 ? v : undefined
}

function toRoles(value: unknown, separator?: string): string[] | undefined {
  let list: unknown[]
  if (typeof value === 'string') list = separator ? value.split(separator) : [value]
  else if (Array.isArray(value)) list = value
  else return undefined
  const out: string[] = []
  for (const item of list) {
    const role = scalar(item)
    if (role && !out.includes(role)) out.push(role)
    if (out.length >= MAX_ROLES) break
  }
  return out.length > 0 ? out : undefined
}

function merge(...lists: (string[] | undefined)[]): string[] | undefined {
  let out: string[] | undefined
  for (const list of lists) {
    if (!list) continue
    if (!out) out = [...list]
    else for (const r of list) if (!out.includes(r) && out.length < MAX_ROLES) out.push(r)
  }
  return out
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `'${value}'`
  return typeof value
}
