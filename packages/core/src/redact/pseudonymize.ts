// Pseudonyms: a keyed HMAC of the normalised identifier, so one patient's events correlate across
// processes and restarts while the log holds nothing an attacker could enumerate (an unkeyed hash of
// a 9-digit SSN is reversed by trying all 10^9 of them).
import { createHmac } from 'node:crypto'
import { normalizeFor } from './detectors'
import { MAX_PSEUDONYM_INPUT } from './limits'

/** Bytes a pseudonym secret needs at least. */
export const MIN_KEY_BYTES = 16

/** `ps_` + the first 24 hex digits (96 bits) of HMAC-SHA-256(key, normalised value). */
export function hmacPseudonym(
  key: Buffer,
  category: string,
  value: string,
  normalize?: (value: string) => string,
): string {
  let input: string
  try {
    input = normalize ? String(normalize(value)) : normalizeFor(category, value)
  } catch {
    input = normalizeFor(category, value)
  }
  if (input.length > MAX_PSEUDONYM_INPUT) input = input.slice(0, MAX_PSEUDONYM_INPUT)
  return `ps_${createHmac('sha256', key).update(input, 'utf8').digest('hex').slice(0, 24)}`
}

/** The mask for a category: `[REDACTED:<category>]`. */
export function maskOf(category: string): string {
  return `[REDACTED:${category}]`
}
