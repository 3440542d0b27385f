import type { IncomingMessage, ServerResponse } from 'node:http'
import { currentContext, ownStore, runInStore } from '../context'
import { type Drain, drainOf } from '../drain'
import { policyOf } from '../logger-policy'
import { RequestScope, SCOPE, scopeOf } from '../request-scope'
import { activeTraceIds } from '../trace'
import type { AuditContext, AuditLogger, HttpRequestRecord, Outcome } from '../types'
import { pickHeaders } from './headers'
import type { HttpAuditConfig } from './options'
import { BLOCKED_REASON, monitorVerdict, SCRAM_REASON } from './refuse'
import { lookup, track, untrack } from './registry'
import { requestIdFrom } from './request-id'
import { parseTraceparent } from './traceparent'
import { queryKeys, splitUrl } from './url'

const MAX_USER_AGENT_LENGTH = 512
const ABORTED = 'aborted: the connection closed before the response was complete'
const REFUSED = 'refused: the audit sink cannot accept events (failClosed)'

/** What the adapter knows at the start of a request. */
export interface HttpExchangeInit {
  /** Client address as the framework computes it (Express `req.ip` under `trust proxy`). Default: the peer address. */
  clientIp?: string
  /** Request target, path and query. Default `req.url`; Express passes `req.originalUrl`. */
  url?: string
  /**
   * Read when the event is written if no route was set, e.g. from `req.route`. It gets the request,
   * so an adapter can pass one shared function instead of a closure per request.
   */
  route?: (req: IncomingMessage) => string | undefined
  /** Read when the event is written: raw route parameter values, pseudonymised in the path (see `HttpRequestRecord.pathParams`). */
  pathParams?: (req: IncomingMessage) => readonly string[] | undefined
  /** The adapter knows `installResponseCounting` covers this response (saves a lookup per request). */
  responseCounted?: boolean
}

/** One tracked HTTP request: opened by an adapter, written once when the response ends or the client aborts. */
export interface HttpExchange {
  readonly requestId: string
  /** The audit context the request runs in. */
  readonly context: AuditContext
  /** True once the event has been handed to the logger. */
  readonly done: boolean
  /**
   * False when the logger had begun closing when the request arrived: its event could not be
   * recorded, so adapters answer 503 (see `refuseUnaudited`) unless the app chose `failClosed: false`.
   */
  readonly admitted: boolean
  /** Runs `fn` inside the request's audit context (AsyncLocalStorage). */
  run<T>(fn: () => T): T
  /** Route template such as `/patients/:id`. The last call wins. */
  setRoute(route: string | undefined): void
  /** Overrides the event action (else the `actions` option, else `http-request`). */
  setAction(action: string | undefined): void
  /** Framework handler details, e.g. a Nest controller and method name. */
  setHandler(handler: { controller?: string; name?: string }): void
  /** The error the request failed with. The first one wins: later ones are usually wrappers of it. */
  setError(error: unknown): void
  /** Marks the request as refused because the audit sink is down (see `respondUnavailable`). */
  markRefused(): void
  /**
   * Asks the privacy monitor whether this request may go on, with the actor known now: 403 (blocked
   * actor) or 503 (scram) marks the request refused and the adapter answers it (`respondRefused`);
   * 0 lets it go on. Cheap when nothing is blocked. Adapters call it at the start and again just
   * before the handler (once authentication has set the actor). `reachesPhi`: the adapter knows the
   * handler accesses individuals' records (refused during a scram whatever the path).
   */
  enforce(reachesPhi?: boolean): 0 | 403 | 503
  /** A slot for the adapter's own per-request bookkeeping, so it need not add properties to the request. */
  adapterState: unknown
}

/** The exchange tracking this request, if an adapter opened one. */
export function httpExchangeOf(req: IncomingMessage): HttpExchange | undefined {
  return lookup(req) as Exchange<IncomingMessage> | undefined
}

/**
 * The exchange of the request whose audit context the caller runs in (inside `exchange.run()`),
 * found through the context's request scope: for hooks that Nest and others call with an error or
 * a value but not the request. Undefined outside a tracked request.
 */
