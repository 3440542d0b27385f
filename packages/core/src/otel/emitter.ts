import type { Context, SpanContext } from '@opentelemetry/api'
import type { Logger, LoggerProvider, LogRecord } from '@opentelemetry/api-logs'
import { SCHEMA_URL, toAttributes } from './attributes'
import { loadOtelApis, type ModuleLoader, type OtelApis } from './load'
import { severityOf } from './severity'

/** Sends finished (redacted, sealed) records as OpenTelemetry log records. */
export interface OtelEmitter {
  /** Never throws; a failure is reported once and the event still went to the other destinations. */
  emit(record: Record<string, unknown>): void
}

export interface OtelEmitterOptions {
  /** Instrumentation scope name. */
  loggerName: string
  /** Instrumentation scope version. */
  version?: string
  /** Where to say, once, that export is off or failing. Default: process.emitWarning. */
  report?: (message: string) => void
  /** Replaces `require` for the two API packages (tests use it to simulate them being absent). */
  load?: ModuleLoader
}

const NOOP: OtelEmitter = { emit() {} }

/**
 * Creates the emitter once per audit logger. The logger is looked up through the global
 * LoggerProvider, so with no SDK registered every emit goes to the API's no-op logger.
 */
export function createOtelEmitter(options: OtelEmitterOptions): OtelEmitter {
  const report = options.report ?? onceReporter()
  const apis = loadOtelApis(options.load)
  if (apis instanceof Error) {
    report(apis.message)
    return NOOP
  }
  const name = options.loggerName
  const version = options.version

  // The provider is read on every emit (a global lookup) and the Logger cached per provider: an SDK
  // started after the audit logger, or a second copy of api-logs in node_modules, is still picked up.
  let provider: LoggerProvider | undefined
  let logger: Logger | undefined
  const currentLogger = (): Logger => {
    const p = apis.logs.getLoggerProvider()
    if (p !== provider || !logger) {
      provider = p
      logger = p.getLogger(name, version, { schemaUrl: SCHEMA_URL })
    }
    return logger
  }

  let failed = false
  return {
    emit(record) {
      try {
        const target = currentLogger()
        // With no SDK registered (no-op logger) or this scope or level turned off, skip the mapping work.
        // `enabled` exists from api-logs 0.2xx; older loggers just emit.
        if (typeof target.enabled === 'function') {
          const event = record.event as { action?: unknown } | undefined
          const options = {
            severityNumber: severityOf(record['log.level']).number,
            eventName: typeof event?.action === 'string' ? event.action : undefined,
          }
          if (!target.enabled(options)) return
        }
        target.emit(toLogRecord(apis, record))
      } catch (err) {
        if (failed) return
        failed = true
        report(
          `an event could not be sent to OpenTelemetry (${(err as Error)?.name ?? typeof err}); further failures are not reported`,
        )
      }
    },
  }
}

/** The LogRecord for one record. Exported for the unit tests. */
export function toLogRecord(apis: OtelApis, record: Record<string, unknown>): LogRecord {
  const severity = severityOf(record['log.level'])
  const event = record.event as Record<string, unknown> | undefined
  const out: LogRecord = {
    severityNumber: severity.number,
    severityText: severity.text,
    body: typeof record.message === 'string' ? record.message : '',
    observedTimestamp: Date.now(),
    attributes: toAttributes(record),
    context: contextFor(apis, record),
  }
  if (typeof event?.action === 'string') out.eventName = event.action
  const ts = typeof record['@timestamp'] === 'string' ? Date.parse(record['@timestamp']) : Number.NaN
  if (!Number.isNaN(ts)) out.timestamp = ts
  return out
}

/**
 * The active context, so the SDK takes trace and span ids from the active span. When the record names
 * a different (or the only) trace, e.g. one taken from an incoming `traceparent` with no OTel tracing
 * in the process, a non-recording span context carries the record's ids instead, so the OTel record
 * and the ECS line always point at the same trace.
 */
function contextFor(apis: OtelApis, record: Record<string, unknown>): Context {
  const active = apis.context.active()
  const traceId = (record.trace as { id?: unknown } | undefined)?.id
  const spanId = (record.span as { id?: unknown } | undefined)?.id
  if (typeof traceId !== 'string' || typeof spanId !== 'string') return active
  const current = apis.trace.getSpanContext(active)
  if (current && current.traceId === traceId && current.spanId === spanId) return active
  const sc: SpanContext = {
    traceId,
    spanId,
    // Sampling is only known when the active trace is the same one.
    traceFlags: current?.traceId === traceId ? current.traceFlags : 0,
    isRemote: true,
  }
  return apis.isSpanContextValid(sc) ? apis.trace.setSpanContext(active, sc) : active
}

/** Without a logger's reporter: each message once per emitter (the logger passes its own, once per logger). */
function onceReporter(): (message: string) => void {
  const reported = new Set<string>()
  return (message) => {
    if (reported.has(message)) return
    reported.add(message)
    try {
      process.emitWarning(`boundary-audit: ${message}`, { code: 'BOUNDARY_AUDIT' })
    } catch {
      // nothing sensible left to do
    }
  }
}
