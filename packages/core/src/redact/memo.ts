// Strings that redaction returned unchanged, remembered per compiled policy. In a service the same few
// texts recur on almost every event ("/hello", "/patients/:id", action names, user agents, roles), and
// redacting one is a pure function of the string and the policy: a string found PHI-free once is
// PHI-free again, so the second time costs one comparison instead of the scan and the detectors.
// (A user detector's `validate` is taken to be pure, as a checksum is.)
//
// Only strings whose output was exactly the input are kept, so a memo never holds an identifier that a
// detector found, nor the text that replaced it (those are recomputed every time). Bounded and
// allocation-free: a slot per hash of length and three characters holds one string, a newer string
// takes the slot of an older one, and long strings are never kept.

/** A memo: one remembered string per slot ('' when empty; the empty string is never looked up). */
export type Memo = string[]

/** Longest string remembered; longer ones are rarely repeated and costly to compare. */
export const MEMO_LENGTH = 256

/** A memo of `slots` slots (a power of two). */
export function newMemo(slots: number): Memo {
  return new Array<string>(slots).fill('')
}

/** The slot of a string of length n (1 ≤ n): length, first, middle and last characters. */
export function slotOf(m: Memo, s: string, n: number): number {
  return (n * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(n >> 1) * 3 + s.charCodeAt(n - 1)) & (m.length - 1)
}

/** True when `s` was remembered as unchanged by the redaction this memo belongs to. */
export function known(m: Memo, s: string): boolean {
  const n = s.length
  return n > 0 && n <= MEMO_LENGTH && m[slotOf(m, s, n)] === s
}

/**
 * Remembers `s`, which the redaction this memo belongs to returned exactly as it was. A copy is kept,
 * not `s` itself: `s` may be a slice of a larger string (Express's `req.path` is one of `req.url`,
 * query string included), which the memo would otherwise keep in memory, PHI and all, for as long
 * as the slot lasts. Copying happens once per remembered string, never on a hit.
 */
export function remember(m: Memo, s: string): void {
  const n = s.length
  if (n > 0 && n <= MEMO_LENGTH) m[slotOf(m, s, n)] = ownCopy(s)
}

/** A string with its own storage: concatenation then slice makes V8 copy the characters into a new one. */
function ownCopy(s: string): string {
  return ` ${s}`.slice(1)
}