export function currentHttpExchange(): HttpExchange | undefined {
  const req = scopeOf(currentContext())?.request
  return req !== null && typeof req === 'object' ? httpExchangeOf(req as IncomingMessage) : undefined
}

/**
 * Opens an exchange for a Node request/response pair: picks the request id (echoing it on the
 * response), the trace ids, and hooks the response so that exactly one `http-request` event is
 * written when the response closes: after it finished, or before (client abort: outcome `unknown`).
 */
export function startHttpExchange<Req extends IncomingMessage>(
  audit: AuditLogger,
  config: HttpAuditConfig<Req>,
  req: Req,
  res: ServerResponse,
  init: HttpExchangeInit = {},
): HttpExchange {
  const exchange = new Exchange(audit, config, req, res, init)
  track(req, exchange)
  return exchange
}

/** True when failClosed should refuse requests: the logger reports its sink unhealthy (or cannot say). */
export function auditUnavailable(audit: AuditLogger): boolean {
  try {
    return audit.stats().healthy !== true
  } catch {
    return true
  }
}

/**
 * Whether the adapter must answer 503 (`respondUnavailable`) instead of running the handler: the
 * logger had begun closing when the request arrived (its event could no longer be recorded; unless
 * the app chose availability with `failClosed: false`), or `failClosed: true` and the audit sink
 * cannot accept events. Marks the exchange refused. Never throws.
 */
export function refuseUnaudited<Req extends IncomingMessage>(
  exchange: HttpExchange,
  audit: AuditLogger,
  config: HttpAuditConfig<Req>,
): boolean {
  const refuse = exchange.admitted ? config.failClosed && auditUnavailable(audit) : config.refuseWhenClosed
  if (refuse) exchange.markRefused()
  return refuse
}

/** Answers 503 without running the handler. Used by failClosed. */
export function respondUnavailable(res: ServerResponse): void {
  try {
    if (!res.headersSent) {
      res.statusCode = 503
      res.setHeader('content-type', 'text/plain; charset=utf-8')
      res.setHeader('retry-after', '5')
      res.setHeader('cache-control', 'no-store')
    }
    res.end('Service Unavailable')
  } catch {
    // The socket may already be gone; nothing else to do.
  }
}

// A class rather than a closure bundle: one object per request on the hot path, methods shared.
class Exchange<Req extends IncomingMessage> implements HttpExchange {
  readonly requestId: string
  readonly context: AuditContext
  done = false
  readonly admitted: boolean
  private readonly drain: Drain | undefined
  private readonly start = process.hrtime.bigint()
  private readonly audit: AuditLogger
  private readonly config: HttpAuditConfig<Req>
  /** @internal the registry matches on it */
  readonly req: Req
  private readonly res: ServerResponse
  private readonly url: string
  private readonly routeFn: HttpExchangeInit['route']
  private readonly paramsFn: HttpExchangeInit['pathParams']
  private readonly traceId: string | undefined
  private readonly spanId: string | undefined
  private store: AuditContext | undefined
  private route: string | undefined
  private action: string | undefined
  private handler: { controller?: string; name?: string } | undefined
  private error: unknown
  private refused = false
  private refusal: string | undefined
  adapterState: unknown = undefined
  /** @internal counted by the counting write/end wrappers */
  responseBytes = 0
  /** @internal counted by the wrapped push */
  countedRequestBytes: number | undefined
  private requestBytes: number | undefined

