import type { AuditLogger } from '@boundary-audit/core'
import { auditQuery } from './audit-query'
import { checkAudit, resolveOptions } from './options'
import { WRAPPED } from './state'
import { createTracer, type Endpoint, type Tracer } from './tracer'
import type { PgAuditOptions } from './types'

type AnyFunction = (...args: unknown[]) => unknown

/**
 * Audits every query of one pg Client (or a PoolClient). The client itself is returned: same object,
 * same class, same events; only its `query` method is replaced by an own property that calls the
 * original. Wrapping twice is a no-op.
 */
export function wrapClient<C extends object>(client: C, audit: AuditLogger, options?: PgAuditOptions): C {
  checkAudit(audit, 'wrapClient')
  if (!client || typeof (client as { query?: unknown }).query !== 'function') {
    throw new TypeError(
      'boundary-audit: wrapClient(client, ...) needs a pg Client (an object with a query method)',
    )
  }
  return attachClient(client, createTracer(audit, resolveOptions(options)))
}

/** Installs the query layer on one client instance (used by wrapClient and wrapPool). */
export function attachClient<C extends object>(client: C, tracer: Tracer): C {
  const c = client as C & { [WRAPPED]?: Tracer; query: AnyFunction }
  if (Object.hasOwn(c, WRAPPED)) return client
  const original = c.query
  Object.defineProperty(c, 'query', {
    configurable: true,
    enumerable: false,
    writable: true,
    value: function query(this: Endpoint) {
      // biome-ignore lint/complexity/noArguments: passed through as-is, like pg receives it
      return auditQuery(tracer, original, this, arguments)
    },
  })
  Object.defineProperty(c, WRAPPED, { configurable: true, enumerable: false, value: tracer })
  return client
}
