// @boundary-audit/core public entry point.
export type * from './types'
export { createAuditLogger } from './logger'
export { compilePolicy, redact, redactText, redactUrlPath, pseudonymize } from './redact/index'
export type { Policy } from './redact/index'
export * from './http/index'
