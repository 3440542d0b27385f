import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuditLogger } from '@boundary-audit/core'
import {
  type HttpExchange,
  httpExchangeOf,
  refuseUnaudited,
  respondRefused,
  respondUnavailable,
  splitUrl,
  startHttpExchange,
} from '@boundary-audit/core/adapter'
import { hookExpressApp, pathParamsFromRequest, routeFromRequest } from './layer-hooks'
import { assertLogger, compileOptions } from './options'
import type {
  AuditErrorRequestHandler,
  AuditRequest,
  AuditRequestHandler,
  ExpressAuditOptions,
} from './types'

/**
 * Express middleware (4 and 5) that writes one `http-request` audit event per request, when the
 * response finishes or the client aborts, and runs the rest of the request inside the audit
 * context so events written by handlers and the database adapter carry the same request id,
 * trace id and actor. Register it first: `app.use(auditMiddleware(audit, options))`.
 */
export function auditMiddleware(audit: AuditLogger, options?: ExpressAuditOptions): AuditRequestHandler {
  assertLogger(audit, 'auditMiddleware')
  const config = compileOptions(options)

  return function boundaryAuditMiddleware(
    request: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ) {
    const req = request as AuditRequest
    let exchange: HttpExchange | undefined
    try {
      // Mounted twice (app and sub-app, or by the Nest adapter too): the first one tracks the
      // request. Ignored requests are left alone.
      const url: string = req.originalUrl ?? req.url ?? '/'
      if (
        httpExchangeOf(req) === undefined &&
        !(config.hasIgnoreRules && config.isIgnored(req, splitUrl(url).path))
      ) {
        const app = req.app
        const hooked = hookExpressApp(app)
        exchange = startHttpExchange(audit, config, req, res, {
          clientIp: safeIp(req, app),
          url,
          route: routeFromRequest,
          pathParams: pathParamsFromRequest,
          responseCounted: hooked,
        })
        if (refuseUnaudited(exchange, audit, config)) {
          respondUnavailable(res)
          return
        }
        // Privacy monitor: a blocked actor known already (identity headers, earlier auth) or a scram.
        const verdict = exchange.enforce()
        if (verdict !== 0) {
          respondRefused(res, verdict)
          return
        }
      }
    } catch {
      // A bug or a hostile request must not break the app: run it unaudited, or refuse it when
      // the service asked to fail closed.
      if (config.failClosed) return respondUnavailable(res)
    }
    // Outside the try: errors of the rest of the chain belong to Express, not to this middleware.
    if (exchange === undefined) return next()
    exchange.run(next)
  }
}

/**
 * Optional companion error handler, for setups where the automatic capture cannot see errors
 * (e.g. a router from another copy of Express). Place it before your own error handlers:
 * it records the error on the request's event and passes it on unchanged.
 */
export function auditErrorHandler(): AuditErrorRequestHandler {
  return function boundaryAuditErrorHandler(err, req, _res, next) {
    httpExchangeOf(req)?.setError(err)
    next(err)
  }
}

// `req.ip` applies the app's `trust proxy` setting (parsing X-Forwarded-For each time). With the
// setting off, Express's default, it is the socket's address, read directly. A bad custom setting
// can throw.
function safeIp(req: AuditRequest, app: AuditRequest['app']): string | undefined {
  try {
    const trust = app?.settings?.['trust proxy']
    const ip = trust === false || trust === undefined ? req.socket?.remoteAddress : req.ip
    return typeof ip === 'string' && ip.length > 0 ? ip : undefined
  } catch {
    return undefined
  }
}
