import type { AccessInput, AuditLogger, Outcome, ResourceRef } from '@boundary-audit/core'
import type { AccessSpec } from './handler-info'
import type { AuditRequest } from './types'

// Set on the request once the access event of an `@Audit` handler is taken care of, so that the
// guard's fallback (for requests rejected before the interceptor) never writes a second one.
const ACCESS_HANDLED = Symbol.for('boundary-audit.nestjs.access-handled')

export function markAccessHandled(req: AuditRequest): void {
  ;(req as unknown as Record<symbol, unknown>)[ACCESS_HANDLED] = true
}

export function accessHandled(req: AuditRequest): boolean {
  return (req as unknown as Record<symbol, unknown>)[ACCESS_HANDLED] === true
}

/**
 * Writes the access event of an `@Audit` handler. The caller's resource and purpose functions run
 * here; one that throws gives a resource of type `unknown` rather than an exception in the app.
 */
export function writeAccess(
  logger: AuditLogger,
  spec: AccessSpec,
  req: AuditRequest,
  outcome: Outcome,
  error?: unknown,
  reason?: string,
): void {
  try {
    const input: AccessInput = { action: spec.action, resource: resourceOf(spec, req), outcome }
    if (spec.type !== undefined) input.type = spec.type
    if (spec.category !== undefined) input.category = spec.category
    const purpose = purposeOf(spec, req)
    if (purpose !== undefined) input.purpose = purpose
    if (error !== undefined) input.error = error
    if (reason !== undefined) input.reason = reason
    logger.access(input)
  } catch {
    // Core's logger never throws; this guards the spreading above against exotic inputs.
  }
}

function resourceOf(spec: AccessSpec, req: AuditRequest): ResourceRef {
  let value: unknown = spec.resource
  if (typeof value === 'function') {
    try {
      value = (value as (req: AuditRequest) => unknown)(req)
    } catch {
      value = undefined
    }
  }
  if (value === null || typeof value !== 'object' || typeof (value as ResourceRef).type !== 'string') {
    return { type: 'unknown' }
  }
  const { type, id } = value as ResourceRef
  return id === undefined || id === null ? { type } : { type, id }
}

function purposeOf(spec: AccessSpec, req: AuditRequest): string | undefined {
  const p = spec.purpose
  if (typeof p === 'string') return p
  if (typeof p !== 'function') return undefined
  try {
    const value = p(req)
    return typeof value === 'string' ? value : undefined
  } catch {
    return undefined
  }
}
