import { randomUuid } from '../uuid'

/** Longest incoming request id we keep. Longer values are replaced, not truncated. */
export const MAX_REQUEST_ID_LENGTH = 128

// Letters, digits and `. _ : -` cover UUIDs, ULIDs, AWS/GCP trace ids and most gateway formats,
// and keep free text (names, e-mail addresses, anything with spaces or `@`) out of the log.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]+$/

/** True when an incoming request id is a short opaque token that is safe to log and echo. */
export function isSaneRequestId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_REQUEST_ID_LENGTH &&
    SANE_REQUEST_ID.test(value)
  )
}

/**
 * The request id for an exchange: the caller's when it is a sane token (so ids correlate across
 * services), otherwise a fresh random UUID. A rejected value is dropped, never logged.
 */
export function requestIdFrom(incoming: string | readonly string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming
  return isSaneRequestId(value) ? value : randomUuid()
}
