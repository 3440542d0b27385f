/**
 * watchLogExporter(): wraps the application's OpenTelemetry log exporter (OTLPLogExporter, say) so
 * that the audit logger can say what became of its records, and so that shutdown is bounded.
 *
 * Why here: boundary-audit hands its records to the SDK's logger (the app's LoggerProvider), and the
 * export happens later, in the app's processor and exporter; a collector that is gone is invisible
 * to the audit logger unless it can see the exporter's results. And with the collector gone, the OTLP
 * exporter retries each batch with backoff for up to its timeout (10 s by default: 1 + 1.5 + 2.25 +
 * 3.4 s of waits), and its shutdown() waits for those retries: `sdk.shutdown()` took 8.4 s, a third of
 * Kubernetes' grace period, to deliver nothing.
 *
 * What it does: counts records exported and records whose export failed (`audit.stats().otel`, when
 * the logger is given it as `otel.exporter`); and once shutdown has begun (the audit logger closed,
 * or the exporter's own shutdown() called), gives each export at most `shutdownExportMs` before it
 * reports it failed, and the exporter's shutdown() as long. In normal running the exporter retries
 * as it always does.
 */

/** The ExportResult the SDK's processors read: code 0 success, 1 failure (ExportResultCode). */
export interface LogExportResult {
  code: number
  error?: Error
}

/** What the SDK's log processors call on an exporter (LogRecordExporter of @opentelemetry/sdk-logs). */
export interface LogExporterLike {
  export(records: readonly unknown[], done: (result: LogExportResult) => void): void
  shutdown(): Promise<void>
  forceFlush?(): Promise<void>
}

export interface WatchLogExporterOptions {
  /** Longest an export, and the exporter's shutdown, may take once shutdown has begun. Default 2000 ms. */
  shutdownExportMs?: number
}

/** Records exported and records whose export failed (or was given up at shutdown). */
export interface LogExportCounts {
  exported: number
  failed: number
}

export interface WatchedLogExporter extends LogExporterLike {
  forceFlush(): Promise<void>
  /** Counts so far. */
  readonly counts: LogExportCounts
  /** Shutdown has begun: bound what is in flight and what comes (the audit logger calls it on close). */
  beginShutdown(): void
}

const SUCCESS = 0
const FAILED = 1
const DEFAULT_SHUTDOWN_EXPORT_MS = 2000
/** Marks what watchLogExporter returned, so that createAuditLogger can check its option. */
const WATCHED = Symbol.for('boundary-audit.watched-log-exporter')

export function watchLogExporter(
  exporter: LogExporterLike,
  options: WatchLogExporterOptions = {},
): WatchedLogExporter {
  if (!exporter || typeof exporter.export !== 'function' || typeof exporter.shutdown !== 'function') {
    throw new TypeError(
      'boundary-audit: watchLogExporter(exporter) needs a log exporter (an object with export() and shutdown(), such as new OTLPLogExporter())',
    )
  }
  const bound = options.shutdownExportMs ?? DEFAULT_SHUTDOWN_EXPORT_MS
  if (!Number.isFinite(bound) || bound < 0) {
    throw new TypeError(
      `boundary-audit: shutdownExportMs must be a number of ms, 0 or more; got ${String(bound)}`,
    )
  }
  const counts: LogExportCounts = { exported: 0, failed: 0 }
  let shuttingDown = false
  /** Exports in flight: each settles once, by the exporter or by the shutdown bound. */
  const pending = new Set<() => void>()

  const watched: WatchedLogExporter = {
    export(records, done) {
      let settled = false
      let timer: NodeJS.Timeout | undefined
      const settle = (result: LogExportResult) => {
        if (settled) return
        settled = true
        pending.delete(giveUp)
        if (timer) clearTimeout(timer)
        if (result.code === SUCCESS) counts.exported += records.length
        else counts.failed += records.length
        done(result)
      }
      const giveUp = () => {
        timer = setTimeout(
          () => settle({ code: FAILED, error: new Error(`export given up at shutdown after ${bound} ms`) }),
          bound,
        )
      }
      pending.add(giveUp)
      if (shuttingDown) giveUp()
      try {
        exporter.export(records, settle)
      } catch (err) {
        settle({ code: FAILED, error: err instanceof Error ? err : new Error(String(err)) })
      }
    },
    beginShutdown() {
      if (shuttingDown) return
      shuttingDown = true
      for (const giveUp of pending) giveUp()
    },
    async shutdown() {
      watched.beginShutdown()
      // The OTLP exporter's shutdown waits for its sends, retries included: bounded too.
      await withinBound(exporter.shutdown(), bound)
    },
    async forceFlush() {
      const flush = exporter.forceFlush?.()
      if (flush) await (shuttingDown ? withinBound(flush, bound) : flush)
    },
    get counts() {
      return { ...counts }
    },
  }
  Object.defineProperty(watched, WATCHED, { value: true })
  return watched
}

/** Whether `value` is what watchLogExporter returned. */
export function isWatchedLogExporter(value: unknown): value is WatchedLogExporter {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[WATCHED] === true
}

/** `promise`, or nothing more to wait for after `ms`; a rejection is swallowed (shutdown goes on). */
function withinBound(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    promise.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      () => {
        clearTimeout(timer)
        resolve()
      },
    )
  })
}
