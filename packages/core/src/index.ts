// @boundary-audit/core public entry point.

export * from './http/index'
// Verifying side of the integrity chain, for auditors' own tooling (the CLI uses the same functions).
export {
  type Finding,
  type FindingKind,
  formatReport,
  generateVerifierKeyPair,
  type StreamReport,
  type VerifyOptions,
  type VerifyReport,
  verifyLines,
  verifyText,
} from './integrity/index'
export { createAuditLogger } from './logger'
// Privacy monitoring: the rules over an exported trail (the live monitor is the `monitor` option).
export { MONITOR_DEFAULTS } from './monitor/options'
export { type ReplayOptions, type ReplayResult, replayMonitor } from './monitor/replay'
export { AUDIT_LOGGER_OPTION_KEYS } from './options'
export type { Policy } from './redact/index'
export {
  compilePolicy,
  hmacPseudonym,
  loadPseudonymKey,
  type ParsedPseudonym,
  type PseudonymKey,
  parsePseudonym,
  pseudonymize,
  pseudonymKeyId,
  pseudonymMatches,
  readerPseudonymKeys,
  redact,
  redactText,
  redactUrlPath,
} from './redact/index'
export type * from './types'