  constructor(
    audit: AuditLogger,
    config: HttpAuditConfig<Req>,
    req: Req,
    res: ServerResponse,
    init: HttpExchangeInit,
  ) {
    this.audit = audit
    this.config = config
    this.req = req
    this.res = res
    this.url = init.url ?? req.url ?? '/'
    this.routeFn = init.route
    this.paramsFn = init.pathParams
    const headers = req.headers
    this.requestId = requestIdFrom(headers[config.requestIdHeader], policyOf(audit))

    // An active OpenTelemetry span (instrumentation-http already extracted traceparent) wins; the
    // logger reads it for nested events, so it is not copied into the context.
    const otel = activeTraceIds()
    const parent = otel ? undefined : parseTraceparent(headers.traceparent)
    const ids = otel ?? parent
    this.traceId = ids?.traceId
    this.spanId = ids?.spanId

    let userAgent = headers['user-agent']
    if (userAgent !== undefined && userAgent.length > MAX_USER_AGENT_LENGTH) {
      userAgent = userAgent.slice(0, MAX_USER_AGENT_LENGTH)
    }
    const clientIp = normalizeIp(init.clientIp ?? req.socket?.remoteAddress)
    const context: AuditContext = {
      requestId: this.requestId,
      resolveActor: () => config.resolveActor(req),
    }
    if (clientIp) context.clientIp = clientIp
    if (userAgent) context.userAgent = userAgent
    if (parent) {
      context.traceId = parent.traceId
      context.spanId = parent.spanId
    }
    // The request's own memory of the clear ids it pseudonymises and of its access events.
    ;(context as { [SCOPE]?: RequestScope })[SCOPE] = new RequestScope(init.pathParams, req)
    this.context = context

    this.requestBytes = contentLength(headers['content-length'])
    if (this.requestBytes === undefined && headers['transfer-encoding'] !== undefined) this.countRequestBody()
    // Response bytes: counted by the prototype when the adapter installed counting there (see
    // installResponseCounting), else by wrappers on this response.
    if (init.responseCounted !== true && (res as CountedResponse)[COUNTING] !== true) this.countResponseBody()

    if (config.echoRequestId) {
      try {
        res.setHeader(config.requestIdHeader, this.requestId)
      } catch {
        // Headers already sent by an earlier middleware: nothing to echo on.
      }
    }

    // Counted in flight (last, once nothing above can throw), so that close() waits for this
    // request's event before it writes the closing record.
    const drain = drainOf(audit)
    this.drain = drain
    this.admitted = drain === undefined || drain.enter()
    // Node emits 'close' on every response: right after 'finish' when it completed, or when the
    // connection went away first (client abort). One listener decides which, exactly once. It holds
    // the exchange itself: the event must not depend on finding the exchange again.
    res.on('close', () => this.onClose())
  }

  run<T>(fn: () => T): T {
    // Kept here: setActor() inside the request changes this store, and the event reads it at the
    // end even if the response finishes outside the async context (core's own store, not
    // getContext()'s resolved copy). Without an enclosing context it is this.context itself:
    // no copy and no closure per request.
    const store = ownStore(this.context)
    this.store = store
    return runInStore(store, fn)
  }

  setRoute(route: string | undefined): void {
    if (route !== undefined) this.route = route
  }

  setAction(action: string | undefined): void {
    this.action = action
  }

  setHandler(handler: { controller?: string; name?: string }): void {
    this.handler = handler
  }

  setError(error: unknown): void {
    if (
      this.error === undefined &&
      error !== undefined &&
      error !== null &&
      error !== 'route' &&
      error !== 'router'
    ) {
      this.error = error
    }
  }

  markRefused(): void {
    this.refused = true
  }

  enforce(reachesPhi?: boolean): 0 | 403 | 503 {
    const monitor = (this.audit as Partial<AuditLogger>).monitor
    if (monitor === undefined || monitor.active !== true) return 0
    let actorId: string | undefined
    try {
      actorId = (this.store?.actor ?? this.config.resolveActor(this.req))?.id
    } catch {
      actorId = undefined
    }
    const verdict = monitorVerdict(
      monitor,
      typeof actorId === 'string' ? actorId : undefined,
      splitUrl(this.url).path,
      reachesPhi,
    )
    if (verdict !== 0) {
      this.refused = true
      this.refusal = verdict === 403 ? BLOCKED_REASON : SCRAM_REASON
    }
    return verdict
  }

