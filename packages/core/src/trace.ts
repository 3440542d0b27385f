import { defaultLoader } from './otel/load'

/**
 * Trace correlation from OpenTelemetry, when the app has @opentelemetry/api installed.
 * It is an optional peer: loaded lazily with require so core works without it.
 */
interface SpanContextLike {
  traceId: string
  spanId: string
  traceFlags: number
}
interface OtelApiLike {
  trace: { getActiveSpan(): { spanContext(): SpanContextLike } | undefined }
}

let api: OtelApiLike | null | undefined

function loadApi(): OtelApiLike | null {
  if (api !== undefined) return api
  try {
    // defaultLoader resolves from this package in both the ESM and the CommonJS build.
    api = defaultLoader()('@opentelemetry/api') as OtelApiLike
  } catch {
    api = null
  }
  return api
}

const INVALID_TRACE = '00000000000000000000000000000000'

/** The active span's ids, or undefined when there is no valid active span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  const otel = loadApi()
  if (!otel) return undefined
  const span = otel.trace.getActiveSpan()
  if (!span) return undefined
  const sc = span.spanContext()
  if (!sc || sc.traceId === INVALID_TRACE) return undefined
  return { traceId: sc.traceId, spanId: sc.spanId }
}
