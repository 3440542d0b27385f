// URL paths: each segment is percent-decoded (tolerating bad encodings), cleaned and run through the
// detectors; a segment holding an identifier is replaced, ordinary ids stay. A segment right after one
// that names an identifier ("/ssn/123456789", "/by-email/…", "/reset-password/<token>") is replaced
// too. Query strings and fragments are dropped: their values are never logged.
import { keyWords } from './keys'
import { MAX_STRING } from './limits'
import { type Compiled, internal, type Policy, PSEUDONYMIZE } from './policy'
import { hmacPseudonym } from './pseudonymize'
import { scrub } from './scrub'
import { clean, F_DIRTY, scan } from './text'

const PCT_RUN = /(?:%[0-9A-Fa-f]{2})+/g

function decodeOnce(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    // Bad sequences stay as they are; the good runs around them are still decoded.
    return s.replace(PCT_RUN, (run) => {
      try {
        return decodeURIComponent(run)
      } catch {
        return run
      }
    })
  }
}

/** Decodes up to twice, so a double-encoded identifier (%2531...) is still seen. */
function decode(s: string): string {
  if (!s.includes('%')) return s
  const once = decodeOnce(s)
  return once.includes('%') ? decodeOnce(once) : once
}

/** Keeps a redacted segment a single segment and readable. */
function encodeSegment(s: string): string {
  return s.replace(/[\s/?#%;]/g, (ch) => encodeURIComponent(ch))
}

/** Category named by a segment such as "ssn", "by-email", "find-by-mrn", "reset-password". */
function segmentCue(decoded: string, c: Compiled): string | null {
  if (decoded.length === 0 || decoded.length > 64) return null
  let words = keyWords(decoded)
  const by = words.indexOf('by')
  if (by !== -1) words = words.slice(by + 1)
  if (words.length === 0) return null
  const joined = words.join('')
  if (joined === 'name' || joined === 'names') return 'name'
  // Plural collection names ("/addresses/42", "/emails/7") are followed by ordinary ids.
  if (joined.endsWith('s') && joined !== 'address' && joined !== 'ss') return null
  return c.judgeKey(words.join('_')).category
}

function replaceWhole(decoded: string, category: string, c: Compiled): string {
  if (c.modeFor(category) === PSEUDONYMIZE && c.key) return hmacPseudonym(c.key, category, decoded)
  return c.maskFor(category) // a path segment is never removed: it would change the route's shape
}

function redactSegment(raw: string, cue: string | null, c: Compiled): string {
  const decoded = decode(raw)
  if (cue !== null && decoded.length > 0) return encodeSegment(replaceWhole(decoded, cue, c))
  // Matrix parameters: "/files;jsessionid=ABC".
  const semi = decoded.indexOf(';')
  if (semi !== -1) {
    const parts = decoded.split(';').map((part, i) => {
      if (i === 0) return scrub(part, c)
      const eq = part.indexOf('=')
      if (eq === -1) return scrub(part, c)
      const category = c.keyVerdict(part.slice(0, eq)).category
      const name = scrub(part.slice(0, eq), c, 128)
      return `${name}=${category !== null ? replaceWhole(part.slice(eq + 1), category, c) : scrub(part.slice(eq + 1), c)}`
    })
    return parts.map(encodeSegment).join(';')
  }
  const redacted = scrub(decoded, c)
  if (redacted !== cleanOf(decoded)) return encodeSegment(redacted)
  // Decoding twice can also destroy an identifier: "%250a%40a.aa" is "%0a@a.aa" (an email whose
  // local part holds a %) once decoded, and no email twice decoded. Look at the middle form too.
  if (raw.includes('%')) {
    const once = decodeOnce(raw)
    if (once !== decoded) {
      const redactedOnce = scrub(once, c)
      if (redactedOnce !== cleanOf(once)) return encodeSegment(redactedOnce)
    }
  }
  return cleanOf(raw) // nothing found: keep the original spelling
}

function cleanOf(s: string): string {
  return scan(s) & F_DIRTY ? clean(s) : s
}

/** Redacts a URL path segment by segment (see above). Never throws. */
export function redactUrlPath(path: string, policy: Policy): string {
  const c = internal(policy)
  if (typeof path !== 'string') return redactPath(path, c)
  // A service logs the same few paths on every request: one comparison when this one was found
  // PHI-free before. Only paths that came out exactly as they went in are remembered (see cache.ts).
  if (c.plainPaths.has(path)) return path
  const out = redactPath(path, c)
  if (out === path) c.plainPaths.add(path)
  return out
}

function redactPath(path: string, c: Compiled): string {
  try {
    let s = typeof path === 'string' ? path : String(path)
    if (s.length > MAX_STRING * 2) s = s.slice(0, MAX_STRING * 2)
    const q = s.search(/[?#]/)
    if (q !== -1) s = s.slice(0, q)
    const segments = s.split('/')
    let cue: string | null = null
    for (let i = 0; i < segments.length; i++) {
      const raw = segments[i]!
      if (raw.length === 0) continue
      // Paths with ids ("/api/v1/patients/12345/notes") are many, but their other segments are the
      // service's own words. One that came out unchanged after a segment naming nothing, and names
      // nothing itself, does so again (the cue stays null): one comparison.
      if (cue === null && c.plainSegments.has(raw)) continue
      const next = segmentCue(decode(raw), c)
      const out = redactSegment(raw, cue, c)
      if (cue === null && next === null && out === raw) c.plainSegments.add(raw)
      segments[i] = out
      cue = next
    }
    const out = segments.join('/')
    return out.length > MAX_STRING ? `${out.slice(0, MAX_STRING - 1)}…` : out
  } catch {
    return '[Unreadable]'
  }
}