  private countResponseBody(): void {
    // Counts the body bytes handed to Node, whatever writes them (res.send, streams; compression
    // registered later wraps these and so is counted compressed, as sent). Used when the adapter
    // could not count at the response prototype (see installResponseCounting). The wrappers hold
    // the exchange: they keep working once it is no longer tracked (a write after the end).
    const res = this.res
    const write = res.write
    const end = res.end
    const exchange = this
    res.write = function countingWrite(this: ServerResponse, chunk: unknown, encoding?: unknown) {
      exchange.responseBytes += byteLength(chunk, encoding)
      // biome-ignore lint/complexity/noArguments: forward exactly what the caller passed
      return write.apply(this, arguments as never)
    } as typeof res.write
    res.end = function countingEnd(this: ServerResponse, chunk?: unknown, encoding?: unknown) {
      if (typeof chunk !== 'function') exchange.responseBytes += byteLength(chunk, encoding)
      // biome-ignore lint/complexity/noArguments: forward exactly what the caller passed
      return end.apply(this, arguments as never)
    } as typeof res.end
  }

  private countRequestBody(): void {
    // Chunked upload without content-length: count what the HTTP parser pushes into the request
    // stream. Wrapping push (not listening to 'data') leaves the stream's flow to the app.
    const req = this.req
    const push = req.push
    const exchange = this
    this.countedRequestBytes = req.readableLength
    req.push = function countingPush(this: IncomingMessage, chunk: unknown, encoding?: unknown) {
      if (chunk !== null && chunk !== undefined) exchange.countedRequestBytes! += byteLength(chunk, encoding)
      // biome-ignore lint/complexity/noArguments: forward exactly what the caller passed
      return push.apply(this, arguments as never)
    } as typeof req.push
  }

  private onClose(): void {
    this.finish(!this.res.writableFinished)
    // After the event: finish() still reads route and parameters through httpExchangeOf.
    untrack(this.req, this)
  }

  private finish(aborted: boolean): void {
    if (this.done) return
    this.done = true
    if (!this.admitted) {
      // Arrived while the logger was closing: its event cannot be recorded (and a refused one
      // ran no handler, so there is nothing to record).
      return
    }
    try {
      const { req, res, config } = this
      const method = req.method ?? 'GET'
      const route = this.route ?? safeCall(this.routeFn, req)
      const { path, query } = splitUrl(this.url)
      const statusCode = aborted && !res.headersSent ? undefined : res.statusCode
      const error = this.error

      let outcome: Outcome
      let reason: string | undefined
      if (aborted) {
        outcome = 'unknown'
        reason = ABORTED
      } else if (error !== undefined || (statusCode !== undefined && statusCode >= 400)) {
        outcome = 'failure'
      } else {
        outcome = 'success'
      }
      if (this.refused) reason = this.refusal ?? REFUSED

      const record: HttpRequestRecord = {
        method,
        path,
        outcome,
        durationNs: Number(process.hrtime.bigint() - this.start),
        requestId: this.requestId,
      }
      if (route !== undefined) record.route = route
      const params = safeParams(this.paramsFn, req)
      if (params) record.pathParams = params
      const keys = queryKeys(query)
      if (keys) record.queryKeys = keys
      if (statusCode !== undefined) record.statusCode = statusCode
      const requestBytes = this.requestBytes ?? this.countedRequestBytes
      if (requestBytes !== undefined) record.requestBytes = requestBytes
      record.responseBytes = hasNoBody(method, statusCode) ? 0 : this.responseBytes
      const ctx = this.context
      if (ctx.userAgent) record.userAgent = ctx.userAgent
      if (ctx.clientIp) record.clientIp = ctx.clientIp
      const headers = pickHeaders(req.headers, config.headerAllowList)
      if (headers) record.headers = headers
      if (reason !== undefined) record.reason = reason
      if (error !== undefined) record.error = error
      const actor = this.store?.actor ?? config.resolveActor(req)
      if (actor) record.actor = actor
      // One count per read: a route's action names this event only when the request wrote no access
      // event of that action (which is then the record of the read); otherwise it stays `http-request`.
      const scope = scopeOf(this.context)
      let action = this.action ?? config.actionFor(method, route)
      if (this.action === undefined && action !== undefined && scope?.wroteAccess(action)) action = undefined
      if (action) record.action = action
      if (scope !== undefined) (record as { [SCOPE]?: RequestScope })[SCOPE] = scope
      if (this.handler) record.handler = this.handler
      if (this.traceId) {
        record.traceId = this.traceId
        if (this.spanId) record.spanId = this.spanId
      }
      this.audit.httpRequest(record)
    } catch {
      // Runs in a response event listener: a throw here would crash the host process.
    }
    this.drain?.leave()
  }
}

