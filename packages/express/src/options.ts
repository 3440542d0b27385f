import { compileHttpAuditOptions, type HttpAuditConfig } from '@boundary-audit/core/adapter'
import type { AuditRequest, ExpressAuditOptions } from './types'

/** Validates `auditMiddleware()` options at creation; throws a TypeError saying what to change. */
export function compileOptions(options: ExpressAuditOptions | undefined): HttpAuditConfig<AuditRequest> {
  return compileHttpAuditOptions<AuditRequest>(options, { name: 'auditMiddleware options' })
}

/** Fails fast when the first argument is not an audit logger (a common slip: passing the options first). */
export function assertLogger(audit: unknown, fn: string): void {
  const a = audit as Record<string, unknown> | null | undefined
  if (
    a === null ||
    typeof a !== 'object' ||
    typeof a.httpRequest !== 'function' ||
    typeof a.runWithContext !== 'function' ||
    typeof a.getContext !== 'function' ||
    typeof a.stats !== 'function'
  ) {
    throw new TypeError(
      `boundary-audit: ${fn}(audit, options) needs the logger from createAuditLogger() as its first argument; got ${a === null ? 'null' : typeof a}`,
    )
  }
}
