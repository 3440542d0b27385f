import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type HttpExchange,
  httpExchangeOf,
  installResponseCounting,
  normalizeIp,
  refuseUnaudited,
  respondRefused,
  respondUnavailable,
  splitUrl,
  startHttpExchange,
} from '@boundary-audit/core/adapter'
import { isEntered, markEntered } from './exchange-state'
import { pathParamsOf, routeOfRequest } from './handler-guard'
import type { AuditRuntime } from './runtime'
import type { AuditRequest } from './types'

// Marks a request that an `ignore` rule matched (set by the server hook on the request as Node
// made it, before Express re-prototypes it, so adding it is cheap). A request already running
// inside its context is marked on its exchange (see exchange-state.ts).
const IGNORED = Symbol.for('boundary-audit.nestjs.ignored')
const HOOKED = Symbol.for('boundary-audit.nestjs.server-hooked')

type Flags = Record<symbol, unknown>

/**
 * Opens the exchange as soon as the HTTP server receives the request, before Nest's body parser,
 * global-prefix routing or anything else that can answer without reaching module middleware (a
 * malformed JSON body gets a 400 from the parser; a path outside the global prefix a 404). Only
 * tracks: the audit context is entered later by the middleware, after the body is read, because
 * stream callbacks of the request body do not carry an async context opened before them.
 */
export function hookServer(server: unknown, runtime: AuditRuntime, responseCounted: boolean): boolean {
  const s = server as (NodeJS.EventEmitter & Flags) | undefined
  if (!s || typeof s.prependListener !== 'function' || s[HOOKED]) return false
  s[HOOKED] = true
  s.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      if (httpExchangeOf(req) !== undefined) return
      if (runtime.http.isIgnored(req as AuditRequest, splitUrl(req.url).path)) {
        ;(req as unknown as Flags)[IGNORED] = true
        return
      }
      startHttpExchange(runtime.logger, runtime.http, req as AuditRequest, res, {
        route: routeOfRequest,
        pathParams: pathParamsOf,
        responseCounted,
      })
    } catch {
      // A throw in a server 'request' listener would crash the process; the middleware retries.
    }
  })
  return true
}

/**
 * Nest middleware (applied to every route by the module): runs the rest of the request, guards,
 * pipes, interceptors, handler and filters, inside the request's audit context, so events written
 * there (record access, pg queries) carry its request id, trace id and actor. Opens the exchange
 * itself when the server hook could not (serverless handlers, a server Nest did not create).
 */
export function createAuditMiddleware(runtime: AuditRuntime, responseCounted: boolean) {
  const { logger, http } = runtime
  return function boundaryAuditNestMiddleware(
    req: AuditRequest,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const flags = req as unknown as Flags
    if (flags[IGNORED] === true) {
      next()
      return
    }
    let exchange: HttpExchange | undefined
    try {
      exchange = httpExchangeOf(req)
    } catch {
      // Carry on as if untracked: the code below opens the exchange or gives up quietly.
    }
    if (isEntered(exchange)) {
      next()
      return
    }
    let refused = false
    let verdict: 0 | 403 | 503 = 0
    try {
      const ip = safeIp(req)
      if (exchange === undefined) {
        const url: string = req.originalUrl ?? req.url ?? '/'
        if (http.isIgnored(req, splitUrl(url).path)) flags[IGNORED] = true
        else
          exchange = startHttpExchange(logger, http, req, res, {
            clientIp: ip,
            url,
            route: routeOfRequest,
            pathParams: pathParamsOf,
            responseCounted,
          })
      } else if (ip !== undefined) {
        // Express's req.ip applies the app's `trust proxy` setting, which the server hook could not.
        const normalized = normalizeIp(ip)
        if (normalized) exchange.context.clientIp = normalized
      }
      if (exchange !== undefined) {
        markEntered(exchange)
        refused = refuseUnaudited(exchange, logger, http)
        if (!refused) {
          // Privacy monitor: scram, or an actor already known to be blocked (the interceptor checks
          // again after the guards have authenticated).
          verdict = exchange.enforce()
        }
      }
    } catch {
      // Auditing must not break the request: carry on untracked (the exchange, if open, still writes).
    }
    if (refused) respondUnavailable(res)
    else if (verdict !== 0) respondRefused(res, verdict)
    else if (exchange === undefined) next()
    else exchange.run(next)
  }
}

/**
 * Counts response body bytes at the prototype of the Express app's responses (once per Express
 * copy) rather than by wrapping `write` and `end` on each response. Every response of the app gets
 * that prototype before anything writes to it, including those the server hook tracks from the
 * start. Returns false when the adapter's instance is not an Express app we understand: each
 * exchange then wraps its own response.
 */
export function countResponses(adapter: { getInstance?: () => unknown }): boolean {
  try {
    const app = adapter.getInstance?.() as { response?: object } | undefined
    return app?.response ? installResponseCounting(Object.getPrototypeOf(app.response)) : false
  } catch {
    return false
  }
}

// `req.ip` applies the app's `trust proxy` setting (parsing X-Forwarded-For each time). With the
// setting off, Express's default, it is the socket's address, which the exchange already has: no
// need to read it. A bad custom setting can throw.
function safeIp(req: AuditRequest): string | undefined {
  try {
    const trust = req.app?.settings?.['trust proxy']
    if (trust === false || trust === undefined) return undefined
    const ip = req.ip
    return typeof ip === 'string' && ip.length > 0 ? ip : undefined
  } catch {
    return undefined
  }
}
