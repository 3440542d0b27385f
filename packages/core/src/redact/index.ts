// PHI redaction engine of @boundary-audit/core (DESIGN.md "PHI redaction").
//
// - Key layer (keys.ts): object keys naming an identifier (ssn, dob, email, phone, address, names,
//   mrn, member/account/license/plate/serial/device ids, cards, credentials, session ids) after
//   normalising case and separators, including suffix forms (patientEmail, homePhone); name / id under
//   a person (patient, member, contact ...). Their strings, numbers, objects and arrays are replaced
//   whole; booleans and null stay.
// - Value layer (detectors.ts): SSN (SSA rules), email, phone (NANP, E.164), card (issuer + Luhn), and
//   cue-gated MRN, date of birth, person name, street address; IP and zip are opt-in. A one-pass
//   character scan (text.ts) decides which expressions run at all.
// - Modes (policy.ts): mask `[REDACTED:<category>]`, remove, pseudonymize `ps_<kid>_<24 hex>` (HMAC-SHA-256,
//   keyed, naming its key; masks without a key, with one start-up warning). Credentials are never pseudonymised.
// - The walk (walk.ts) is also the sanitiser for hostile input: it never throws and bounds depth (8),
//   keys (100), items (100), string length (2048), values (5000) and characters per call.
// Known limits: numbers outside PHI keys are not scanned; bare names, dates and ids without a cue word
// or a PHI key are indistinguishable from ordinary text and are kept.
import { describeWith, type ErrorDescription } from './errors'
import { internal, type Policy } from './policy'
import { hmacPseudonym, maskOf } from './pseudonymize'
import { scrub, scrubWhole } from './scrub'

export { BUILTIN_NAMES, OPT_IN_NAMES } from './detectors'
export type { ErrorDescription } from './errors'
export type { Policy } from './policy'
export { compilePolicy, NO_PSEUDONYM_KEY_WARNING } from './policy'
export {
  hmacPseudonym,
  loadPseudonymKey,
  type ParsedPseudonym,
  type PseudonymKey,
  parsePseudonym,
  pseudonymKeyId,
  pseudonymMatches,
  readerPseudonymKeys,
} from './pseudonymize'
export { redactUrlPath } from './url'
export { redact } from './walk'

/** Free text through the value detectors (messages, reasons, SQL leftovers); sanitised and capped. */
export function redactText(text: string, policy: Policy): string {
  const c = internal(policy)
  try {
    return scrub(typeof text === 'string' ? text : String(text), c)
  } catch {
    return '[Unreadable]'
  }
}

/**
 * True when the detectors find an identifier in a short token (a request id). Not remembered in the
 * policy's memo of PHI-free texts: a value seen once (a request id) would only push out recurring ones.
 */
export function hasIdentifier(text: string, policy: Policy | undefined): boolean {
  try {
    const s = String(text).slice(0, 1024)
    return scrubWhole(s, internal(policy)) !== s
  } catch {
    return true
  }
}

/**
 * `ps_<kid>_` + 24 hex digits of HMAC-SHA-256(key, value normalised for the category); `[REDACTED:<category>]`
 * when the policy has no key. Stable across processes that share the key. Never an unkeyed hash.
 */
export function pseudonymize(value: string, policy: Policy, category: string): string {
  const c = internal(policy)
  const cat = typeof category === 'string' && /^[a-z0-9_]{1,32}$/.test(category) ? category : 'id'
  try {
    if (!c.key) return maskOf(cat)
    return hmacPseudonym(c.key, cat, typeof value === 'string' ? value : String(value))
  } catch {
    return maskOf(cat)
  }
}

/** `{ type, message?, code? }` of anything thrown: message through the detectors, never the stack. */
export function describeError(err: unknown, policy: Policy): ErrorDescription {
  return describeWith(err, internal(policy))
}
