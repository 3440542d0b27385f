/** The parts of a W3C `traceparent` header that the audit trail uses. */
export interface TraceParent {
  traceId: string
  /** The caller's span id (`parent-id`). */
  spanId: string
  sampled: boolean
}

// version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex only (W3C Trace Context, level 1).
// Future versions may append fields after another "-", so only version 00 must end at 55 characters.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE = '00000000000000000000000000000000'
const ZERO_SPAN = '0000000000000000'

/**
 * Parses a `traceparent` header. Returns undefined for anything invalid: wrong shape, uppercase hex,
 * version `ff`, extra fields on version 00, or all-zero trace or parent ids.
 */
export function parseTraceparent(header: string | readonly string[] | undefined): TraceParent | undefined {
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header
  if (typeof value !== 'string' || value.length < 55 || value.length > 512) return undefined
  const m = TRACEPARENT.exec(value.trim())
  if (!m) return undefined
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ]
  if (version === 'ff') return undefined
  if (version === '00' && rest !== undefined) return undefined
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 }
}
