import type { AuditLogger } from '@boundary-audit/core'
import { auditPoolConnect, auditPoolQuery } from './audit-pool'
import { checkAudit, resolveOptions } from './options'
import { WRAPPED } from './state'
import { createTracer, type Tracer } from './tracer'
import type { PgAuditOptions } from './types'
import { attachClient } from './wrap-client'

type AnyFunction = (...args: unknown[]) => unknown

interface PoolInternals {
  query: AnyFunction
  connect: AnyFunction
  on(event: string, listener: (...args: unknown[]) => void): unknown
  prependListener?(event: string, listener: (...args: unknown[]) => void): unknown
  Client?: unknown
  options?: object
  [WRAPPED]?: Tracer
}

/**
 * Audits every query run through a pg Pool: pool.query, and every query of the clients it hands out
 * (pool.connect() in both styles). The pool itself is returned, same object and class; `query` and
 * `connect` become own properties that call the originals. Each query is one event (pool.query
 * runs on a pool client and is audited there). Wrapping twice is a no-op.
 */
export function wrapPool<P extends object>(pool: P, audit: AuditLogger, options?: PgAuditOptions): P {
  checkAudit(audit, 'wrapPool')
  const p = pool as P & PoolInternals
  if (!p || typeof p.query !== 'function' || typeof p.connect !== 'function' || typeof p.on !== 'function') {
    throw new TypeError(
      'boundary-audit: wrapPool(pool, ...) needs a pg Pool (an object with query, connect and on)',
    )
  }
  const tracer = createTracer(audit, resolveOptions(options))
  if (Object.hasOwn(p, WRAPPED)) return pool

  const query = p.query
  const connect = p.connect
  define(p, 'query', function query_(this: PoolInternals) {
    // biome-ignore lint/complexity/noArguments: passed through as-is, like pg-pool receives it
    return auditPoolQuery(tracer, query, this, arguments)
  })
  define(p, 'connect', function connect_(this: PoolInternals) {
    // biome-ignore lint/complexity/noArguments: passed through as-is, like pg-pool receives it
    return auditPoolConnect(connect, this, arguments)
  })

  // Clients: wrapped as they are created (so queries in onConnect hooks and 'connect' listeners
  // count too), and on checkout for clients the pool already had before it was wrapped.
  const wrap = (client: unknown) => {
    if (client && typeof client === 'object') attachClient(client, tracer)
  }
  const Client = p.Client
  if (typeof Client === 'function') {
    const Original = Client as new (...a: unknown[]) => object
    const Wrapped = function Client(this: unknown, ...a: unknown[]) {
      return attachClient(new Original(...a), tracer)
    } as unknown as { prototype: unknown }
    // `client instanceof pool.Client` keeps working; instances are real pg Clients.
    Wrapped.prototype = Original.prototype
    Object.setPrototypeOf(Wrapped, Original)
    p.Client = Wrapped
  }
  if (typeof p.prependListener === 'function') p.prependListener('connect', wrap)
  else p.on('connect', wrap)
  p.on('acquire', wrap)
  Object.defineProperty(p, WRAPPED, { configurable: true, enumerable: false, value: tracer })
  return pool
}

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { configurable: true, enumerable: false, writable: true, value })
}
