import type { IncomingHttpHeaders } from 'node:http'

/**
 * Request headers logged by default. Everything else is dropped: headers are allow-listed, never
 * deny-listed. `user-agent` has its own field (`user_agent.original`) and the request id its own
 * (`http.request.id`, after validation), so neither is repeated here.
 */
export const DEFAULT_HEADER_ALLOW_LIST: readonly string[] = Object.freeze([
  'accept',
  'content-type',
  'content-length',
  'content-encoding',
  'host',
  'origin',
  'x-forwarded-proto',
  'x-forwarded-host',
])

// Never logged, even when an option lists them: credentials and session material.
const FORBIDDEN_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-amz-security-token',
  'x-goog-iap-jwt-assertion',
  'cf-access-jwt-assertion',
])

// Names that look like credentials or identifiers in any vendor's spelling (x-auth-token,
// x-csrf-token, x-client-secret, x-session-id, x-auth-request-email, ...). Fail safe: refuse them.
const FORBIDDEN_PATTERN = /auth|token|secret|passw|session|cookie|api[-_]?key|credential|signature|jwt|email/

// RFC 9110 field-name token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** Most characters kept of one header value. */
export const MAX_HEADER_VALUE_LENGTH = 256

/** Why a header name cannot be allow-listed, or undefined when it can. */
export function headerRefusal(name: string): string | undefined {
  if (!HEADER_NAME.test(name)) return 'is not a valid header name'
  if (FORBIDDEN_HEADERS.has(name) || FORBIDDEN_PATTERN.test(name)) {
    return 'carries credentials or identifiers and is never logged'
  }
  return undefined
}

/**
 * Builds the allow-list: the defaults plus `extra`. Throws a TypeError naming the option when an
 * entry is not a valid header name or is a credential header (listing `authorization` is a mistake
 * the caller should hear about, not a silent no-op).
 */
export function compileHeaderAllowList(extra: unknown, optionName = 'headers'): readonly string[] {
  const names = new Set(DEFAULT_HEADER_ALLOW_LIST)
  // Sorted: pickHeaders then lists the headers it picks in the order a record's keys must have,
  // and the event builder need not sort them again per request.
  if (extra === undefined) return [...names].sort()
  if (!Array.isArray(extra)) {
    throw new TypeError(`boundary-audit: ${optionName} must be an array of header names; got ${typeof extra}`)
  }
  for (const entry of extra) {
    if (typeof entry !== 'string') {
      throw new TypeError(`boundary-audit: ${optionName} entries must be strings; got ${typeof entry}`)
    }
    const name = entry.trim().toLowerCase()
    const refusal = headerRefusal(name)
    if (refusal) {
      throw new TypeError(
        `boundary-audit: ${optionName} entry '${entry}' ${refusal}; remove it from the allow-list`,
      )
    }
    names.add(name)
  }
  return [...names].sort()
}

/** The allow-listed request headers, values capped in length and multi-values joined with `, `. */
export function pickHeaders(
  headers: IncomingHttpHeaders,
  allowList: readonly string[],
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const name of allowList) {
    const raw = headers[name]
    if (raw === undefined) continue
    let value = Array.isArray(raw) ? raw.join(', ') : raw
    if (value.length > MAX_HEADER_VALUE_LENGTH) value = value.slice(0, MAX_HEADER_VALUE_LENGTH)
    if (out === undefined) out = {}
    out[name] = value
  }
  return out
}
