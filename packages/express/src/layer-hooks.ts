import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type HttpExchange,
  httpExchangeOf,
  installResponseCounting,
  joinRoute,
  respondRefused,
  routeTemplate,
  templatize,
} from '@boundary-audit/core/adapter'

/**
 * Express hands errors and route matches from layer to layer without telling the middleware that
 * started the request. To see them with `app.use(auditMiddleware())` alone (no companion error
 * handler), the prototype of Express's router Layer is wrapped once, the way APM agents do it:
 * - every layer's `next` is wrapped, so an error passed to `next(err)`, thrown, or rejected by an
 *   async handler (Express 5) is seen where it starts, even when no error handler follows;
 * - errors entering an error handler are seen too (e.g. URI decoding errors raised by the router);
 * - a route layer about to dispatch gives the route template, joined with its mount prefixes.
 * The wrappers only act on requests this package tracks and always call the original, with the
 * same arguments; they never change routing, the error, or the response.
 * Express 4 names the methods `handle_request`/`handle_error`; router 2 (Express 5) `handleRequest`/`handleError`.
 */

const HOOKED = Symbol.for('boundary-audit.express.layer-hooked')
const hookedApps = new WeakMap<object, boolean>()
// Most processes serve one app: its answer is kept at hand rather than looked up per request.
let lastApp: unknown
let lastCounted = false

type Next = (err?: unknown) => void
type LayerMethod = (this: LayerLike, ...args: any[]) => unknown

interface LayerLike {
  handle?: unknown
  route?: { path?: unknown }
}

/** What the hooks learnt about one request while it was routed. */
interface Routing {
  /** Parameter value -> name, from routers mounted under parameters. */
  mountParams: Map<string, string> | undefined
  /** Values of the dispatched route's parameters (pseudonymised in the logged path). */
  routeParams: string[] | undefined
  lastNext: Next | undefined
  lastWrapped: Next | undefined
}

/**
 * Wraps the Layer prototype of the Express copy that `app` comes from, once, and installs response
 * byte counting on that copy's response prototype (cheaper than wrapping every response).
 * Returns true when responses of this app are counted at the prototype.
 */
export function hookExpressApp(app: unknown): boolean {
  if (app === lastApp) return lastCounted
  if (app === null || (typeof app !== 'object' && typeof app !== 'function')) return false
  const known = hookedApps.get(app as object)
  if (known !== undefined) {
    lastApp = app
    lastCounted = known
    return known
  }
  let counted = false
  try {
    const a = app as { _router?: { stack?: unknown[] }; router?: { stack?: unknown[] }; response?: object }
    // app.response is per app; its prototype is the Express copy's response object, shared by sub-apps.
    if (a.response) counted = installResponseCounting(Object.getPrototypeOf(a.response))
    // Express 4 keeps its router in `_router` (its `router` getter throws); Express 5 in `router`.
    const router = a._router ?? a.router
    const layer = router?.stack?.[0]
    if (layer) hookLayerPrototype(Object.getPrototypeOf(layer))
  } catch {
    // Not an Express app we understand: errors and routes are then read from req.route at the end.
  }
  hookedApps.set(app as object, counted)
  lastApp = app
  lastCounted = counted
  return counted
}

/** Which of the two spellings `proto` has: Express 4 snake_case, router 2 (Express 5) camelCase. */
function methodNamed(
  proto: Record<string | symbol, unknown>,
  snake: string,
  camel: string,
): string | undefined {
  if (typeof proto[snake] === 'function') return snake
  return typeof proto[camel] === 'function' ? camel : undefined
}

