// String hygiene shared by every path: what one pass over the characters tells the detectors, removal
// of what could trick a terminal or log viewer, and cutting long strings without leaving half an
// identifier behind.

/**
 * Anything a built-in detector or the cleaner could act on: a digit, `@`, `+`, an uppercase letter, a
 * control character or anything beyond ASCII. Strings without any ("success", "patient-record-read")
 * skip the scan and every detector after this one native test.
 */
export const INTERESTING = /[0-9@+A-Z\x00-\x08\x0b-\x1f\x7f-\uffff]/

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
/** An integer followed by spaces and a capital or a number ("123 Main", "12 5th"): maybe a street address. */
export const F_ADDR = 32
/** A name cue may be present: "name", "patient", or an honorific (Mr, Mrs, Ms, Miss, Mx, Dr). */
export const F_NAMECUE = 64
/** A word starting like an MRN / date-of-birth / PO box cue: mrn, med(ical), chart, pat(ient), dob, d.o.b, birth, born, box. */
export const F_CUE = 128
/** Shift of the longest numeric run (digits joined by at most two of `space - . ( )`), capped at 255. */
export const RUN_SHIFT = 8

/** Longest numeric run of a `scan()` result. */
export const runOf = (info: number): number => info >>> RUN_SHIFT

const lower = (c: number) => c | 32

/** Cue flags for a word starting at i with (lowercased) letter c. */
function wordCue(s: string, i: number, c: number, upper: boolean): number {
  // Reading past the end gives NaN, which makes V8 drop its fast path for the whole loop: check first.
  if (i + 2 >= s.length) return 0
  const a = lower(s.charCodeAt(i + 1))
  const b = lower(s.charCodeAt(i + 2))
  switch (c) {
    case 109: // m: mrn, med; Mr Mrs Ms Mx Miss Mister
      if ((a === 114 && b === 110) || (a === 101 && b === 100)) return F_CUE
      if (upper) {
        const d = s.charCodeAt(i + 1)
        if (d === 114 || d === 115 || d === 120 || d === 105) return F_NAMECUE
      }
      return 0
    case 112: // p: pat(ient)
      return a === 97 && b === 116 ? F_CUE | F_NAMECUE : 0
    case 110: // n: nam(e)
      return a === 97 && b === 109 ? F_NAMECUE : 0
    case 99: // c: cha(rt)
      return a === 104 && b === 97 ? F_CUE : 0
    case 100: // d: dob, d.o(.b); Dr
      if ((a === 111 && b === 98) || (a === 46 && b === 111)) return F_CUE
      return upper && s.charCodeAt(i + 1) === 114 ? F_NAMECUE : 0
    case 98: // b: bir(th), bor(n), box
      return a === 105 || a === 111 ? F_CUE : 0
    default:
      return 0
  }
}

/**
 * One pass over the characters: flags in the low byte, the longest numeric run above them. A native
 * regular expression per question costs as much as this whole loop, and the flags let most strings
 * skip every detector: an SSN needs a run of 9 digits, a phone number 10, a card 13, a street address
 * an integer followed by a capitalised word, a name or MRN a cue word.
 */
export function scan(s: string): number {
  let f = 0
  let run = 0
  let maxRun = 0
  let seps = 0
  // 0: nothing, 1: in an integer (or right after it: "5th", "12B"), 2: integer + spaces,
  // 3: in a number that is not a house number (after '.', '/', ':': decimals, versions, times).
  let addr = 0
  let prevLower = false
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 97 && c <= 122) {
      if (!prevLower && (c === 109 || c === 112 || c === 110 || c === 99 || c === 100 || c === 98)) {
        f |= wordCue(s, i, c, false)
      }
      prevLower = true
      run = 0
      seps = 0
      if (addr !== 1) addr = 0
      continue
    }
    prevLower = false
    if (c >= 48 && c <= 57) {
      f |= F_DIGIT
      run++
      seps = 0
      if (run > maxRun) maxRun = run
      if (addr === 2) {
        f |= F_ADDR
        addr = 1
      } else if (addr === 0) {
        const p = i > 0 ? s.charCodeAt(i - 1) : 32
        addr = p === 46 || p === 47 || p === 58 ? 3 : 1
      }
      continue
    }
    if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 9) {
      // space - . ( ) and tab join the groups of a number ("(555) 123-4567", "4111 1111 ...").
      if (run > 0 && ++seps > 2) {
        run = 0
        seps = 0
      }
      if (c === 32 || c === 9) addr = addr === 1 || addr === 2 ? 2 : 0
      else addr = addr === 1 && c === 46 ? 3 : addr === 3 ? 3 : 0
      continue
    }
    run = 0
    seps = 0
    if (c >= 65 && c <= 90) {
      f |= F_UPPER
      if (addr === 2) f |= F_ADDR
      addr = addr === 1 ? 1 : 0 // a letter right after a number ("12B") keeps it going
      if (c === 77 || c === 80 || c === 78 || c === 67 || c === 68 || c === 66)
        f |= wordCue(s, i, c | 32, true)
      continue
    }
    addr = 0
    if (c < 32) {
      if (c !== 10) f |= F_DIRTY
    } else if (c === 64) f |= F_AT
    else if (c === 43) f |= F_PLUS
    else if (c >= 127) {
      if (c <= 0x9f) f |= F_DIRTY
      else if (c >= 0xd800 && c <= 0xdfff) {
        // A well-formed pair is fine (and may be a letter of a name); anything else is a lone surrogate.
        if (c <= 0xdbff && i + 1 < n) {
          const d = s.charCodeAt(i + 1)
          if (d >= 0xdc00 && d <= 0xdfff) {
            i++
            f |= F_UPPER
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
        // Letters beyond ASCII: a capitalised name may start here; a lowercase one continues a word.
        f |= F_UPPER
        prevLower = true
      }
    }
  }
  return f | (Math.min(maxRun, 255) << RUN_SHIFT)
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
