// A pseudonym and its clear value never appear together (DESIGN.md "PHI redaction"). The clear ids a
// request or call pseudonymises (route parameters, `resource.id` of access events) are opaque
// (`p-1001`, UUIDs): no value detector knows them. Once one is pseudonymised, the same value anywhere
// else in the records of that request or call (a message, an error message, a reason, details, a db
// error) would link pseudonym and identity for every other record of that patient. So it is replaced
// there by its pseudonym (or by the mask when there is no key).
//
// The matching rule (documented in docs/events.md, "Clear ids next to pseudonyms"):
// - an id matches as a whole token, case-insensitively: the occurrence is neither preceded nor followed
//   by an ASCII letter or digit (`chart p-1001.`, `id=p-1001`, `"p-1001"` match; `p-10012` and
//   `xp-1001` do not). An id inside a longer token is a different value, not this id.
//   Separators such as `-`, `_`, `.`, `/` count as boundaries, so an id that is part of a larger
//   compound (`1001` in `p-1001`) is also replaced: over-redaction, on the safe side;
// - all-digit ids also match with leading zeros (`0042` for `42`);
// - ids shorter than MIN_TOKEN_LENGTH characters (`1`, `42`) are too common as tokens (counts, line
//   numbers, versions) for a replacement to be meaningful: a string in which one occurs as a token is
//   replaced whole by the mask;
// - pseudonyms (`ps_…`) and masks (`[REDACTED:…]`) already in the text are left alone;
// - at most MAX_LINKED_IDS ids per request: beyond that every string the walk looks at is masked whole.
import { maskOf } from './pseudonymize'

/** Ids shorter than this mask the whole string they occur in, instead of being replaced as a token. */
export const MIN_TOKEN_LENGTH = 3
/** Distinct ids remembered per request or call; more (a bulk export) masks every scanned string. */
export const MAX_LINKED_IDS = 256
/** Ids longer than this are not matched in text (no identifier is; a path segment may be). */
const MAX_ID_LENGTH = 512

const MASK = maskOf('resource')
/** Up to this many ids, a text is first checked for each id as a substring (cannotMatch). */
const PREFILTER_IDS = 4
const ASCII = /^[\x20-\x7e]*$/
// A pseudonym (either form) or a mask: kept as it is, never searched for ids.
const PROTECTED = String.raw`ps_(?:[0-9a-f]{6}_)?[0-9a-f]{24}|\[REDACTED:[A-Za-z0-9_]{1,32}\]`

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The form an id is looked up by after a match: lower case, all-digit ids without leading zeros. */
function lookupKey(value: string): string {
  if (/^[0-9]+$/.test(value)) {
    const stripped = value.replace(/^0+/, '')
    return stripped.length > 0 ? stripped : '0'
  }
  return value.toLowerCase()
}

/** The clear ids of one request or call and what replaces them. Not shared across requests. */
export class LinkedIds {
  // Created with the first id: most requests link none, and a Map per request is measurable.
  private replacements: Map<string, string> | undefined
  private pattern: RegExp | undefined
  private dirty = false
  /** More ids than MAX_LINKED_IDS were seen: every scanned string is masked. */
  overflow = false

  get size(): number {
    return this.replacements?.size ?? 0
  }

  /** The replacement already known for a clear id (route parameters are pseudonymised once). */
  replacementOf(clear: string): string | undefined {
    return this.replacements?.get(lookupKey(clear.trim()))
  }

  /** Remembers that `clear` was written as `replacement` (its pseudonym, or the mask). */
  add(clear: unknown, replacement: string): void {
    if (typeof clear !== 'string' && typeof clear !== 'number') return
    const value = String(clear).trim()
    if (value.length === 0 || value.length > MAX_ID_LENGTH) return
    const key = lookupKey(value)
    this.replacements ??= new Map()
    const replacements = this.replacements
    if (replacements.has(key)) return
    if (replacements.size >= MAX_LINKED_IDS) {
      this.overflow = true
      return
    }
    replacements.set(key, replacement)
    this.dirty = true
  }