// The counting wrappers find their exchange through the request (`res.req` is set by Node).
type CountedResponse = ServerResponse & { req?: IncomingMessage; [COUNTING]?: boolean }

const COUNTING = Symbol.for('boundary-audit.http-exchange.counting')

function exchangeOfResponse(res: CountedResponse): Exchange<IncomingMessage> | undefined {
  const req = res.req
  return req === undefined ? undefined : (lookup(req) as Exchange<IncomingMessage> | undefined)
}

/**
 * Counts response body bytes at a prototype shared by many responses (Express's response object)
 * instead of wrapping `write`/`end` on every response: replacing methods on each response object
 * is measurable on the hot path. The wrappers count only for responses whose request an exchange
 * tracks, and always call the original with the same arguments. Installed once per prototype.
 */
export function installResponseCounting(proto: object | null | undefined): boolean {
  if (proto === null || proto === undefined) return false
  const p = proto as Record<string | symbol, unknown>
  if (Object.hasOwn(p, COUNTING)) return true
  const originalWrite = p.write as (...args: unknown[]) => boolean
  const originalEnd = p.end as (...args: unknown[]) => unknown
  if (typeof originalWrite !== 'function' || typeof originalEnd !== 'function') return false
  Object.defineProperty(p, 'write', {
    configurable: true,
    writable: true,
    value: function write(this: CountedResponse, chunk: unknown, encoding?: unknown) {
      const ex = exchangeOfResponse(this)
      if (ex !== undefined) ex.responseBytes += byteLength(chunk, encoding)
      // biome-ignore lint/complexity/noArguments: forward exactly what the caller passed
      return originalWrite.apply(this, arguments as never)
    },
  })
  Object.defineProperty(p, 'end', {
    configurable: true,
    writable: true,
    value: function end(this: CountedResponse, chunk?: unknown, encoding?: unknown) {
      const ex = exchangeOfResponse(this)
      if (ex !== undefined && typeof chunk !== 'function') ex.responseBytes += byteLength(chunk, encoding)
      // biome-ignore lint/complexity/noArguments: forward exactly what the caller passed
      return originalEnd.apply(this, arguments as never)
    },
  })
  Object.defineProperty(p, COUNTING, { value: true })
  return true
}

function safeCall(
  fn: ((req: IncomingMessage) => string | undefined) | undefined,
  req: IncomingMessage,
): string | undefined {
  if (!fn) return undefined
  try {
    return fn(req)
  } catch {
    return undefined
  }
}

function safeParams(
  fn: ((req: IncomingMessage) => readonly string[] | undefined) | undefined,
  req: IncomingMessage,
): readonly string[] | undefined {
  if (!fn) return undefined
  try {
    const params = fn(req)
    return Array.isArray(params) && params.length > 0 ? params : undefined
  } catch {
    return undefined
  }
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null) return 0
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
  }
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength
  return 0
}

// HEAD, 1xx, 204 and 304 responses carry no body: Node discards whatever was written.
function hasNoBody(method: string, statusCode: number | undefined): boolean {
  return (
    method === 'HEAD' ||
    statusCode === 204 ||
    statusCode === 304 ||
    (statusCode !== undefined && statusCode < 200)
  )
}

function contentLength(value: string | undefined): number | undefined {
  if (value === undefined || value.length === 0 || value.length > 15 || !/^\d+$/.test(value)) return undefined
  return Number(value)
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) becomes `10.0.0.1`. */
export function normalizeIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined
  return ip.startsWith('::ffff:') && ip.indexOf('.') !== -1 ? ip.slice(7) : ip
}
