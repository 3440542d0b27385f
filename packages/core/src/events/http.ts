import { type Policy, pseudonymize, redactText, redactUrlPath } from '../redact/index'
import type { AuditContext, HttpRequestRecord, Level, Outcome } from '../types'
import { outcomeOf } from './auth'
import { type AuditRecord, audit, type BuildEnv, baseRecord, renderError, text } from './record'

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
  const method = typeof input?.method === 'string' ? input.method.toUpperCase().slice(0, 16) : 'UNKNOWN'
  const route = typeof input?.route === 'string' ? redactText(input.route.slice(0, 512), policy) : undefined
  const rawPath = typeof input?.path === 'string' ? input.path : '/'
  const path = redactUrlPath(pseudonymizeParams(rawPath, input?.pathParams, policy), policy)

  // The request's own values win over the context's (an adapter may record after the context ended).
  const merged: AuditContext = { ...ctx }
  if (input?.clientIp) merged.clientIp = input.clientIp
  if (input?.userAgent) merged.userAgent = input.userAgent
  if (input?.requestId) merged.requestId = input.requestId
  if (input?.traceId) {
    merged.traceId = input.traceId
    merged.spanId = input.spanId
  }

  const record = baseRecord(env, merged, {
    action:
      typeof input?.action === 'string' ? redactText(input.action.slice(0, 128), policy) : 'http-request',
    category: ['web'],
    type: serverError ? ['error'] : ['access'],
    outcome,
    level,
    message: `${method} ${route ?? path}${status !== undefined ? ` ${status}` : ''}`,
    actor: input?.actor,
    reason: input?.reason,
    durationNs: finiteOrUndefined(input?.durationNs),
  })

  const request: Record<string, unknown> =
    (record.http as { request?: Record<string, unknown> })?.request ?? {}
  request.method = method
  const reqBytes = finiteOrUndefined(input?.requestBytes)
  if (reqBytes !== undefined) request.bytes = reqBytes
  if (input?.headers) request.headers = headerCopy(input.headers, env)
  const http: Record<string, unknown> = { request }
  const response: Record<string, unknown> = {}
  if (status !== undefined) response.status_code = status
  const resBytes = finiteOrUndefined(input?.responseBytes)
  if (resBytes !== undefined) response.bytes = resBytes
  if (Object.keys(response).length > 0) http.response = response
  if (route !== undefined) http.route = route
  record.http = http

  const url: Record<string, unknown> = { path }
  if (Array.isArray(input?.queryKeys) && input.queryKeys.length > 0) {
    // Keys only: a query-string value is never written.
    url.query = input.queryKeys
      .slice(0, 50)
      .map((k) => `${redactText(String(k).slice(0, 128), policy)}=`)
      .join('&')
  }
  record.url = url

  if (input?.handler) {
    const handler: Record<string, unknown> = {}
    if (input.handler.controller) handler.controller = text(input.handler.controller, policy)
    if (input.handler.name) handler.name = text(input.handler.name, policy)
    audit(record).handler = handler
  }
  if (input?.error !== undefined) record.error = renderError(input.error, policy)
  return record
}

function headerCopy(headers: Record<string, string>, env: BuildEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of Object.keys(headers).slice(0, 30)) {
    out[name.toLowerCase().slice(0, 64)] = text(headers[name], env.policy)
  }
  return out
}

function finiteOrUndefined(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined
}

/** Replaces path segments equal to a route parameter value (raw or percent-decoded) by its pseudonym. */
function pseudonymizeParams(path: string, params: readonly string[] | undefined, policy: Policy): string {
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
    if (value !== undefined) segments[i] = pseudonymize(value, policy, 'resource')
  }
  return segments.join('/')
}

function safeDecode(s: string): string {
  if (s.indexOf('%') === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