  /**
   * True when no id can occur in `text`, so that the pattern need not be built nor run: an event
   * outside any request (a job's `audit.access()`) gets a fresh LinkedIds, and compiling its pattern
   * was most of such an event's cost. Only for a few ASCII ids: an ASCII id matches (the pattern is
   * case-insensitive, not Unicode-aware) only ASCII text that lower-cases to it, so if the lower-cased
   * text does not contain the id, the pattern cannot match it; `0*` before an all-digit id keeps the
   * id itself in the match. Anything else says "maybe" and runs the pattern.
   */
  private cannotMatch(text: string): boolean {
    const replacements = this.replacements
    if (replacements === undefined || replacements.size > PREFILTER_IDS) return false
    let lower: string | undefined
    for (const id of replacements.keys()) {
      if (!ASCII.test(id)) return false
      lower ??= text.toLowerCase()
      if (lower.includes(id)) return false
    }
    return true
  }

  private regex(): RegExp | undefined {
    if (this.dirty || this.pattern === undefined) {
      this.dirty = false
      if (this.replacements === undefined || this.replacements.size === 0) return undefined
      // Longest first, so that `p-1001` wins over `1001` at the same position.
      const ids = [...this.replacements.keys()].sort((a, b) => b.length - a.length)
      const alternatives = ids.map((id) => (/^[0-9]+$/.test(id) ? `0*${id}` : escapeRegExp(id)))
      this.pattern = new RegExp(
        `(${PROTECTED})|(?<![A-Za-z0-9])(?:${alternatives.join('|')})(?![A-Za-z0-9])`,
        'gi',
      )
    }
    return this.pattern
  }

  /** `text` with every clear id replaced (see the rule above). Never throws. */
  replaceIn(text: string): string {
    if (this.overflow) return MASK
    if (text.length === 0 || this.cannotMatch(text)) return text
    const re = this.regex()
    if (re === undefined) return text
    try {
      let maskWhole = false
      re.lastIndex = 0
      const out = text.replace(re, (match: string, kept: string | undefined) => {
        if (kept !== undefined) return match
        const key = lookupKey(match)
        if (key.length < MIN_TOKEN_LENGTH) maskWhole = true
        return this.replacements?.get(key) ?? MASK
      })
      return maskWhole ? MASK : out
    } catch {
      return MASK
    }
  }

  /**
   * Replaces clear ids in the parts of a built record that hold text the service derived from them:
   * message, event.reason, error, url, db (but not its normalised statement, which holds no literals),
   * audit (but not integrity or resource), anything else an event may carry. Not in: the actor
   * (`user`: who did it stays exact), client-supplied request facts (user agent, headers, addresses,
   * request and trace ids: a client cannot learn from them what it did not send), time, service and
   * event vocabulary. Changes strings in place; keys and types stay (the record stays canonical).
   */
  scrubRecord(record: Record<string, unknown>): void {
    if (this.size === 0 && !this.overflow) return
    for (const key of Object.keys(record)) {
      if (SKIP_TOP.has(key)) continue
      const value = record[key]
      if (value === undefined || value === null) continue
      try {
        if (key === 'event') this.scrubKeys(value, EVENT_TEXT)
        else if (key === 'db') this.scrubExcept(value, DB_SKIP)
        else if (key === 'audit') this.scrubExcept(value, AUDIT_SKIP)
        else record[key] = this.scrubValue(value, 0)
      } catch {
        // a frozen object the caller handed in: left as it is rather than failing the event
      }
    }
  }

  private scrubKeys(obj: unknown, keys: readonly string[]): void {
    if (obj === null || typeof obj !== 'object') return
    const o = obj as Record<string, unknown>
    for (const k of keys) if (typeof o[k] === 'string') o[k] = this.replaceIn(o[k] as string)
  }

  private scrubExcept(obj: unknown, skip: ReadonlySet<string>): void {
    if (obj === null || typeof obj !== 'object') return
    const o = obj as Record<string, unknown>
    for (const k of Object.keys(o)) if (!skip.has(k)) o[k] = this.scrubValue(o[k], 1)
  }

  private scrubValue(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.replaceIn(value)
    if (value === null || typeof value !== 'object' || depth > 8) return value
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.scrubValue(value[i], depth + 1)
      return value
    }
    const o = value as Record<string, unknown>
    for (const k of Object.keys(o)) o[k] = this.scrubValue(o[k], depth + 1)
    return value
  }
}

const SKIP_TOP = new Set([
  '@timestamp',
  'ecs.version',
  'log.level',
  'service',
  'trace',
  'span',
  'source',
  'client',
  'user',
  'user_agent',
  'server',
  // http.route is the app's template, http.request the client's own facts; the rest are numbers
  'http',
])
const EVENT_TEXT = ['reason'] as const
const DB_SKIP = new Set(['query', 'system', 'operation', 'response'])
const AUDIT_SKIP = new Set(['integrity', 'resource', 'session', 'truncated'])
