import { AsyncResource } from 'node:async_hooks'
import { queryShape } from './query-shape'
import { guard, type PendingPoolQuery } from './state'
import { type Endpoint, emit, prepare, type Tracer } from './tracer'

// The pool layer shared by wrapPool (per instance) and instrumentPg (per pg.Pool prototype).
// pool.query is not audited here: pg-pool runs it as this.connect(cb) + client.query(text, values,
// cb), and the client layer audits that, so each query is one event. The pool layer does two
// things only: it runs connect callbacks in the caller's async context (a waiting checkout is
// completed from whichever request released a client), and it audits a pool.query whose checkout
// failed (connection refused, pool exhausted), which never reaches a client.

type AnyFunction = (...args: unknown[]) => unknown

interface PoolLike {
  options?: { host?: unknown; port?: unknown; database?: unknown; connectionString?: unknown }
}

export function auditPoolQuery(
  tracer: Tracer,
  original: AnyFunction,
  pool: PoolLike,
  args: IArguments,
): unknown {
  if (guard.poolQueryDepth > 0) return Reflect.apply(original, pool, args)
  const start = process.hrtime.bigint()
  const pending: PendingPoolQuery = {
    connectFailed(err) {
      try {
        const shape = queryShape(args[0], args[1], args[2])
        const prepared = shape && prepare(tracer, shape.text, shape.name)
        if (prepared)
          emit(tracer, prepared, endpointOf(pool), start, err ?? new Error('connect failed'), undefined)
      } catch {
        // never into the application
      }
    },
  }
  guard.poolQueryDepth++
  guard.pendingPoolQuery = pending
  try {
    return Reflect.apply(original, pool, args)
  } finally {
    guard.poolQueryDepth--
    guard.pendingPoolQuery = undefined
  }
}

export function auditPoolConnect(original: AnyFunction, pool: PoolLike, args: IArguments): unknown {
  // pg-pool's query calls this.connect(cb) synchronously: the pending pool.query is this call's.
  const pending = guard.pendingPoolQuery
  guard.pendingPoolQuery = undefined
  const callback = args[0]
  if (guard.connectDepth > 0 || typeof callback !== 'function') {
    // Promise form: continuations attached by the caller already run in the caller's context.
    return callBelow(original, pool, args)
  }
  const scope = new AsyncResource('boundary-audit.pg.connect', { requireManualDestroy: true })
  const bound = function (this: unknown, err: unknown, client: unknown, release: unknown) {
    return scope.runInAsyncScope(function (this: unknown) {
      scope.emitDestroy()
      if (err && pending) pending.connectFailed(err)
      return callback.call(this, err, client, release)
    }, this)
  }
  return callBelow(original, pool, [bound])
}

function callBelow(original: AnyFunction, pool: unknown, args: IArguments | unknown[]): unknown {
  guard.connectDepth++
  try {
    return Reflect.apply(original, pool, args)
  } finally {
    guard.connectDepth--
  }
}

/** Server of a pool that has no client to ask: its options, or its connection string (never the password). */
export function endpointOf(pool: PoolLike): Endpoint {
  const o = pool.options ?? {}
  const endpoint: Endpoint = { host: o.host, port: o.port, database: o.database }
  if (typeof o.connectionString === 'string' && (o.host === undefined || o.database === undefined)) {
    try {
      const url = new URL(o.connectionString)
      endpoint.host ??= decodeURIComponent(url.hostname) || undefined
      endpoint.port ??= url.port || undefined
      endpoint.database ??= decodeURIComponent(url.pathname.slice(1)) || undefined
    } catch {
      // not a URL (key=value form): leave the fields out
    }
  }
  endpoint.host ??= process.env.PGHOST ?? 'localhost'
  endpoint.port ??= process.env.PGPORT ?? 5432
  endpoint.database ??= process.env.PGDATABASE
  return endpoint
}