export function hookLayerPrototype(proto: Record<string | symbol, unknown> | null): boolean {
  if (!proto) return false
  if (proto[HOOKED]) return true
  const requestName = methodNamed(proto, 'handle_request', 'handleRequest')
  const errorName = methodNamed(proto, 'handle_error', 'handleError')
  if (!requestName || !errorName) return false

  const handleRequest = proto[requestName] as LayerMethod
  const handleError = proto[errorName] as LayerMethod

  proto[requestName] = function boundaryAuditHandleRequest(
    this: LayerLike,
    req: IncomingMessage,
    res: unknown,
    next: Next,
  ) {
    const exchange = httpExchangeOf(req)
    // Privacy monitor, before every layer of a tracked request: once an authentication middleware
    // (app-level or inside the route) has set the actor, a blocked actor is refused before the next
    // handler runs. One property read per layer while nothing is blocked or scrammed.
    if (exchange !== undefined && !exchange.done) {
      const verdict = exchange.enforce()
      if (verdict !== 0) return respondRefused(res as ServerResponse, verdict)
    }
    // Handlers inside a route (they own a `method` field) need no wrapping: their errors reach the
    // route's `done`, which is the wrapped `next` of the route layer.
    if (exchange === undefined || exchange.done || typeof next !== 'function' || 'method' in this) {
      return handleRequest.call(this, req, res, next)
    }
    const routing = routingOf(exchange)
    try {
      noteLayer(this, req, exchange, routing)
    } catch {
      // Route bookkeeping must never get in the way of the request.
    }
    return handleRequest.call(this, req, res, wrapNext(routing, exchange, next))
  }

  proto[errorName] = function boundaryAuditHandleError(
    this: LayerLike,
    error: unknown,
    req: IncomingMessage,
    res: unknown,
    next: Next,
  ) {
    const exchange = httpExchangeOf(req)
    if (exchange === undefined || exchange.done || typeof next !== 'function') {
      return handleError.call(this, error, req, res, next)
    }
    exchange.setError(error)
    return handleError.call(this, error, req, res, wrapNext(routingOf(exchange), exchange, next))
  }

  Object.defineProperty(proto, HOOKED, { value: true })
  return true
}

function routingOf(exchange: HttpExchange): Routing {
  let routing = exchange.adapterState as Routing | undefined
  if (routing === undefined) {
    routing = { mountParams: undefined, routeParams: undefined, lastNext: undefined, lastWrapped: undefined }
    exchange.adapterState = routing
  }
  return routing
}

// One router passes the same `next` to all its layers, so the wrapper is cached per request.
function wrapNext(routing: Routing, exchange: HttpExchange, next: Next): Next {
  if (routing.lastNext === next) return routing.lastWrapped as Next
  // next(undefined) and next() mean the same to both routers, so the argument is passed as is.
  const wrapped: Next = function boundaryAuditNext(err?: unknown) {
    if (err !== undefined) exchange.setError(err)
    return next(err)
  }
  routing.lastNext = next
  routing.lastWrapped = wrapped
  return wrapped
}

function noteLayer(layer: LayerLike, req: IncomingMessage, exchange: HttpExchange, routing: Routing): void {
  const r = req as unknown as { baseUrl?: string; params?: Record<string, unknown> }
  const route = layer.route
  if (route !== undefined && route !== null) {
    // The route layer about to dispatch: the request reached a handler (the last one wins after next('route')).
    exchange.setRoute(joinRoute(templatize(r.baseUrl ?? '', routing.mountParams), routeTemplate(route.path)))
    routing.routeParams = stringValues(r.params)
    return
  }
  const params = r.params
  if (params === undefined || params === null) return
  // A middleware or router mounted under a path with parameters: remember value -> name so the
  // mount prefix in req.baseUrl (actual values) can be turned back into a template.
  for (const name in params) {
    const value = params[name]
    if (typeof value !== 'string' || value.length === 0) continue
    if (routing.mountParams === undefined) routing.mountParams = new Map()
    routing.mountParams.set(value, name)
  }
}

function stringValues(params: Record<string, unknown> | undefined): string[] | undefined {
  if (params === undefined || params === null) return undefined
  let out: string[] | undefined
  for (const name in params) {
    const value = params[name]
    if (typeof value !== 'string' || value.length === 0) continue
    if (out === undefined) out = []
    out.push(value)
  }
  return out
}

/** Route template read from `req.route` when the hooks could not see the dispatch. */
export function routeFromRequest(req: IncomingMessage): string | undefined {
  const r = req as unknown as { baseUrl?: string; route?: { path?: unknown } }
  if (!r.route) return undefined
  const routing = httpExchangeOf(req)?.adapterState as Routing | undefined
  return joinRoute(templatize(r.baseUrl ?? '', routing?.mountParams), routeTemplate(r.route.path))
}

/**
 * Raw values of the parameters the request matched (mount prefixes and route), so core can
 * pseudonymise the path segments that hold them (`/patients/MRN-1/notes` with `:pid` = `MRN-1`).
 */
export function pathParamsFromRequest(req: IncomingMessage): string[] | undefined {
  const routing = httpExchangeOf(req)?.adapterState as Routing | undefined
  const route =
    routing?.routeParams ?? stringValues((req as unknown as { params?: Record<string, unknown> }).params)
  const mount = routing?.mountParams
  if (!mount || mount.size === 0) return route
  return route ? [...mount.keys(), ...route] : [...mount.keys()]
}
