import type { IncomingMessage } from 'node:http'
import type { Actor } from '../types'
import {
  actorFromHeaders,
  compileIdentityHeaders,
  conventionalActor,
  type IdentityHeadersOption,
} from './actor'
import { compileHeaderAllowList } from './headers'

/**
 * A request that writes no event: an exact path (`/healthz`), a path prefix ending in `*`
 * (`/metrics*`), a regular expression tested against the path, or a predicate on the request.
 */
export type IgnoreRule<Req = IncomingMessage> = string | RegExp | ((req: Req) => boolean)

/** What an `actions` function gets to name an event. */
export interface ActionInfo {
  method: string
  /** Route template (`/patients/:id`) when the framework matched one. */
  route: string | undefined
}

/** Options shared by the HTTP adapters (express, nestjs). */
export interface HttpAuditOptions<Req = IncomingMessage> {
  /** Requests that write no event, e.g. health checks. */
  ignore?: IgnoreRule<Req> | readonly IgnoreRule<Req>[]
  /**
   * `event.action` per route instead of `http-request`: keys are `'METHOD /route/template'` or
   * `'/route/template'` (any method), values action names such as `patient-record-read`;
   * or a function returning a name or undefined.
   */
  actions?: Readonly<Record<string, string>> | ((info: ActionInfo) => string | undefined)
  /**
   * Resolves the actor from the request when the event is written. Replaces the default, which reads
   * `req.user` (Passport), `req.auth` / `req.auth.payload` (express-jwt, express-oauth2-jwt-bearer),
   * `req.oidc.user`, and the trusted identity headers if configured.
   */
  actor?: (req: Req) => Actor | undefined
  /**
   * Identity headers set by an auth proxy in front of the service (`'oauth2-proxy'`,
   * `'x-forwarded-user'`, or `{ id, name?, roles?, domain? }`). Off by default: only set this when
   * clients cannot reach the service without passing through that proxy.
   */
  trustedIdentityHeaders?: IdentityHeadersOption
  /** Request headers to log in addition to the default allow-list. Credential headers are refused. */
  headers?: readonly string[]
  /**
   * When to answer 503 (with Retry-After) instead of running the handler of an audited request:
   * - unset (default): once the logger has begun closing (close(), SIGTERM): its events could no
   *   longer be recorded. Requests admitted before that finish and are recorded first.
   * - `true`: also while the audit sink cannot accept events (`audit.stats().healthy` false).
   * - `false`: never; requests are served unaudited after close (availability first).
   */
  failClosed?: boolean
  /** Header read for an incoming request id and set on the response. Default `x-request-id`. */
  requestIdHeader?: string
  /** Set the request id header on the response. Default true. */
  echoRequestId?: boolean
}

/** Validated, precompiled options. Internal to the adapters. */
export interface HttpAuditConfig<Req = IncomingMessage> {
  isIgnored(req: Req, path: string): boolean
  /** False when no `ignore` rule was given: adapters can skip computing the path for isIgnored. */
  hasIgnoreRules: boolean
  actionFor(method: string, route: string | undefined): string | undefined
  /** Never throws: a failing resolver gives undefined. */
  resolveActor(req: Req): Actor | undefined
  headerAllowList: readonly string[]
  /** Refuse while the sink is unhealthy (`failClosed: true`). */
  failClosed: boolean
  /** Refuse requests that arrive once the logger has begun closing (unless `failClosed: false`). */
  refuseWhenClosed: boolean
  requestIdHeader: string
  echoRequestId: boolean
}

const SHARED_KEYS = [
  'ignore',
  'actions',
  'actor',
  'trustedIdentityHeaders',
  'headers',
  'failClosed',
  'requestIdHeader',
  'echoRequestId',
]

const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/
const ACTION_KEY = /^(?:([A-Za-z]+|\*) +)?(\/\S*)$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/**
 * Validates adapter options once, at creation, with messages that say what to change.
 * `extraKeys` are the adapter's own option names (accepted here, validated by the adapter).
 */
