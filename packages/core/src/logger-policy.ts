// The redaction policy of a logger, for core's own HTTP code (request ids go through the logger's
// detectors, the service's own formats included). A symbol on the logger object: not public API.
import type { Policy } from './redact/index'
import type { AuditLogger } from './types'

const POLICY = Symbol.for('boundary-audit.logger-policy')

/** Attaches `policy` to `logger` (non-enumerable). */
export function attachPolicy(logger: AuditLogger, policy: Policy): void {
  Object.defineProperty(logger, POLICY, { value: policy })
}

/** The logger's policy, or undefined for a logger that is not core's (an adapter test's stand-in). */
export function policyOf(logger: AuditLogger): Policy | undefined {
  try {
    return (logger as unknown as Record<symbol, Policy | undefined>)[POLICY]
  } catch {
    return undefined
  }
}
