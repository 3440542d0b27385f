import { safeDecode } from '../decode'
import { type Policy, pseudonymize, redactText, redactUrlPath } from '../redact/index'
import { type RequestScope, scopeOf } from '../request-scope'
import type { AuditContext, EventCategory, EventType, HttpRequestRecord, Level, Outcome } from '../types'
import { outcomeOf } from './auth'
import {
  type AuditRecord,
  audit,
  type BuildEnv,
  baseRecord,
  type RequestFacts,
  renderError,
  text,
} from './record'

// event.category and event.type of every http-request event: shared, frozen so that nothing can
// change them for all events at once.
const WEB: readonly EventCategory[] = Object.freeze(['web'])
const ACCESS: readonly EventType[] = Object.freeze(['access'])
const ERROR: readonly EventType[] = Object.freeze(['error'])

/** Methods as they nearly always come (upper case already): written without converting them. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

function methodOf(method: string): string {
  return METHODS.has(method) ? method : method.toUpperCase().slice(0, 16)
}

/** One `http-request` event from what an adapter (express, nestjs) measured. */
export function httpRecord(
  env: BuildEnv,
  ctx: AuditContext | undefined,
  input: HttpRequestRecord,
): AuditRecord {
  const policy = env.policy
  const status = typeof input?.statusCode === 'number' ? input.statusCode : undefined
  const outcome: Outcome = outcomeOf(
    input?.outcome,
    status === undefined ? 'unknown' : status < 400 && input?.error === undefined ? 'success' : 'failure',
  )
  const serverError = status !== undefined && status >= 500
  const level: Level = serverError ? 'error' : outcome === 'success' ? 'info' : 'warn'
  const method = typeof input?.method === 'string' ? methodOf(input.method) : 'UNKNOWN'
  const route = typeof input?.route === 'string' ? redactText(input.route.slice(0, 512), policy) : undefined
  const rawPath = typeof input?.path === 'string' ? input.path : '/'
  const path = redactUrlPath(
    pseudonymizeParams(rawPath, input?.pathParams, policy, scopeOf(input as never)),
    policy,
  )

  // The request's own values win over the context's (an adapter may record after the context ended).
  // The request id goes into the http object built below, so baseRecord is not given it.
  const requestId = input?.requestId || ctx?.requestId || undefined
  const fromInput = Boolean(input?.traceId)
  const facts: RequestFacts = {
    clientIp: input?.clientIp || ctx?.clientIp,
    userAgent: input?.userAgent || ctx?.userAgent,
    requestId: undefined,
    traceId: fromInput ? input.traceId : ctx?.traceId,
    spanId: fromInput ? input.spanId : ctx?.spanId,
  }

  const record = baseRecord(
    env,
    ctx,
    {
      action:
        typeof input?.action === 'string' ? redactText(input.action.slice(0, 128), policy) : 'http-request',
      category: WEB,
      type: serverError ? ERROR : ACCESS,
      outcome,
      level,
      message: `${method} ${route ?? path}${status !== undefined ? ` ${status}` : ''}`,
      actor: input?.actor,
      reason: input?.reason,
      durationNs: finiteOrUndefined(input?.durationNs),
    },
    facts,
  )

  const headerNames = input?.headers ? Object.keys(input.headers).slice(0, 30) : undefined
  const headersAsGiven = headerNames === undefined || asWritten(headerNames)
  const response =
    status === undefined && input?.responseBytes === undefined
      ? undefined
      : { bytes: finiteOrUndefined(input?.responseBytes), status_code: status }
  record.http = {
    request: {
      bytes: finiteOrUndefined(input?.requestBytes),
      headers: headerNames ? headerCopy(input.headers!, headerNames, headersAsGiven, env) : undefined,
      id: requestId,
      method,
    },
    response,
    route,
  }
  record.url = {
    path,
    // Keys only: a query-string value is never written.
    query:
      Array.isArray(input?.queryKeys) && input.queryKeys.length > 0
        ? input.queryKeys
            .slice(0, 50)
            .map((k) => `${redactText(String(k).slice(0, 128), policy)}=`)
            .join('&')
        : undefined,
  }

  if (input?.handler) {
    audit(record).handler = {
      controller: input.handler.controller ? text(input.handler.controller, policy) : undefined,
      name: input.handler.name ? text(input.handler.name, policy) : undefined,
    }
  }
  if (input?.error !== undefined) record.error = renderError(input.error, policy)
  return record
}

function headerCopy(
  headers: Record<string, string>,
  names: readonly string[],
  asGiven: boolean,
  env: BuildEnv,
): Record<string, string> {
  const out: Record<string, string> = {}
  if (asGiven) {
    // What the adapters pass (pickHeaders over the sorted allow-list): nothing to rename or sort.
    for (const name of names) out[name] = text(headers[name], env.policy)
    return out
  }
  const lower = names.map((n) => n.toLowerCase().slice(0, 64))
  // sorted, like every object of a record (see record.ts)
  for (const i of lower.map((_, i) => i).sort((a, b) => (lower[a]! < lower[b]! ? -1 : 1))) {
    out[lower[i]!] = text(headers[names[i]!], env.policy)
  }
  return out
}

/**
 * Names already lower-case, at most 64 characters, in sorted order and without a dot: the object
 * keeps them as they are, and it is canonical as it stands (the integrity chain expands dotted keys).
 * A name with a dot takes the sorting path, which writes it the same.
 */
function asWritten(names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    if (
      name.length > 64 ||
      name !== name.toLowerCase() ||
      (i > 0 && !(names[i - 1]! < name)) ||
      name.indexOf('.') !== -1
    ) {
      return false
    }
  }
  return true
}

function finiteOrUndefined(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined
}

/**
 * Replaces path segments equal to a route parameter value (raw or percent-decoded) by its pseudonym.
 * With the request's scope, each value is pseudonymised once per request and remembered there, so the
 * same clear value is replaced everywhere else in the request's records too.
 */
function pseudonymizeParams(
  path: string,
  params: readonly string[] | undefined,
  policy: Policy,
  scope: RequestScope | undefined,
): string {
  if (!Array.isArray(params) || params.length === 0) return path
  const values = new Set<string>()
  for (const v of params.slice(0, 32)) {
    if (typeof v === 'string' && v.length > 0 && v.length <= 512) values.add(v)
  }
  if (values.size === 0) return path
  const segments = path.split('/')
  for (let i = 0; i < segments.length; i++) {
    const raw = segments[i] as string
    if (raw.length === 0) continue
    const value = values.has(raw) ? raw : values.has(safeDecode(raw)) ? safeDecode(raw) : undefined
    if (value !== undefined)
      segments[i] = scope?.addParam(value, policy) ?? pseudonymize(value, policy, 'resource')
  }
  return segments.join('/')
}