export function compileHttpAuditOptions<Req = IncomingMessage>(
  options: unknown,
  { name = 'options', extraKeys = [] as readonly string[] } = {},
): HttpAuditConfig<Req> {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `boundary-audit: ${name} must be an object; got ${Array.isArray(options) ? 'an array' : typeof options}`,
    )
  }
  const o = options as HttpAuditOptions<Req> & Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (!SHARED_KEYS.includes(key) && !extraKeys.includes(key)) {
      const known = [...SHARED_KEYS, ...extraKeys].join(', ')
      throw new TypeError(`boundary-audit: ${name} has an unknown option '${key}'; known options: ${known}`)
    }
  }

  const isIgnored = compileIgnore<Req>(o.ignore, `${name}.ignore`)
  const actionFor = compileActions(o.actions, `${name}.actions`)

  if (o.actor !== undefined && typeof o.actor !== 'function') {
    throw new TypeError(
      `boundary-audit: ${name}.actor must be a function (req) => actor | undefined; got ${typeof o.actor}`,
    )
  }
  const identity =
    o.trustedIdentityHeaders === undefined
      ? undefined
      : compileIdentityHeaders(o.trustedIdentityHeaders, `${name}.trustedIdentityHeaders`)
  const custom = o.actor
  const resolve: (req: Req) => Actor | undefined = custom
    ? (req) => validActor(custom(req))
    : identity
      ? (req) =>
          actorFromHeaders((req as unknown as IncomingMessage).headers, identity) ?? conventionalActor(req)
      : conventionalActor
  const resolveActor = (req: Req): Actor | undefined => {
    try {
      return resolve(req)
    } catch {
      // A resolver that throws must not break the request or the event: the event goes out without an actor.
      return undefined
    }
  }

  const headerAllowList = compileHeaderAllowList(o.headers, `${name}.headers`)

  if (o.failClosed !== undefined && typeof o.failClosed !== 'boolean') {
    throw new TypeError(
      `boundary-audit: ${name}.failClosed must be true or false; got ${typeof o.failClosed}`,
    )
  }
  if (o.echoRequestId !== undefined && typeof o.echoRequestId !== 'boolean') {
    throw new TypeError(
      `boundary-audit: ${name}.echoRequestId must be true or false; got ${typeof o.echoRequestId}`,
    )
  }
  let requestIdHeader = 'x-request-id'
  if (o.requestIdHeader !== undefined) {
    if (typeof o.requestIdHeader !== 'string' || !HEADER_NAME.test(o.requestIdHeader.toLowerCase())) {
      throw new TypeError(
        `boundary-audit: ${name}.requestIdHeader must be a header name such as 'x-request-id'; got ${String(o.requestIdHeader)}`,
      )
    }
    requestIdHeader = o.requestIdHeader.toLowerCase()
  }

  return {
    isIgnored,
    hasIgnoreRules: o.ignore !== undefined,
    actionFor,
    resolveActor,
    headerAllowList,
    failClosed: o.failClosed === true,
    refuseWhenClosed: o.failClosed !== false,
    requestIdHeader,
    echoRequestId: o.echoRequestId ?? true,
  }
}

function validActor(value: unknown): Actor | undefined {
  if (value === undefined || value === null) return undefined
  if (
    typeof value === 'object' &&
    typeof (value as Actor).id === 'string' &&
    (value as Actor).id.length > 0
  ) {
    return value as Actor
  }
  return undefined
}

function compileIgnore<Req>(option: unknown, name: string): (req: Req, path: string) => boolean {
  if (option === undefined) return () => false
  const rules = Array.isArray(option) ? option : [option]
  const exact = new Set<string>()
  const prefixes: string[] = []
  const patterns: RegExp[] = []
  const predicates: ((req: Req) => boolean)[] = []
  for (const rule of rules) {
    if (typeof rule === 'string') {
      if (!rule.startsWith('/')) {
        throw new TypeError(`boundary-audit: ${name} paths must start with '/'; got '${rule}'`)
      }
      if (rule.endsWith('*')) prefixes.push(rule.slice(0, -1))
      else exact.add(rule)
    } else if (rule instanceof RegExp) {
      // A global or sticky regex keeps lastIndex between tests and would match every other request.
      patterns.push(
        rule.global || rule.sticky ? new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')) : rule,
      )
    } else if (typeof rule === 'function') {
      predicates.push(rule as (req: Req) => boolean)
    } else {
      throw new TypeError(
        `boundary-audit: ${name} must be a path string, a RegExp, a function (req) => boolean, or an array of them; got ${rule === null ? 'null' : typeof rule}`,
      )
    }
  }
  return (req, path) => {
    if (exact.has(path)) return true
    for (const p of prefixes) if (path.startsWith(p)) return true
    for (const re of patterns) if (re.test(path)) return true
    for (const fn of predicates) {
      try {
        if (fn(req) === true) return true
      } catch {
        // A throwing predicate must not hide a request from the audit trail: treat as not ignored.
      }
    }
    return false
  }
}

function compileActions(
  option: unknown,
  name: string,
): (method: string, route: string | undefined) => string | undefined {
  if (option === undefined) return () => undefined
  if (typeof option === 'function') {
    const fn = option as (info: ActionInfo) => string | undefined
    return (method, route) => {
      try {
        const action = fn({ method, route })
        return typeof action === 'string' && ACTION_NAME.test(action) ? action : undefined
      } catch {
        return undefined
      }
    }
  }
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw new TypeError(
      `boundary-audit: ${name} must be an object { 'GET /patients/:id': 'patient-record-read' } or a function; got ${option === null ? 'null' : typeof option}`,
    )
  }
  const table = new Map<string, string>()
  for (const [key, action] of Object.entries(option as Record<string, unknown>)) {
    const m = ACTION_KEY.exec(key.trim())
    if (!m) {
      throw new TypeError(
        `boundary-audit: ${name} key '${key}' must be a route template, optionally after a method: 'GET /patients/:id' or '/patients/:id'`,
      )
    }
    if (typeof action !== 'string' || !ACTION_NAME.test(action)) {
      throw new TypeError(
        `boundary-audit: ${name}['${key}'] must be an action name of letters, digits and . _ : - (e.g. 'patient-record-read'); got ${typeof action === 'string' ? `'${action}'` : typeof action}`,
      )
    }
    const method = !m[1] || m[1] === '*' ? '*' : m[1].toUpperCase()
    table.set(`${method} ${m[2]}`, action)
  }
  return (method, route) => {
    if (route === undefined) return undefined
    return table.get(`${method} ${route}`) ?? table.get(`* ${route}`)
  }
}
