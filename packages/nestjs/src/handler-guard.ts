import type { ServerResponse } from 'node:http'
import { httpExchangeOf } from '@boundary-audit/core/adapter'
import type { CanActivate, ExecutionContext } from '@nestjs/common'
import { accessHandled, markAccessHandled, writeAccess } from './access'
import { keepLogger, keptLogger, keptParams, markRouted } from './exchange-state'
import type { AccessSpec } from './handler-info'
import { handlerInfo } from './handler-info'
import type { AuditRuntime } from './runtime'
import type { AuditRequest } from './types'

/**
 * A global guard that never rejects. It only reads what Nest knows once a route is matched (the
 * controller and handler, and the `@Audit` spec) and puts it on the request's exchange, so that the
 * `http-request` event names them even when a later guard, a pipe or a filter rejects the request.
 * For an `@Audit` handler it also leaves the module's logger where the handler's interceptor finds
 * it. The module moves it to the front of the global guards; see `placeGlobalEnhancers`.
 */
export class AuditHandlerGuard implements CanActivate {
  constructor(private readonly runtime: AuditRuntime) {}

  canActivate(context: ExecutionContext): boolean {
    try {
      if (context.getType() !== 'http') return true
      // The HTTP arguments by index, as switchToHttp().getRequest() reads them: switchToHttp() adds
      // three new closures to the context object on every call, which V8 handles as new properties.
      const req = context.getArgByIndex<AuditRequest>(0)
      const info = handlerInfo(context.getHandler(), context.getClass())
      const exchange = req ? httpExchangeOf(req) : undefined
      if (exchange) {
        exchange.setHandler(info.names)
        const route = routeOf(req)
        if (route !== undefined) exchange.setRoute(route)
        // Express may restore the parameters of an outer router once this route is left; keep these.
        markRouted(exchange, paramValues(req.params))
      }
      const spec = info.spec
      if (spec) {
        if (exchange) keepLogger(exchange, this.runtime.logger)
        else if (req) untrackedLoggers.set(req, this.runtime.logger)
        this.armAccessFallback(spec, req, context.getArgByIndex<ServerResponse>(1))
      }
    } catch {
      // A guard that throws would turn every request into a 500: never let ours.
    }
    return true
  }

  /**
   * Guards run before interceptors, so a request rejected by a later guard never reaches the
   * interceptor that writes the access event (nor does one answered by an outer interceptor). This
   * writes it (outcome from the status) when the response ends, unless the interceptor took care of it.
   */
  private armAccessFallback(spec: AccessSpec, req: AuditRequest, res: ServerResponse): void {
    if (typeof res?.once !== 'function') return
    const { logger } = this.runtime
    let fired = false
    const fire = () => {
      if (fired || accessHandled(req)) return
      fired = true
      markAccessHandled(req)
      const aborted = !res.writableFinished
      const status = res.headersSent ? res.statusCode : undefined
      const outcome = aborted ? 'unknown' : status !== undefined && status < 400 ? 'success' : 'failure'
      const reason = aborted
        ? 'aborted: the client closed the connection before the handler ran'
        : // An outer interceptor (a cache) may answer without calling the handler: not a rejection.
          `${status !== undefined && status < 400 ? 'answered' : 'rejected'} before the handler ran${status !== undefined ? ` (HTTP ${status})` : ''}`
      const write = () => writeAccess(logger, spec, req, outcome, undefined, reason)
      const exchange = httpExchangeOf(req)
      // Response events fire outside the request's async context: re-enter it for ids and actor.
      if (exchange) logger.runWithContext(exchange.context, write)
      else write()
    }
    res.once('finish', fire)
    res.once('close', fire)
  }
}

// The logger for an `@Audit` handler's request that no exchange tracks (an `ignore` rule matched it:
// its access event is still written). Weak: the entry goes with the request.
const untrackedLoggers = new WeakMap<object, AuditRuntime['logger']>()

/** The logger the guard left for this request's `@Audit` interceptor. */
export function auditLoggerOf(req: AuditRequest): AuditRuntime['logger'] | undefined {
  return keptLogger(httpExchangeOf(req)) ?? untrackedLoggers.get(req)
}

/** Raw values of the matched route's parameters, pseudonymised in `url.path` by core. */
export function pathParamsOf(req: AuditRequest): readonly string[] | undefined {
  return keptParams(req ? httpExchangeOf(req) : undefined) ?? paramValues(req?.params)
}

function paramValues(params: unknown): string[] | undefined {
  if (params === null || typeof params !== 'object') return undefined
  const out: string[] = []
  for (const value of Object.values(params as Record<string, unknown>)) {
    // Express 5 gives a named wildcard (`{*path}`) as an array of segments.
    if (typeof value === 'string') out.push(value)
    else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') out.push(v)
  }
  return out.length > 0 ? out : undefined
}

/** The route template Express matched (`/patients/:id`), prefix and version included. */
export function routeOf(req: AuditRequest): string | undefined {
  const path = req?.route?.path
  return typeof path === 'string' ? path : undefined
}

/** Name of the wildcard the module's middleware is mounted with (module.ts). */
export const MIDDLEWARE_WILDCARD = 'boundaryAuditPath'

/**
 * The route read when the event is written and no handler was reached (the guard sets it otherwise):
 * a route of the app, but never the module's own middleware wildcard, which is what `req.route`
 * still names when no route matched (a 404): such a request has no route.
 */
export function routeOfRequest(req: AuditRequest): string | undefined {
  const route = routeOf(req)
  return route?.includes(`{*${MIDDLEWARE_WILDCARD}}`) ? undefined : route
}
