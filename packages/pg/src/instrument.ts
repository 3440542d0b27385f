import type { AuditLogger } from '@boundary-audit/core'
import { auditPoolConnect, auditPoolQuery } from './audit-pool'
import { auditQuery } from './audit-query'
import { checkAudit, resolveOptions } from './options'
import { WRAPPED } from './state'
import { createTracer, type Endpoint, type Tracer } from './tracer'
import type { PgAuditOptions, Uninstrument } from './types'

type AnyFunction = (...args: unknown[]) => unknown

/** What instrumentPg leaves on pg's Client.prototype: the current tracer and how to undo. */
interface Patch {
  tracer: Tracer
  uninstrument: Uninstrument
}

interface PgModule {
  Client: { prototype: { query: AnyFunction } }
  Pool?: { prototype: { query: AnyFunction; connect: AnyFunction } }
}

/** `import pg from 'pg'`, `import * as pg from 'pg'` and `require('pg')` all work. */
function moduleOf(pg: unknown): PgModule | undefined {
  const candidates = [pg, (pg as { default?: unknown } | null)?.default]
  for (const m of candidates) {
    const client = (m as { Client?: { prototype?: { query?: unknown } } } | null)?.Client
    if (typeof client?.prototype?.query === 'function') return m as PgModule
  }
  return undefined
}

/**
 * Patches the pg module so that every Client, including those created later by code you do not
 * control (Knex, TypeORM, Drizzle, pg.Pool), audits its queries. Idempotent: the prototype is
 * patched once; a later call replaces the logger and options in place. Returns a function that
 * removes the patch.
 */
export function instrumentPg(pg: unknown, audit: AuditLogger, options?: PgAuditOptions): Uninstrument {
  checkAudit(audit, 'instrumentPg')
  const mod = moduleOf(pg)
  if (!mod) {
    throw new TypeError("boundary-audit: instrumentPg(pg, ...) needs the pg module (import pg from 'pg')")
  }
  const tracer = createTracer(audit, resolveOptions(options))
  const proto = mod.Client.prototype as { query: AnyFunction; [WRAPPED]?: Patch }
  const existing = proto[WRAPPED]
  if (existing) {
    existing.tracer = tracer
    return existing.uninstrument
  }

  const restore: (() => void)[] = []
  const patch: Patch = {
    tracer,
    uninstrument: () => {
      for (const undo of restore.splice(0)) undo()
      delete proto[WRAPPED]
    },
  }

  const query = proto.query
  replace(
    proto,
    'query',
    function query_(this: Endpoint) {
      // biome-ignore lint/complexity/noArguments: passed through as-is, like pg receives it
      return auditQuery(patch.tracer, query, this, arguments)
    },
    restore,
  )

  // pg.Pool is pg's own subclass of pg-pool: patching its prototype leaves other pg-pool users alone.
  const poolProto = mod.Pool?.prototype
  if (poolProto && typeof poolProto.query === 'function' && typeof poolProto.connect === 'function') {
    const poolQuery = poolProto.query
    const poolConnect = poolProto.connect
    replace(
      poolProto,
      'query',
      function query_(this: object) {
        // biome-ignore lint/complexity/noArguments: passed through as-is, like pg-pool receives it
        return auditPoolQuery(patch.tracer, poolQuery, this, arguments)
      },
      restore,
    )
    replace(
      poolProto,
      'connect',
      function connect_(this: object) {
        // biome-ignore lint/complexity/noArguments: passed through as-is, like pg-pool receives it
        return auditPoolConnect(poolConnect, this, arguments)
      },
      restore,
    )
  }

  Object.defineProperty(proto, WRAPPED, { configurable: true, enumerable: false, value: patch })
  return patch.uninstrument
}

/** Sets an own method on `target`, remembering how to put back what was there (own or inherited). */
function replace(target: object, key: string, fn: AnyFunction, restore: (() => void)[]): void {
  const own = Object.getOwnPropertyDescriptor(target, key)
  Object.defineProperty(target, key, { configurable: true, enumerable: false, writable: true, value: fn })
  restore.push(() => {
    if (own) Object.defineProperty(target, key, own)
    else delete (target as Record<string, unknown>)[key]
  })
}
