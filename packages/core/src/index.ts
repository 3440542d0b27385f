// @boundary-audit/core: what an application uses. Framework adapters build on
// `@boundary-audit/core/adapter` (adapter.ts).

// How an HTTP adapter's options describe actors, actions and ignored requests (shared by express and
// nestjs), and the default actor resolver, for custom resolvers that fall back to it.
export type { IdentityHeaders, IdentityHeadersOption } from './http/actor'
export { actorFromClaims, conventionalActor } from './http/actor'
export type { ActionInfo, HttpAuditOptions, IgnoreRule } from './http/options'
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
// The app's OpenTelemetry log exporter, watched: stats().otel counts its results, close() bounds it.
export {
  type LogExportCounts,
  type LogExporterLike,
  type LogExportResult,
  type WatchedLogExporter,
  type WatchLogExporterOptions,
  watchLogExporter,
} from './otel/watch-exporter'
// The redaction the logger applies, for an application's other output, and pseudonyms (compute
// one to look a patient up in the trail; parse and match the ones in it).
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
} from './redact/index'
// The options, inputs and results of the logger (AuditLogger, AuditLoggerOptions, Actor, ...).
export type * from './types'
// Streaming verification and the evidence report (`boundary-audit report`), for scheduled jobs.
export {
  createEvidenceReport,
  type EvidenceCollector,
  type EvidenceOptions,
  type EvidenceReport,
  evidenceReport,
} from './verify/report/evidence'
export { verifyStream } from './verify/verifier'
