// Free text through the value layer: sanitise, cap, then run the detectors whose gate the string
// passes. Most log strings ("success", "GET", "/patients/:id") leave after one character scan.
import { MAX_STRING } from './limits'
import { type Compiled, MASK, PSEUDONYMIZE, type RunDetector } from './policy'
import { hmacPseudonym } from './pseudonymize'
import { clean, cutAt, F_DIRTY, INTERESTING, runOf, scan } from './text'

/** Characters scanned beyond the cap, so an identifier crossing the cut is still seen whole. */
const LOOKAHEAD = 256
/** What is dropped from the end of a cut window: it may hold the first half of an identifier. */
const TAIL = 128

function accepts(d: RunDetector, value: string): boolean {
  if (!d.validate) return true
  try {
    return d.validate(value) !== false
  } catch {
    return true // a user check that throws cannot vouch for the text: redact it
  }
}

function replacement(value: string, d: RunDetector, c: Compiled): string {
  if (d.mode === MASK) return d.mask
  if (d.mode === PSEUDONYMIZE && c.key) return hmacPseudonym(c.key, d.name, value, d.normalize)
  return d.mode === PSEUDONYMIZE ? d.mask : ''
}

function apply(s: string, d: RunDetector, c: Compiled): string {
  d.re.lastIndex = 0
  if (d.prefixed) {
    return s.replace(d.re, (m: string, pre: string, value: string) =>
      accepts(d, value) ? pre + replacement(value, d, c) : m,
    )
  }
  return s.replace(d.re, (m: string) => (accepts(d, m) ? replacement(m, d, c) : m))
}

/** Runs the detectors on an already clean string; `info` is its `scan()` result. */
export function detect(s: string, info: number, c: Compiled): string {
  const run = runOf(info)
  const list = c.detectors
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!
    if ((info & d.need) !== d.need || run < d.minRun) continue
    try {
      s = apply(s, d, c)
    } catch {
      // A user expression can fail (stack overflow on a pathological pattern): mask the whole text.
      return d.mask
    }
  }
  return s
}

/** Sanitises and redacts a string short enough to be kept whole. */
export function scrubWhole(s: string, c: Compiled): string {
  if (!INTERESTING.test(s)) return c.userDetectors ? detect(s, 0, c) : s
  const info = scan(s)
  return detect(info & F_DIRTY ? clean(s) : s, info, c)
}

/** Sanitises, caps at `max` characters and redacts one string. Never throws for string input. */
export function scrub(s: string, c: Compiled, max: number = MAX_STRING): string {
  if (s.length <= max) {
    // Events repeat most of their strings (user agents, actor ids, roles, routes), nearly all PHI-free.
    // Below the cap the result does not depend on `max`, so one memo serves every caller.
    if (c.plainTexts.has(s)) return s
    const out = scrubWhole(s, c)
    // Never a string something was found in: that one is redacted again next time rather than kept
    // in memory with its identifier.
    if (out === s) c.plainTexts.add(s)
    return out
  }
  // Only the head of a long string is ever looked at, so a 10 MB string costs what 2 KB do.
  const cutWindow = s.length > max + LOOKAHEAD
  let w = s.slice(0, max + LOOKAHEAD)
  const info = scan(w)
  if (info & F_DIRTY) w = clean(w)
  w = detect(w, info, c)
  const keep = cutWindow ? Math.min(max - 1, w.length - TAIL) : max - 1
  return `${cutAt(w, keep)}…`
}
