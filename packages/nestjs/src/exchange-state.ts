import type { AuditLogger } from '@boundary-audit/core'
import type { HttpExchange } from '@boundary-audit/core/adapter'

/**
 * What the Nest adapter remembers about one request. Kept on the request's exchange, not as
 * properties of the request: Express gives every request its own hidden class, so each property
 * added to one costs V8 a new class (~3 us of CPU per request and property on Node 20).
 * The slot may already hold the Express adapter's bookkeeping (auditMiddleware mounted in a Nest
 * app too): both use the same object under different names.
 */
interface NestExchangeState {
  /** The middleware runs the rest of the request inside the audit context. */
  nestEntered?: boolean
  /** The request reached a route handler's guards (a route matched). */
  nestRouted?: boolean
  /** Raw values of the matched route's parameters, read by the guard while Express still has them. */
  nestParams?: readonly string[] | undefined
  /** The logger of the module whose guard saw the request, for the `@Audit` interceptor. */
  nestLogger?: AuditLogger | undefined
}

function stateOf(exchange: HttpExchange): NestExchangeState {
  let state = exchange.adapterState as NestExchangeState | undefined | null
  if (state === undefined || state === null || typeof state !== 'object') {
    // All fields at once: one object shape for every request.
    state = { nestEntered: false, nestRouted: false, nestParams: undefined, nestLogger: undefined }
    exchange.adapterState = state
  }
  return state
}

function peek(exchange: HttpExchange | undefined): NestExchangeState | undefined {
  const state = exchange?.adapterState
  return state !== null && typeof state === 'object' ? (state as NestExchangeState) : undefined
}

export function markEntered(exchange: HttpExchange): void {
  stateOf(exchange).nestEntered = true
}

export function isEntered(exchange: HttpExchange | undefined): boolean {
  return peek(exchange)?.nestEntered === true
}

/** The guard saw the request: a route matched, whose parameters are `params`. */
export function markRouted(exchange: HttpExchange, params: readonly string[] | undefined): void {
  const state = stateOf(exchange)
  state.nestRouted = true
  state.nestParams = params
}

export function isRouted(exchange: HttpExchange | undefined): boolean {
  return peek(exchange)?.nestRouted === true
}

export function keptParams(exchange: HttpExchange | undefined): readonly string[] | undefined {
  return peek(exchange)?.nestParams
}

export function keepLogger(exchange: HttpExchange, logger: AuditLogger): void {
  stateOf(exchange).nestLogger = logger
}

export function keptLogger(exchange: HttpExchange | undefined): AuditLogger | undefined {
  return peek(exchange)?.nestLogger
}
