// PHI redaction engine of @boundary-audit/core: key layer, value detectors, modes, hostile-input walk.
import { describeWith, type ErrorDescription } from './errors'
import { internal, type Policy } from './policy'
import { hmacPseudonym, maskOf } from './pseudonymize'
import { scrub } from './scrub'

export { BUILTIN_NAMES, OPT_IN_NAMES } from './detectors'
export type { ErrorDescription } from './errors'
export type { Policy } from './policy'
export { compilePolicy } from './policy'
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
 * `ps_` + 24 hex digits of HMAC-SHA-256(key, value normalised for the category); `[REDACTED:<category>]`
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
