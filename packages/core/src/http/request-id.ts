import { hasIdentifier, type Policy } from '../redact/index'
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

// Digits and separators only: what an SSN, a phone or card number, an MRN or a date of birth
// (1961-07-04) look like. Generated ids (UUIDs, ULIDs, hex trace ids) have letters.
const DIGITS_ONLY = /^[0-9._:-]+$/

/**
 * True when an id may hold an identifier: digits and separators only, or anything the policy's value
 * detectors (SSN, email, phone, card, the service's own such as an MRN format) find in it.
 */
export function isPhiShapedRequestId(value: string, policy?: Policy): boolean {
  return DIGITS_ONLY.test(value) || hasIdentifier(value, policy)
}

/**
 * The request id for an exchange: the caller's when it is a sane token (so ids correlate across
 * services) that holds no identifier, otherwise a fresh random UUID. A rejected value is dropped,
 * never logged. `policy` is the logger's (its own detectors); without it the built-in detectors.
 */
export function requestIdFrom(incoming: string | readonly string[] | undefined, policy?: Policy): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming
  return isSaneRequestId(value) && !isPhiShapedRequestId(value, policy) ? value : randomUuid()
}
