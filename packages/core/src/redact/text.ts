// String hygiene shared by every path: what a single pass over the characters tells the detectors,
// removal of what could trick a terminal or log viewer, and cutting long strings without leaving half
// an identifier behind.

/** The string has an ASCII digit. */
export const F_DIGIT = 1
/** The string has an `@`. */
export const F_AT = 2
/** The string has an uppercase ASCII letter or any letter beyond Latin-1 (possible capitalised name). */
export const F_UPPER = 4
/** The string holds control characters, lone surrogates, bidi overrides or line separators. */
export const F_DIRTY = 8
/** The string has a `+` (international phone numbers). */
export const F_PLUS = 16
/** Shift for the digit count packed above the flags. */
export const DIGITS_SHIFT = 8

/**
 * One pass over the characters: flags in the low byte, number of ASCII digits above it.
 * Cheaper than a regular expression per question, and it lets most strings skip every detector.
 */
export function scan(s: string): number {
  let f = 0
  let digits = 0
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 65) {
      if (c >= 48) {
        if (c <= 57) digits++
        else if (c === 64) f |= F_AT
      } else if (c < 32) {
        if (c !== 10 && c !== 9) f |= F_DIRTY
      } else if (c === 43) f |= F_PLUS
    } else if (c <= 90) {
      f |= F_UPPER
    } else if (c >= 127) {
      if (c <= 0x9f) f |= F_DIRTY
      else if (c >= 0xd800 && c <= 0xdfff) {
        // A well-formed pair is fine; anything else is a lone surrogate.
        if (c <= 0xdbff && i + 1 < n) {
          const d = s.charCodeAt(i + 1)
          if (d >= 0xdc00 && d <= 0xdfff) {
            i++
            continue
          }
        }
        f |= F_DIRTY
      } else if (
        c === 0x2028 ||
        c === 0x2029 ||
        (c >= 0x202a && c <= 0x202e) ||
        (c >= 0x2066 && c <= 0x2069)
      ) {
        f |= F_DIRTY
      } else if (c >= 0xc0) {
        f |= F_UPPER
      }
    }
  }
  if (digits > 0) f |= F_DIGIT
  return f | (digits << DIGITS_SHIFT)
}

// ANSI/VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), two-character ESC forms,
// and the 8-bit CSI. They are removed whole so that no colour, cursor move or hyperlink survives.
const ANSI =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?|[@-Z\\-_])|\x9b[0-?]*[ -/]*[@-~]?/g
// Remaining C0 (except \t \n), DEL, C1 controls and bidi embedding/override/isolate characters.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g
// Line and paragraph separators: JSON.stringify leaves them raw and some viewers break lines on them.
const LINE_SEPARATORS = /[\u2028\u2029]/g

interface WellFormed {
  isWellFormed(): boolean
  toWellFormed(): string
}

/** Makes a string safe to show: lone surrogates become U+FFFD, escapes and control characters go. */
export function clean(s: string): string {
  if (!(s as unknown as WellFormed).isWellFormed()) s = (s as unknown as WellFormed).toWellFormed()
  return s.replace(ANSI, '').replace(CONTROL, '').replace(LINE_SEPARATORS, ' ')
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 0x3000 || c === 0xa0
}

/**
 * Cuts `s` to at most `max` characters, backing off to the start of the token (run of non-space
 * characters) the cut would split, unless that token is very long (a base64 blob, say), and never
 * splitting a surrogate pair. Trailing spaces go.
 */
export function cutAt(s: string, max: number): string {
  if (max <= 0) return ''
  let end = Math.min(max, s.length)
  if (end < s.length && !isSpace(s.charCodeAt(end))) {
    let i = end
    const floor = Math.max(0, end - 64)
    while (i > floor && !isSpace(s.charCodeAt(i - 1))) i--
    if (i > floor || i === 0) end = i
  }
  const last = s.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  while (end > 0 && isSpace(s.charCodeAt(end - 1))) end--
  return s.slice(0, end)
}
